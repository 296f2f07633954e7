"""DORA's five metrics on small scenarios whose figures can be checked by hand.

Main scenario (repository o/d, no clone, May 2024, UTC). Merged PRs, each one commit:
#1 (commit 1st 08:00), #2 (2nd 08:00), #3 (3rd 06:00), #4 reverts #2 (branch revert-2-..., commit
3rd 12:00, merged 13:00), #5 "Fixes #50" (commit 5th 08:00). Production deployments: D10 of #1 on
the 1st 14:00, D11 of #2 on the 2nd 12:00, D12 of #3 failed on the 3rd 10:00, D13 of #4 on the 3rd
14:00 (ships #3 and #4), D14 of #5 on the 5th 10:00; a staging deployment is not one.
Incidents: the failed attempt D12 (names #3, never shipped before: links by the 72 h window to D11,
recovered by D13: 26 h), the revert #4 (names #2, shipped by D11; recovered when D13 shipped the
revert: 26 h), issue #50 "Caused by #3" (links to D13, which shipped #3; closed the 5th 10:30: 44.5 h)
and issue #52 (the 20th, no deployment within 72 h: unlinked, open). Issue #51 is only a bug.

Deployments 4 over the 1st 12:00 (first merge) .. 5th 10:00 (last deployment), less than the
shortest span of a week: 4/7 a day, high. Change lead
times 6, 4, 8, 2, 2 h: median 4 h, elite. Failed: D11 and D13 of 4: 50%, low. Recovery: median of
26, 26, 44.5 h = 26 h, low. Rework: D13 (ships the revert) and D14 (ships the fix): 50%.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forgefixtures import deployment, issue, pr, pr_commit, release, t
from gitfixtures import Git
from leadlens.config import DoraSettings
from leadlens.derive.forge import derive_forge
from leadlens.engines import connect
from leadlens.metrics.dora import EDITION, Dora, dora, levels
from leadlens.pipeline import ingest_git
from leadlens.store import Store

H = 3600.0



def all_changes(store: Store, repos: list[str], **kw: Any) -> Dora:
    """DORA over every change in the store ."""
    db = connect(store)
    return dora(db, db.table("changes"), repos, **kw)

def sha(n: int) -> str:
    return str(n) * 40


def merged_pr(store: Store, repo: str, number: int, commit: str, merged: str, **kw: object) -> None:
    pr(store.con, repo, number, created=commit, merged=merged, merge_sha=sha(number), **kw)  # type: ignore[arg-type]
    pr_commit(store.con, repo, number, f"{number:x}".rjust(40, "a"), authored=commit,
              message=f"work {number}")


def scenario(store: Store) -> None:
    r = "o/d"
    merged_pr(store, r, 1, "2024-05-01T08:00", "2024-05-01T12:00")
    merged_pr(store, r, 2, "2024-05-02T08:00", "2024-05-02T10:00")
    merged_pr(store, r, 3, "2024-05-03T06:00", "2024-05-03T09:00")
    merged_pr(store, r, 4, "2024-05-03T12:00", "2024-05-03T13:00", head_ref="revert-2-feature-2",
              body="Reverts o/d#2")
    merged_pr(store, r, 5, "2024-05-05T08:00", "2024-05-05T09:00", body="Fixes #50")
    for dep, n, at, kw in ((10, 1, "2024-05-01T14:00", {}), (11, 2, "2024-05-02T12:00", {}),
                           (12, 3, "2024-05-03T10:00", {"state": "failure"}),
                           (13, 4, "2024-05-03T14:00", {}), (14, 5, "2024-05-05T10:00", {}),
                           (15, 5, "2024-05-05T09:30", {"environment": "staging"})):
        deployment(store.con, r, dep, sha(n), at=at, **kw)  # type: ignore[arg-type]
    issue(store.con, r, 50, created="2024-05-04T09:00", closed="2024-05-05T10:30",
          labels=("Incident", "p1"), body="Caused by #3")
    issue(store.con, r, 51, created="2024-05-04T10:00", labels=("bug",))
    issue(store.con, r, 52, created="2024-05-20T00:00")
    derive_forge(store, r)


def test_five_metrics_hand_computed(store: Store) -> None:
    scenario(store)
    d = all_changes(store, ["o/d"], since=None, until=None)
    assert (d.basis, d.bases, d.reason) == ("deployments", {"o/d": "deployments"}, None)
    assert d.deployments == 4
    assert d.span_days == 7.0
    assert d.deployment_frequency_per_day == pytest.approx(4 / 7)
    assert (d.change_lead_time_median_s, d.change_lead_time_changes) == (4 * H, 5)
    assert (d.change_fail_rate, d.failed_deployments) == (0.5, 2)
    assert (d.recovery_time_median_s, d.recovered_incidents) == (26 * H, 3)
    assert (d.deployment_rework_rate, d.rework_deployments) == (0.5, 2)
    assert d.incidents == 4 and d.unlinked_incidents == 1
    assert d.incidents_by_kind == {"failed_deployment": 1, "issue": 2, "revert": 1}
    assert d.levels == {"deployment_frequency": "high", "change_lead_time": "elite",
                        "change_fail_rate": "low", "failed_deployment_recovery_time": "low",
                        "deployment_rework_rate": None}
    assert "no cluster" in d.level_notes["deployment_rework_rate"]
    assert d.edition == EDITION and "2024" in d.edition


def test_window_and_rollback(store: Store) -> None:
    scenario(store)
    # Redeploying #3 after #5 rolls #5 back: an incident linked to D14 (which shipped #5), 23 h.
    deployment(store.con, "o/d", 16, sha(3), at="2024-05-06T09:00")
    d = all_changes(store, ["o/d"], since=None, until=None)
    assert d.deployments == 5 and d.incidents_by_kind["rollback"] == 1
    assert (d.failed_deployments, d.change_fail_rate) == (3, 0.6)
    assert d.recovery_time_median_s == 26 * H  # of 23, 26, 26, 44.5 h
    assert d.deployment_rework_rate == 0.4
    # Only the 3rd and 4th: D13; the failed attempt, the revert and issue #50 started then.
    w = all_changes(store, ["o/d"], since=t("2024-05-03T00:00"), until=t("2024-05-05T00:00"))
    assert (w.deployments, w.span_days, w.deployment_frequency_per_day) == (1, 2.0, 0.5)
    assert w.incidents == 3 and w.failed_deployments == 1 and w.levels["deployment_frequency"] == "high"


def test_releases_basis(store: Store) -> None:
    r = "o/rel"
    merged_pr(store, r, 1, "2024-05-01T08:00", "2024-05-01T12:00")
    merged_pr(store, r, 2, "2024-05-02T08:00", "2024-05-02T10:00")
    release(store.con, r, 1, "v1", published="2024-05-01T18:00")
    release(store.con, r, 2, "v2", published="2024-05-03T12:00")
    release(store.con, r, 3, "v3-rc", published="2024-05-03T13:00", prerelease=True)
    derive_forge(store, r)
    d = all_changes(store, [r], since=None, until=None)
    assert (d.basis, d.deployments, d.span_days) == ("releases", 2, 7.0)
    assert d.change_lead_time_median_s == 19 * H  # of 10 h and 28 h
    assert d.change_fail_rate == 0.0 and d.incidents == 0 and d.recovery_time_median_s is None
    assert d.levels["change_fail_rate"] == "elite"
    assert d.levels["failed_deployment_recovery_time"] is None


def test_neither_deployments_nor_releases(store: Store) -> None:
    merged_pr(store, "o/none", 1, "2024-05-01T08:00", "2024-05-01T12:00")
    derive_forge(store, "o/none")
    d = all_changes(store, ["o/none"], since=None, until=None)
    assert d.basis is None and d.bases == {"o/none": None}
    assert d.reason is not None and "production_pattern" in d.reason
    assert (d.deployment_frequency_per_day, d.change_lead_time_median_s, d.change_fail_rate,
            d.recovery_time_median_s, d.deployment_rework_rate) == (None,) * 5
    assert set(d.levels.values()) == {None}


def test_mixed_bases_and_environment_pattern(store: Store) -> None:
    scenario(store)
    merged_pr(store, "o/rel", 1, "2024-05-01T08:00", "2024-05-01T12:00")
    release(store.con, "o/rel", 1, "v1", published="2024-05-01T18:00")
    derive_forge(store, "o/rel")
    d = all_changes(store, ["o/d", "o/rel"], since=None, until=None)
    assert d.basis == "mixed" and d.deployments == 5
    # Staging as production: D15 (the 5th 09:30) ships #5 first.
    staging = all_changes(store, ["o/d"], since=None, until=None,
                   settings=DoraSettings(production_pattern="^(staging|production)$"))
    assert staging.deployments == 5


@pytest.mark.parametrize(("per_day", "expected"), [(1.0, "elite"), (0.99, "high"), (1 / 7, "high"),
                                                   (0.1, "medium"), (1 / 31, "low")])
def test_deployment_frequency_levels(per_day: float, expected: str) -> None:
    assert levels(per_day, None, None, None)[0]["deployment_frequency"] == expected


def test_other_levels() -> None:
    lv, _ = levels(None, 23 * H, 0.10, 59 * 60)
    assert (lv["change_lead_time"], lv["change_fail_rate"], lv["failed_deployment_recovery_time"]) \
        == ("elite", "high", "elite")
    lv, _ = levels(None, 8 * 24 * H, 0.21, 25 * H)
    assert (lv["change_lead_time"], lv["change_fail_rate"], lv["failed_deployment_recovery_time"]) \
        == ("medium", "low", "low")


def _git_releases_repo(path: Path) -> None:
    """A git-only history (releases are the basis): feature a is reverted before any release ships
    it; feature b ships in v1.1 and is reverted after, the revert shipping in v1.2."""
    g = Git(path)
    g.write("README.md", "# r\n")
    g.commit("Initial commit\n", date="2024-03-01T09:00:00Z")
    g.write("a.py", "a = 1\n")
    a = g.commit("Add a\n", date="2024-03-02T09:00:00Z")
    g.run("rm", "-q", "a.py")
    g.commit(f'Revert "Add a"\n\nThis reverts commit {a}.\n', date="2024-03-03T09:00:00Z")
    g.tag("v1.0", message="1.0\n", date="2024-03-04T09:00:00Z")
    g.write("b.py", "b = 1\n")
    b = g.commit("Add b\n", date="2024-03-05T09:00:00Z")
    g.tag("v1.1", message="1.1\n", date="2024-03-06T09:00:00Z")
    g.run("rm", "-q", "b.py")
    g.commit(f'Revert "Add b"\n\nThis reverts commit {b}.\n', date="2024-03-07T09:00:00Z")
    g.tag("v1.2", message="1.2\n", date="2024-03-08T09:00:00Z")


def test_revert_of_unshipped_change_is_caught_before_release(store: Store, tmp_path: Path) -> None:
    """Shipments: v1.0 (03-04), v1.1 (03-06), v1.2 (03-08). The revert of a (03-03) comes before
    anything shipped a: caught before release, no incident, no recovery time, and v1.0 (which ships
    a and its revert together) is no rework. The revert of b (03-07) names b, shipped by v1.1:
    an incident linked to v1.1, recovered when v1.2 ships the revert, 48 h."""
    _git_releases_repo(tmp_path / "rel")
    ingest_git(store, [tmp_path / "rel"])
    d = all_changes(store, ["rel"], since=None, until=None)
    assert (d.basis, d.deployments) == ("releases", 3)
    assert d.caught_before_release == 1
    assert (d.incidents, d.incidents_by_kind, d.unlinked_incidents) == (1, {"revert": 1}, 0)
    assert (d.failed_deployments, d.change_fail_rate) == (1, pytest.approx(1 / 3))
    assert (d.recovery_time_median_s, d.recovered_incidents) == (48 * H, 1)
    assert (d.rework_deployments, d.deployment_rework_rate) == (1, pytest.approx(1 / 3))
    # A window holding only the caught revert: nothing failed, so no recovery time either.
    w = all_changes(store, ["rel"], since=t("2024-03-01T00:00"), until=t("2024-03-05T00:00"))
    assert (w.caught_before_release, w.incidents, w.change_fail_rate) == (1, 0, 0.0)
    assert w.recovery_time_median_s is None and w.levels["failed_deployment_recovery_time"] is None


def test_caught_before_release_is_unknown_without_shipments(store: Store) -> None:
    merged_pr(store, "o/none", 1, "2024-05-01T08:00", "2024-05-01T12:00")
    merged_pr(store, "o/none", 2, "2024-05-02T08:00", "2024-05-02T10:00", head_ref="revert-1-x")
    derive_forge(store, "o/none")
    d = all_changes(store, ["o/none"], since=None, until=None)
    assert d.basis is None and d.caught_before_release is None
