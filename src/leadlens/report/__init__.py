"""The report: metrics assembled into one document, rendered for the terminal, HTML and JSON."""
