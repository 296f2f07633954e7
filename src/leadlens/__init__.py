"""leadlens: measure a software team's delivery pipeline end to end."""

__all__ = ["__version__"]

__version__ = "0.1.0"
