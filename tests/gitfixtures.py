"""Build fixture git repositories with pinned names, dates and contents, so SHAs are deterministic.

Run as a script (``python tests/gitfixtures.py DIR``) to build them for a look by hand; tests call
:func:`build_history` and friends directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["Git", "build_flow", "build_history", "build_hostile", "build_linear", "build_trend",
           "git_env"]


def git_env(home: Path) -> dict[str, str]:
    """An environment where no user or system git config can change what gets written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C",
        GIT_TERMINAL_PROMPT="0",
    )
    return env


class Git:
    """A repository being built: every commit names its author, committer and dates."""

    def __init__(self, path: Path, *, bare: bool = False) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.env = git_env(path.parent)
        args = ["init", "-q", "-b", "main"] + (["--bare"] if bare else [])
        self.run(*args)
        if not bare:
            self.run("config", "commit.gpgsign", "false")

    @classmethod
    def open(cls, path: Path) -> Git:
        """An existing repository, to add to or rewrite."""
        g = cls.__new__(cls)
        g.path, g.env = path, git_env(path.parent)
        return g

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
            ) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, input=input, capture_output=True,
            env={**self.env, **(env or {})}, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", "replace").strip()

    def write(self, name: str, content: str | bytes) -> None:
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)

    def commit(
        self, message: str | bytes, *, author: str = "Alice Liddell <alice@example.com>",
        date: str = "2024-01-01T10:00:00+02:00", committer: str | None = None,
        committer_date: str | None = None, add: bool = True, allow_empty: bool = False,
    ) -> str:
        if add:
            self.run("add", "-A")
        an, ae = author[: author.index(" <")], author[author.index("<") + 1 : -1]
        committer = committer or author
        cn, ce = committer[: committer.index(" <")], committer[committer.index("<") + 1 : -1]
        env = {
            "GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce,
            "GIT_COMMITTER_DATE": committer_date or date,
        }
        msg = message if isinstance(message, bytes) else message.encode()
        extra = ["--allow-empty"] if allow_empty else []
        self.run("commit", "-q", "--no-verify", "--cleanup=verbatim", *extra, "-F", "-",
                 input=msg, env=env)
        return self.run("rev-parse", "HEAD")

    def merge(self, *branches: str, message: str, date: str,
              author: str = "Carol Danvers <carol@example.com>") -> str:
        an, ae = author[: author.index(" <")], author[author.index("<") + 1 : -1]
        env = {"GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": date,
               "GIT_COMMITTER_NAME": an, "GIT_COMMITTER_EMAIL": ae, "GIT_COMMITTER_DATE": date}
        self.run("merge", "-q", "--no-ff", "-m", message, *branches, env=env)
        return self.run("rev-parse", "HEAD")

    def raw_commit(self, *, parent: str, person: bytes, message: bytes) -> str:
        """A commit object written byte for byte (``git commit`` would re-encode to UTF-8)."""
        tree = self.run("rev-parse", f"{parent}^{{tree}}")
        body = (f"tree {tree}\nparent {parent}\n".encode() + b"author " + person + b"\n"
                + b"committer " + person + b"\n\n" + message)
        new = self.run("hash-object", "-t", "commit", "-w", "--stdin", input=body)
        self.run("update-ref", "HEAD", new)
        return new

    def commit_object(self, message: str, *, author: bytes, committer: bytes) -> str:
        """A commit of the index on HEAD whose author and committer lines (``Name <email> date
        tz``) are written byte for byte: dates ``git commit`` refuses (empty, 2^63 and beyond,
        year 10000) as a repository imported from elsewhere may hold them."""
        self.run("add", "-A")
        tree = self.run("write-tree")
        parent = self.run("rev-parse", "HEAD")
        body = (f"tree {tree}\nparent {parent}\n".encode() + b"author " + author + b"\n"
                + b"committer " + committer + b"\n\n" + message.encode())
        try:
            new = self.run("hash-object", "-t", "commit", "-w", "--stdin", input=body)
        except RuntimeError:  # a git whose hash-object checks dates: write it as it is
            new = self.run("hash-object", "-t", "commit", "-w", "--stdin", "--literally",
                           input=body)
        self.run("update-ref", "HEAD", new)
        return new

    def tag(self, name: str, *, message: str | None = None, date: str = "2024-03-01T12:00:00Z",
            target: str = "HEAD") -> None:
        env = {"GIT_COMMITTER_NAME": "Release Bot", "GIT_COMMITTER_EMAIL": "release@example.com",
               "GIT_COMMITTER_DATE": date}
        if message is None:
            self.run("tag", name, target, env=env)
        else:
            self.run("tag", "-a", name, "-m", message, target, env=env)


BOB = "Bob Builder <bob@example.com>"
DAN = "Dan Dare <dan@example.com>"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
ODD_NAMES = ["with space.txt", "tab\there.txt", 'quote"d.txt', "na\u00efve.txt", "new\nline.txt"]


def build_history(path: Path) -> dict[str, str]:
    """The main fixture: merges, an octopus, squash subjects, a revert, trailers, a rename, time
    zones either side of UTC, a binary file, odd file names, tags, and implausible dates."""
    g = Git(path)
    sha: dict[str, str] = {}
    g.write("README.md", "# demo\n")
    g.write("logo.png", PNG)
    for i, name in enumerate(ODD_NAMES):
        g.write(name, f"line {i}\n")
    sha["root"] = g.commit("Initial commit\n", date="2024-01-01T10:00:00+02:00")

    g.run("checkout", "-q", "-b", "feature")
    g.write("src/app.py", "def main():\n    return 1\n")
    sha["feature1"] = g.commit("Add app\n", author=BOB, date="2024-01-02T09:00:00-07:00")
    g.write("src/app.py", "def main():\n    return 2\n\n\ndef helper():\n    pass\n")
    sha["feature2"] = g.commit("Improve app\n", author=BOB, date="2024-01-02T15:30:00-07:00")
    g.run("checkout", "-q", "main")
    sha["merge_pr7"] = g.merge(
        "feature", message="Merge pull request #7 from bob/feature\n\nAdd the app",
        date="2024-01-03T12:00:00+05:30",
    )

    g.write("src/login.py", "def login(user):\n    return user\n")
    sha["squash12"] = g.commit(
        "Add login (#12)\n\nLets users sign in.\n\n"
        "Reviewed-by: Carol Danvers <carol@example.com>\n"
        "co-authored-by: Dan Dare <dan@example.com>\n"
        "Tested-by: Erin Example <erin@example.com>\n"
        "ACKED-BY: Frank Castle <frank@example.com>\n",
        author=DAN, date="2024-01-04T08:15:00-03:00",
        committer="Carol Danvers <carol@example.com>", committer_date="2024-01-04T20:00:00+09:00",
    )
    g.run("mv", "src/app.py", "src/main.py")
    g.write("src/main.py", "def main():\n    return 2\n\n\ndef helper():\n    return None\n")
    sha["rename"] = g.commit("Rename app to main\n", author=BOB, date="2024-01-05T10:00:00Z")
    g.run("rm", "-q", "src/login.py")
    sha["revert"] = g.commit(
        f'Revert "Add login (#12)"\n\nThis reverts commit {sha["squash12"]}.\n',
        date="2024-01-06T11:00:00+01:00",
    )
    g.tag("v1.0", message="Release 1.0\n", date="2024-01-06T18:00:00+01:00")

    for branch, author, day in (("a", BOB, "07"), ("b", DAN, "08"), ("c", BOB, "09")):
        g.run("checkout", "-q", "-b", branch, sha["revert"])
        g.write(f"{branch}.txt", f"{branch}\n")
        sha[f"octo_{branch}"] = g.commit(f"Add {branch}\n", author=author,
                                         date=f"2024-01-{day}T10:00:00-05:00")
    g.run("checkout", "-q", "main")
    sha["octopus"] = g.merge("a", "b", "c", message="Merge branches 'a', 'b' and 'c'\n",
                             date="2024-01-10T10:00:00+00:00")
    g.tag("v1.1")  # lightweight: its date is the commit's

    g.run("checkout", "-q", "-b", "fix")
    g.write("README.md", "# demo\n\nFixed.\n")
    sha["fix"] = g.commit("Fix readme\n", author=DAN, date="2024-01-11T10:00:00+10:00")
    g.run("checkout", "-q", "main")
    sha["merge_mr34"] = g.merge(
        "fix", message="Merge branch 'fix' into 'main'\n\nFix readme\n\n"
        "See merge request group/demo!34", date="2024-01-12T10:00:00+00:00",
    )
    g.tag("2.0.0rc1", message="Release candidate\n", date="2024-01-12T11:00:00Z")

    g.write("old.txt", "from the past\n")
    sha["old"] = g.commit("A commit from 1985\n", date="1985-06-01T12:00:00+00:00")
    g.write("future.txt", "from the future\n")
    sha["future"] = g.commit("A commit from 2099\n", date="2099-01-01T00:00:00+00:00")
    sha["latin1"] = g.raw_commit(
        parent=sha["future"],
        person=b"Jos\xe9 Mar\xeda <jose@example.com> 1706781600 +0000",
        message="Caf\u00e9 in Latin-1 bytes\n".encode("latin-1"),
    )
    return sha


ALICE = "Alice Liddell <alice@example.com>"
CAROL = "Carol Danvers <carol@example.com>"
DEPENDABOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
EVIL_TITLE = "Add b <script>alert('pwned')</script> & more"


def build_flow(path: Path) -> dict[str, str]:
    """Round times in UTC for the report's hand-computed figures (tests/test_report.py):
    a direct commit, PRs #1 and #2 released in v1.0, a dependabot PR, PR #3 in flight and a
    revert of #2. Origin on github.com as acme/flow."""
    g = Git(path)
    g.run("remote", "add", "origin", "https://github.com/acme/flow.git")
    s: dict[str, str] = {}
    g.write("README.md", "# flow\n")
    s["root"] = g.commit("Initial commit\n", author=ALICE, date="2024-03-01T09:00:00Z")

    g.run("checkout", "-q", "-b", "pr1")
    g.write("a.py", "".join(f"a{i} = {i}\n" for i in range(5)))
    s["pr1_a"] = g.commit("Start a\n", author=BOB, date="2024-03-04T09:00:00Z")
    g.write("a.py", "".join(f"a{i} = {i}\n" for i in range(10)))
    s["pr1_b"] = g.commit("Finish a\n", author=BOB, date="2024-03-04T13:00:00Z")
    g.run("checkout", "-q", "main")
    s["pr1"] = g.merge("pr1", message="Merge pull request #1 from bob/pr1\n\nAdd a",
                       date="2024-03-05T09:00:00Z", author=CAROL)

    g.run("checkout", "-q", "-b", "pr2")
    g.write("b.py", "".join(f"b{i} = {i}\n" for i in range(60)))
    s["pr2_a"] = g.commit("Add b\n", author=DAN, date="2024-03-05T10:00:00Z")
    g.run("checkout", "-q", "main")

    g.run("checkout", "-q", "-b", "deps")
    g.write("requirements.txt", "httpx==0.28.1\n")
    s["bot_a"] = g.commit("Bump httpx\n", author=DEPENDABOT, date="2024-03-06T08:00:00Z")
    g.run("checkout", "-q", "main")
    s["bot"] = g.merge("deps", message="Merge pull request #4 from acme/dependabot/pip/httpx\n\n"
                       "Bump httpx", date="2024-03-06T12:00:00Z", author=CAROL)
    s["pr2"] = g.merge("pr2", message=f"Merge pull request #2 from dan/pr2\n\n{EVIL_TITLE}",
                       date="2024-03-07T10:00:00Z", author=CAROL)
    g.tag("v1.0", message="Release 1.0\n", date="2024-03-08T10:00:00Z")

    g.run("checkout", "-q", "-b", "pr3")
    for i, when in enumerate(("2024-03-11T09:00:00Z", "2024-03-11T10:00:00Z",
                              "2024-03-12T09:00:00Z")):
        g.write("c.py", "".join(f"c{j} = {j}\n" for j in range(i + 1)))
        s[f"pr3_{i}"] = g.commit(f"c step {i}\n", author=BOB, date=when)
    g.run("checkout", "-q", "main")
    s["pr3"] = g.merge("pr3", message="Merge pull request #3 from bob/pr3\n\nAdd c",
                       date="2024-03-12T15:00:00Z", author=CAROL)
    g.run("rm", "-q", "b.py")
    s["revert"] = g.commit(f'Revert "Add b"\n\nThis reverts commit {s["pr2_a"]}.\n',
                           author=ALICE, date="2024-03-13T09:00:00Z")
    return s


def build_linear(path: Path, n: int, *, start_day: int = 1, prefix: str = "c") -> list[str]:
    """A straight line of ``n`` commits, each touching one file (for incremental tests)."""
    g = Git(path) if not (path / ".git").exists() else Git.open(path)
    shas = []
    for i in range(n):
        g.write(f"{prefix}{i % 7}.txt", f"{prefix} {i}\n")
        day = start_day + i // 24
        shas.append(g.commit(f"{prefix} {i}\n", date=f"2024-03-{day:02d}T{i % 24:02d}:00:00Z"))
    return shas


# Escape sequences a hostile repository can carry: set the window title (OSC 0), clear the screen
# (CSI 2J), and the 8-bit CSI (C1 0x9b) some terminals honour; plus Rich markup and an emoji code.
OSC_TITLE, CLEAR, CSI8 = "\x1b]0;pwned\x07", "\x1b[2J", "\x9b"
HOSTILE_TEXT = f"Evil {OSC_TITLE}title{CLEAR} [/] [bold]x {CSI8}31m :smile:"
HOSTILE_AUTHOR = f"Ev{CLEAR}il {CSI8}Man <evil@example.com>"


def build_trend(path: Path) -> None:
    """Two years of direct commits, each released by its own tag, for the trend as of 2026-12-01:
    20 in the previous window (from 2024-12-05, every 15 days, released 100, 110, ..., 290 h
    later: median 195 h) and 20 in the current one (from 2025-12-05, released 50, 55, ..., 145 h
    later: median 97.5 h); one released before both windows, one dependabot commit released 50 days
    later in the current window (a bot change) and one commit in flight."""
    from datetime import UTC, datetime, timedelta

    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    g = Git(path)
    g.write("log.txt", "0\n")
    g.commit("Start\n", date="2024-06-01T10:00:00Z")
    g.tag("v0.1", message="Release 0.1\n", date="2024-06-02T10:00:00Z")
    for major, first, base_h, step_h in ((1, datetime(2024, 12, 5, 10, tzinfo=UTC), 100, 10),
                                         (2, datetime(2025, 12, 5, 10, tzinfo=UTC), 50, 5)):
        for i in range(20):
            at = first + timedelta(days=15 * i)
            g.write("log.txt", f"{major}.{i}\n")
            g.commit(f"Change {major}.{i}\n", author=BOB, date=iso(at))
            g.tag(f"v{major}.{i}", message=f"Release {major}.{i}\n",
                  date=iso(at + timedelta(hours=base_h + step_h * i)))
    g.write("deps.txt", "httpx\n")
    g.commit("Bump httpx\n", author=DEPENDABOT, date="2026-10-01T10:00:00Z")
    g.tag("v2.20", message="Release 2.20\n", date="2026-11-20T10:00:00Z")
    g.write("log.txt", "in flight\n")
    g.commit("Not released yet\n", author=DAN, date="2026-11-25T10:00:00Z")


def build_hostile(path: Path) -> dict[str, str]:
    """Repository text that tries to drive the terminal: a remote naming ``acme/ev<CLEAR>[/]il``,
    an author and titles carrying escape sequences and Rich markup, a merged PR #5 with such a
    title, and an AI-assisted commit by that author (so ``ai share`` names them)."""
    g = Git(path)
    g.run("remote", "add", "origin", f"https://github.com/acme/ev{CLEAR}[/]il.git")
    s: dict[str, str] = {}
    g.write("a.txt", "a\n")
    s["root"] = g.commit("root\n", author=ALICE, date="2024-03-01T09:00:00Z")
    g.run("checkout", "-q", "-b", "feat")
    g.write("b.txt", "".join(f"b{i}\n" for i in range(5)))
    s["evil"] = g.commit(f"{HOSTILE_TEXT}\n\nCo-authored-by: Claude <noreply@anthropic.com>\n",
                         author=HOSTILE_AUTHOR, date="2024-03-02T09:00:00Z")
    g.run("checkout", "-q", "main")
    s["pr5"] = g.merge("feat", message=f"Merge pull request #5 from evil/feat\n\n{HOSTILE_TEXT}",
                       date="2024-03-03T09:00:00Z", author=CAROL)
    return s


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "fixture-repo")
    for label, value in build_history(target).items():
        print(f"{label:12} {value}")
