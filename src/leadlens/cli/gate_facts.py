"""The facts of one change for ``leadlens gate``: from git (``--base --head``, reviews from
trailers and the store) or from a pull request (``--github``). Sources give plain data; this turns
it into the policy's :class:`ChangeFacts`. Unknown stays None (docs/gate.md, "What the gate reads").
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from leadlens.attribution import CommitText, PullRequestText, Rules
from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.errors import UserError
from leadlens.policy.model import Approval, ChangeFacts, Check, CommitFacts, FileChange

if TYPE_CHECKING:
    import httpx

__all__ = ["Gathered", "approvals_of", "git_facts", "github_facts", "pick_policy"]

# Trailers that record a review in the commit itself (kernel and Gerrit practice).
REVIEW_TRAILERS = ("reviewed-by", "approved-by")


@dataclass
class Gathered:
    facts: ChangeFacts
    notes: list[str]
    policy_text: tuple[str, str] | None = None  # (path, text) of the policy at the base, if read


def _commit_facts(sha: str, author: str, committer: str, message: str,
                  trailers: tuple[tuple[str, str], ...], at: datetime | None, rules: Rules
                  ) -> CommitFacts:
    text = CommitText.of_message(author, committer, message)
    evidence = rules.classify(text)
    return CommitFacts(
        sha=sha, author=author, message=message, trailers=trailers,
        ai_assisted=bool(evidence),
        ai_tool=rules.tool_of((e.rule, e.tool) for e in evidence) if evidence else None,
        committed_at=at,
    )


def _trailer_approvals(commits: Iterable[CommitFacts], bots: BotRule) -> list[Approval]:
    seen: dict[str, Approval] = {}
    for c in commits:
        for key, value in c.trailers:
            if key.lower() in REVIEW_TRAILERS and value.strip():
                name = value.strip()
                seen.setdefault(name.lower(), Approval(
                    reviewer=name, at=None, after_last_push=None,
                    is_bot=bots.matches(name.split(" <", 1)[0]),
                    is_ai=bots.is_ai_reviewer(name.split(" <", 1)[0])))
    return list(seen.values())


Review = tuple[str, str, "datetime | None", "str | None", bool]  # login, state, at, commit, bot


def approvals_of(reviews: Sequence[Review], head_sha: str,
                 bots: BotRule) -> list[Approval]:
    """GitHub's reading of reviews: each reviewer's latest APPROVED / CHANGES_REQUESTED /
    DISMISSED review stands (COMMENTED ones change nothing); an approval is after the last push
    when it reviewed the head commit. ``reviews``: (login, state, at, commit_id, is_bot), oldest
    first."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review[1] in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review[0].lower()] = review
    out = []
    for login, state, at, commit_id, flagged in latest.values():
        if state != "APPROVED":
            continue
        out.append(Approval(
            reviewer=login, at=at,
            after_last_push=None if not commit_id or not head_sha else commit_id == head_sha,
            is_bot=bots.matches(login, flagged), is_ai=bots.is_ai_reviewer(login)))
    return out


def _change_ai(commits: Sequence[CommitFacts]) -> bool | None:
    return any(c.ai_assisted for c in commits) if commits else None


def git_facts(path: Path, base: str, head: str, settings: Settings,
              store: Path | None) -> Gathered:
    """``git diff BASE...HEAD`` and ``git log BASE..HEAD`` in ``path``; approvals from review
    trailers and from the store's pull request of HEAD, when the store exists and has one."""
    from leadlens.sources.git import diff
    from leadlens.sources.git.client import check_git, open_repo

    check_git()
    repo = open_repo(path)
    base_sha = diff.resolve(repo, base, "--base")
    head_sha = diff.resolve(repo, head, "--head")
    rules, bots = Rules.of(settings.ai), BotRule.of(settings.bots)
    files = tuple(FileChange(path=f.path, added=f.added, deleted=f.deleted, status=f.status,
                             old_path=f.old_path, added_lines=f.added_lines)
                  for f in diff.files(repo, base_sha, head_sha))
    commits = tuple(_commit_facts(c.sha, c.author, c.committer, c.message, c.trailers,
                                  c.committed_at, rules) for c in diff.commits(repo, base_sha, head_sha))
    notes: list[str] = []
    approvals: list[Approval] | None = _trailer_approvals(commits, bots) or None
    labels: tuple[str, ...] | None = None
    if store is not None and store.is_file():
        from leadlens.store import open_store
        from leadlens.store.pulls import pull_for_head

        with open_store(store, read_only=True) as st:
            pull = pull_for_head(st, head_sha)
        if pull is not None:
            notes.append(f"reviews and labels from the store: {pull.repo}#{pull.number}")
            labels = pull.labels
            approvals = [*(approvals or ()), *approvals_of(
                [(r.reviewer, r.state, r.at, r.commit_id, r.is_bot) for r in pull.reviews],
                head_sha, bots)]
    if approvals is None:
        notes.append("no review data: no Reviewed-by/Approved-by trailers and no stored pull"
                     " request of HEAD, so approval rules are unknown")
    texts = diff.blobs(repo, base_sha, [*diff.CODEOWNERS_PATHS, *(n for n, _ in POLICY_FILES)])
    owners_path, owners = diff.codeowners(texts)
    policy = pick_policy(texts.get)
    return Gathered(ChangeFacts(
        id=f"{base}...{head}", repo=None, author=commits[0].author if commits else None,
        files=files, commits=commits, approvals=tuple(approvals) if approvals is not None else None,
        checks=None, labels=labels, ai_assisted=_change_ai(commits),
        codeowners=owners, codeowners_path=owners_path), notes, policy)


# Where the policy is read from, in load_policy's order (docs/policy.md): the file and the table.
POLICY_FILES = (("leadlens.toml", ("policy",)), (".leadlens/policy.toml", ()),
                ("pyproject.toml", ("tool", "leadlens", "policy")))


def pick_policy(read: Callable[[str], str | None]) -> tuple[str, str] | None:
    """(path, text) of the policy among the files ``read`` gives (None: no such file), in
    ``load_policy``'s order; a policy in both leadlens.toml and .leadlens/policy.toml is refused."""
    found: list[tuple[str, str]] = []
    for name, table in POLICY_FILES:
        text = read(name)
        if text is not None and (not table or _has_table(text, table)):
            found.append((name, text))
    if len(found) > 1 and found[0][0] == "leadlens.toml" and found[1][0] == ".leadlens/policy.toml":
        raise UserError("a policy in both leadlens.toml and .leadlens/policy.toml: keep one")
    return found[0] if found else None


def _has_table(text: str, table: tuple[str, ...]) -> bool:
    try:
        data: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True  # parse_policy says where it is broken
    for part in table:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def github_facts(target: str, settings: Settings, *, token_env: str, api_url: str | None,
                 trust_settings_api_url: bool, transport: httpx.BaseTransport | None = None
                 ) -> Gathered:
    """The pull request ``OWNER/REPO#N`` through the GitHub source's client."""
    from leadlens.sources.github.client import GitHubAPI, SystemClock, api_url_for, make_client
    from leadlens.sources.github.pull import fetch_pull, fetch_text, parse_target

    repo, number = parse_target(target)
    url = api_url_for(api_url, settings.github.api_url, trust_setting=trust_settings_api_url)
    token = os.environ.get(token_env, "").strip() or None
    rules, bots = Rules.of(settings.ai), BotRule.of(settings.bots)
    with make_client(token, url, transport) as client:
        api = GitHubAPI(client, token_env=token_env, clock=SystemClock(), max_wait=60.0)
        pr = fetch_pull(api, repo, number)
        policy = pick_policy(lambda name: fetch_text(api, repo, name, pr.base_ref, pr.notes))
    if token is None:
        pr.notes.insert(0, f"no token in {token_env}: anonymous requests (public repositories"
                           " only, 60 an hour)")
    commits = tuple(_commit_facts(c.sha, c.author, c.committer, c.message, c.trailers,
                                  c.committed_at, rules) for c in pr.commits)
    approvals = approvals_of([(r.reviewer, r.state, r.at, r.commit_id, r.is_bot)
                              for r in pr.reviews],
                             pr.head_sha, bots)
    pr_ai = rules.classify_pull_request(PullRequestText(
        author=pr.author or "", body=pr.body, labels=pr.labels, head_ref=pr.head_ref))
    ai = bool(pr_ai) or bool(_change_ai(commits))
    checks = None if pr.checks is None else tuple(Check(n, c) for n, c in pr.checks)
    return Gathered(ChangeFacts(
        id=f"{repo}#{number}", repo=repo, author=pr.author,
        files=tuple(FileChange(path=f.path, added=f.added, deleted=f.deleted, status=f.status,
                               old_path=f.old_path, added_lines=f.added_lines) for f in pr.files),
        commits=commits, approvals=tuple(approvals), checks=checks, labels=pr.labels,
        ai_assisted=ai, merged_at=pr.merged_at,
        codeowners=pr.codeowners, codeowners_path=pr.codeowners_path), pr.notes, policy)
