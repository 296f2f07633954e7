"""The report: the analyses' figures assembled into one document, rendered for the terminal, HTML and JSON."""
