"""The Jira source: Cloud and Data Center issues, changelogs and what goes with them."""
