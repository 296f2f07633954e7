"""Settings: ``leadlens.toml`` or ``[tool.leadlens]`` in ``pyproject.toml``; CLI flags override.

Every default leadlens has is written here once. The file keeps flat keys (``bot_pattern``,
``github_api_url``, ...); code reads typed sections (``settings.github``, ``settings.dora``, ...)
so that a call takes one section, not a dozen keyword arguments.
"""


from leadlens.config.defaults import *  # noqa: F403
from leadlens.config.defaults import __all__ as _defaults
from leadlens.config.sections import *  # noqa: F403
from leadlens.config.sections import __all__ as _sections
from leadlens.config.settings import Settings, load_settings

__all__ = [*_defaults, *_sections, "Settings", "load_settings"]
