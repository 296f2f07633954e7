"""The secret scan's pre-filter changes nothing it finds: over lines that each plugin flags (and
lines it must not), in several file types, `scan` yields exactly what detect-secrets' own loop
yields; and a 90,000-line change takes well under a second."""

from __future__ import annotations

import time

import pytest
from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import get_plugins

from leadlens.policy import secrets
from leadlens.policy.model import FileChange
from leadlens.policy.secret_lines import candidate_lines, finder, scan, without_lookarounds

LINES = [
    "def f(x):",
    "    return x * 2  # nothing here",
    'aws_access_key_id = "AKIAIOSFODNN7EXAMPLF"',
    "key: AKIAZZZZZZZZZZZZZZZZ",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    'token = "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"',
    "SLACK = 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'",
    "hook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    'stripe = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"',
    ('jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.'
     'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"'),
    "url = 'https://admin:s3cr3tP4ssw0rd@example.com/db'",
    'password = "hunter2hunter2"',
    "db_pass: correcthorsebatterystaple",
    'api_key = "c2VjcmV0LWtleS10aGF0LWlzLWxvbmctZW5vdWdoLXRvLWNvdW50"',
    "blob = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'",
    "  # pragma: allowlist nextline secret",
    'password = "allowlisted-by-the-line-above"',
    'secret = "kept-out"  # pragma: allowlist secret',
    "npm //registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
    "sg = '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'",
    ("pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACJXsicGVybWlz"
     "c2lvbnMiOiAidXNlciIsICJ2ZXJzaW9uIjogMX0AAAYgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    "server 52.1.2.3 listens",
    "glpat-abcdefghijklmnopqrst",
    'openai = "sk-abcdefghijklmnopqrstT3BlbkFJabcdefghijklmnopqrst"',
    "naïve = 'ünïcödé strings before a key' ; key='AKIAIOSFODNN7EXAMPLE'",
    "",
    "\tx = 1",
]
FILES = ["app.py", "config.yaml", "settings.ini", ".env", "web/app.js", "notes.txt", "Dockerfile"]


@pytest.fixture(autouse=True, scope="module")
def configured() -> None:
    secrets._configure()


def kinds(found: object) -> list[tuple[int, str, str]]:
    return sorted((int(s.line_number), str(s.type), str(s.secret_value))
                  for s in found)  # type: ignore[attr-defined]


@pytest.mark.parametrize("filename", FILES)
def test_scan_finds_what_detect_secrets_finds(filename: str) -> None:
    lines = [(i + 1, text) for i, text in enumerate(LINES)]
    expected = kinds(_process_line_based_plugins(lines, filename=filename))
    assert len(expected) >= 10  # the corpus holds secrets of many kinds
    assert kinds(scan(lines, filename)) == expected


def test_hunks_numbered_apart() -> None:
    """Line numbers of a -U0 diff are not positions in the list: the snippets follow the library."""
    lines = [(n, text) for n, text in zip(range(3, 300, 11), LINES, strict=False)]
    assert kinds(scan(lines, "a.py")) == kinds(_process_line_based_plugins(lines, filename="a.py"))


def test_the_prefilter_is_on_and_skips_plain_code() -> None:
    found = finder(get_plugins())
    assert found is not None
    keep = candidate_lines(found, LINES)
    assert 0 not in keep and 1 not in keep and 27 not in keep
    assert {2, 4, 16, 17, 23} <= keep


def test_lookarounds_are_removed_and_classes_kept() -> None:
    assert without_lookarounds(r"(?:(?<=\W)|(?<=^))ab(?!\w)[(?=]c\(?!") == r"(?:|)ab[(?=]c\(?!"
    assert without_lookarounds(r"a (?<!x) b # note" + "\n" + "c", verbose=True) == "abc"


def test_a_large_change_is_fast() -> None:
    lines = tuple((n + 1, f"    return x * {n}  # line {n}") for n in range(90_000))
    files = [FileChange(f"src/m{i}.py", added_lines=lines[i * 18:(i + 1) * 18]) for i in range(5000)]
    files.append(FileChange("k.py", added_lines=((1, 'k = "AKIAIOSFODNN7EXAMPLF"'),)))
    started = time.perf_counter()
    found = secrets.find_secrets(files)
    assert time.perf_counter() - started < 2.0  # about 0.2 s here; 11 s without the pre-filter
    assert [(p, n) for p, n, _ in found] == [("k.py", 1)]
