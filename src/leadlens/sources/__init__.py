"""Sources: one subpackage per system leadlens reads; each is client + mapping + source."""

__all__ = ["SOURCES"]

# The sources `leadlens ingest` offers; docs/sources.md documents each (tests check it).
SOURCES: dict[str, str] = {
    "git": "a local git repository: commits, files, refs, tags and optional line history",
    "github": "the GitHub API (or recorded API objects): pull requests, reviews, comments, PR commits,"
              " checks and workflow runs, deployments, releases, issues",
    "jira": "the Jira API, Cloud or Data Center (or recorded API objects): issues with changelogs,"
            " comments, worklogs, remote and issue links; statuses, issue types, sprints, users",
}
