"""The Jira mapping's typed readers: Jira's times, Atlassian Document Format, odd objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from leadlens.sources.jira.fields import MappingError, adf_text, time_offset
from leadlens.sources.jira.load import Batch
from leadlens.sources.jira.mapping import Context, FieldIds

CTX = Context("https://x.atlassian.net", None, datetime(2026, 1, 1, tzinfo=UTC))


def test_jira_times_to_utc_with_their_offset() -> None:
    assert time_offset("2021-01-25T11:09:27.985+0800", "created") == (
        datetime(2021, 1, 25, 3, 9, 27, 985000, UTC), 480)
    assert time_offset("2020-06-26T00:38:00.000Z", "endDate") == (
        datetime(2020, 6, 26, 0, 38, tzinfo=UTC), 0)
    assert time_offset("2023-05-29T03:57:45.000-0530", "created") == (
        datetime(2023, 5, 29, 9, 27, 45, tzinfo=UTC), -330)
    with pytest.raises(MappingError, match="'created' is not a time"):
        time_offset("yesterday", "created")


def test_document_format_flattened() -> None:
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Goal"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Ask "},
            {"type": "mention", "attrs": {"id": "acc", "text": "@Ada"}},
            {"type": "text", "text": " about"}, {"type": "hardBreak"},
            {"type": "inlineCard", "attrs": {"url": "https://example.com/pr/1"}}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "one"}]}]}]}]}
    assert adf_text(doc, "description") == "Goal\nAsk @Ada about\nhttps://example.com/pr/1\none"
    assert adf_text("plain (API v2)", "description") == "plain (API v2)"
    assert adf_text(None, "description") is None


def _deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": "x"}
    for _ in range(depth):
        node = {"type": "paragraph", "content": [node]}
    return node


def test_odd_objects_skip_themselves_only() -> None:
    batch = Batch("t")
    issue = {"id": "1", "key": "A-1", "fields": {
        "created": "2021-01-01T00:00:00.000+0000", "updated": "2021-01-02T00:00:00.000+0000",
        "summary": "s", "description": _deep(500),
        "comment": {"comments": [{"id": "5", "created": "2021-01-01T00:00:00.000+0000"},
                                 {"id": "6", "created": 7}]}}}
    batch.add("issues", issue, CTX)
    assert batch.rows == {}  # the description nests too deeply: the issue is skipped
    assert [s.reason for s, _ in batch.skipped] == [
        "field 'description' nests deeper than 64 levels"]
    issue["fields"]["description"] = _deep(3)
    batch = Batch("t")
    batch.add("issues", issue, CTX)
    assert list(batch.rows["jira_comments"]) == [("1", "5")]  # comment 6 skipped, the issue kept
    assert [s.reason for s, _ in batch.skipped] == ["field 'created' is not a time: 7"]
    assert batch.rows["jira_issues"][("1",)]["description"] == "x"


def test_custom_fields_found_by_name() -> None:
    ids = FieldIds.from_fields([{"id": "customfield_10106", "name": "Story Points"},
                                {"id": "customfield_10104", "name": "Sprint"}])
    assert ids == FieldIds(("customfield_10106",), ("customfield_10104",), ("customfield_10021",))
    batch = Batch("t")
    dc_sprint = "com.atlassian.greenhopper.service.sprint.Sprint@5c1a[id=12,rapidViewId=3,name=S1]"
    batch.add("issues", {"id": "2", "key": "A-2", "fields": {
        "created": "2021-01-01T00:00:00.000+0000", "updated": "2021-01-02T00:00:00.000+0000",
        "customfield_10106": 5, "customfield_10104": [dc_sprint]}},
        Context(CTX.site, None, CTX.fetched_at, ids))
    row = batch.rows["jira_issues"][("2",)]
    assert (row["story_points"], row["sprint_ids"], row["flagged"]) == (5.0, ["12"], None)
