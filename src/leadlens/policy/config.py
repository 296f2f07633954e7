"""The policy file: ``[policy]`` in leadlens.toml, ``.leadlens/policy.toml`` (top-level keys) or
``[tool.leadlens.policy]`` in pyproject.toml, validated with errors naming file, line and key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from leadlens.errors import UserError
from leadlens.policy.globs import GlobError, expand_braces, translate
from leadlens.policy.rules import RULES
from leadlens.policy.spec import Param, Policy, RuleSpec, Scope

__all__ = ["Policy", "RuleSpec", "Scope", "load_policy", "parse_policy"]

SCOPE_KEYS = ("paths", "exclude_paths", "labels", "authors", "owners", "ai_assisted")
_TABLE = {"pyproject.toml": ("tool", "leadlens", "policy"), "leadlens.toml": ("policy",)}


class _Where:
    """Finds the line of a key in the policy text (tomllib gives lines for syntax errors only)."""

    def __init__(self, text: str, path: str, prefix: tuple[str, ...]) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.dotted = ".".join(prefix)
        dot = r"\s*\.\s*".join(re.escape(p) for p in prefix)
        lead = dot + r"\s*\.\s*" if prefix else ""
        self._rules = re.compile(rf"^\s*\[\[\s*{lead}rules\s*\]\]")
        self._groups = re.compile(rf"^\s*\[\s*{lead}groups\s*\]")
        self._header = re.compile(r"^\s*\[")

    def key(self, name: str) -> str:
        return f"{self.dotted}.{name}" if self.dotted else name

    def _block(self, start: int | None) -> tuple[int, int]:
        if start is None:
            return 0, len(self.lines)
        end = next((i for i in range(start + 1, len(self.lines)) if self._header.match(self.lines[i])),
                   len(self.lines))
        return start, end

    def _find(self, key: str | None, block: tuple[int, int]) -> int:
        if key is not None:
            pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
            for i in range(*block):
                if pattern.match(self.lines[i]):
                    return i + 1
        return block[0] + 1

    def rule(self, index: int, key: str | None = None) -> int:
        starts = [i for i, line in enumerate(self.lines) if self._rules.match(line)]
        return self._find(key, self._block(starts[index] if index < len(starts) else None))

    def group(self, name: str | None = None) -> int:
        start = next((i for i, line in enumerate(self.lines) if self._groups.match(line)), None)
        return self._find(name, self._block(start))

    def top(self, key: str) -> int:
        return self._find(key, (0, len(self.lines)))

    def error(self, line: int, key: str, message: str) -> UserError:
        return UserError(f"{self.path}:{line}: {key}: {message}")


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    return None


def _glob_problem(patterns: tuple[str, ...]) -> str | None:
    for pattern in patterns:
        try:
            for expanded in expand_braces(pattern):
                translate(expanded)
        except GlobError as exc:
            return f"bad glob {pattern!r}: {exc}"
    return None


def _groups(raw: object, where: _Where) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise where.error(where.top("groups"), where.key("groups"), "expected a table of groups")
    direct: dict[str, tuple[str, ...]] = {}
    for name, members in raw.items():
        found = _strings(members)
        if found is None:
            raise where.error(where.group(name), where.key(f"groups.{name}"),
                              "expected a list of logins, @org/team names or group names")
        direct[name] = found

    def expand(name: str, trail: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for member in direct[name]:
            if member not in direct:
                out.append(member if "/" in member else member.lstrip("@"))
                continue
            if member in (*trail, name):
                root = trail[0] if trail else name
                raise where.error(where.group(root), where.key(f"groups.{root}"),
                                  f"the group includes itself ({' -> '.join((*trail, name, member))})")
            out += expand(member, (*trail, name))
        return tuple(dict.fromkeys(out))

    return {name: expand(name, ()) for name in direct}


def _param(value: object, param: Param) -> tuple[object, str | None]:
    if param.type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return value, None if ok else "expected a whole number, 0 or more"
    if param.type == "bool":
        return value, None if isinstance(value, bool) else "expected true or false"
    if param.type == "str":
        return value, None if isinstance(value, str) and value else "expected a string"
    found = _strings(value)
    if found is None:
        return value, "expected a list of strings"
    return found, _glob_problem(found) if param.type == "globs" else None


def _rule(index: int, raw: object, groups: dict[str, tuple[str, ...]], where: _Where) -> RuleSpec:
    at = f"rules[{index + 1}]"
    if not isinstance(raw, dict):
        raise where.error(where.rule(index), where.key(at), "expected a table ([[policy.rules]])")
    for key in ("name", "rule"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise where.error(where.rule(index, key), where.key(f"{at}.{key}"),
                              f"every rule needs a {key} (a string)")
    name, kind = str(raw["name"]), str(raw["rule"])
    at = f"rules[{index + 1}] ({name!r})"
    if kind not in RULES:
        raise where.error(where.rule(index, "rule"), where.key(f"{at}.rule"),
                          f"unknown rule {kind!r} (the rules: {', '.join(RULES)})")
    params = RULES[kind].params
    scope: dict[str, tuple[str, ...]] = {}
    ai_assisted: bool | None = None
    values: dict[str, object] = {k: p.default for k, p in params.items()}
    for key, value in raw.items():
        if key in ("name", "rule"):
            continue
        line, dotted = where.rule(index, key), where.key(f"{at}.{key}")
        if key == "ai_assisted":
            if not isinstance(value, bool):
                raise where.error(line, dotted, "expected true or false")
            ai_assisted = value
        elif key in SCOPE_KEYS:
            found = _strings(value)
            problem = "expected a list of strings" if found is None else (
                _glob_problem(found) if key.endswith("paths") else None)
            if problem or found is None:
                raise where.error(line, dotted, problem or "expected a list of strings")
            scope[key] = found
        elif key in params:
            values[key], problem = _param(value, params[key])
            if problem:
                raise where.error(line, dotted, problem)
        else:
            allowed = ", ".join([*SCOPE_KEYS, *params])
            raise where.error(line, dotted, f"unknown key for a {kind} rule (known: {allowed})")
    for key, p in params.items():
        if values[key] is None and not p.optional:
            raise where.error(where.rule(index), where.key(f"{at}.{key}"),
                              f"a {kind} rule needs {key} ({p.help})")
    _check(kind, values, groups, lambda key, msg: where.error(
        where.rule(index, key), where.key(f"{at}.{key}"), msg))
    return RuleSpec(name, kind, Scope(**scope, ai_assisted=ai_assisted), values, where.rule(index))


def _check(kind: str, values: dict[str, object], groups: dict[str, tuple[str, ...]],
           error: Callable[[str, str], UserError]) -> None:
    """Settings that depend on each other or on the groups."""
    group = values.get("group")
    if isinstance(group, str) and group not in groups and not (group.startswith("@") and "/" in group):
        known = ", ".join(groups) or "none"
        raise error("group", f"no group {group!r} in [policy.groups] (the groups: {known}); an "
                    "@org/team name may be used directly")
    if kind == "size" and values.get("max_lines") is None and values.get("max_files") is None:
        raise error("rule", "a size rule needs max_lines, max_files or both")
    if kind == "contracts" and values.get("require") not in ("either", "both", "tests", "version"):
        raise error("require", "expected one of either, both, tests, version")
    if kind == "checks-green" and not values.get("checks"):
        raise error("checks", "name at least one check")
    if values.get("approvals") == 0:
        raise error("approvals", "expected 1 or more")


def parse_policy(text: str, path: str) -> Policy:
    """The policy in ``text``, read from ``path``: ``[policy]`` when the file is leadlens.toml,
    ``[tool.leadlens.policy]`` in pyproject.toml, the top-level keys in any other file."""
    prefix = _TABLE.get(Path(path).name, ())
    try:
        data: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from exc
    for part in prefix:
        data = data.get(part, {}) if isinstance(data, dict) else None
    where = _Where(text, path, prefix)
    if not isinstance(data, dict):
        raise where.error(1, where.dotted, "expected a table")
    for key in data:
        if key not in ("rules", "groups"):
            raise where.error(where.top(key), where.key(key), "unknown key (known: rules, groups)")
    groups = _groups(data.get("groups", {}), where)
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise where.error(where.top("rules"), where.key("rules"), "expected [[rules]] tables")
    rules: list[RuleSpec] = []
    for index, raw in enumerate(raw_rules):
        rule = _rule(index, raw, groups, where)
        if any(r.name == rule.name for r in rules):
            raise where.error(where.rule(index, "name"), where.key(f"rules[{index + 1}].name"),
                              f"two rules are named {rule.name!r}: names must be unique")
        rules.append(rule)
    return Policy(tuple(rules), groups, path)


def load_policy(directory: Path | None = None) -> Policy:
    """The policy in ``directory`` (default: the working directory): leadlens.toml's [policy],
    else .leadlens/policy.toml, else pyproject.toml's [tool.leadlens.policy]; no policy at all
    is an empty Policy (``path`` None)."""
    base = directory or Path.cwd()
    found: list[tuple[Path, str]] = []
    for candidate, table in ((base / "leadlens.toml", ("policy",)),
                             (base / ".leadlens" / "policy.toml", ()),
                             (base / "pyproject.toml", ("tool", "leadlens", "policy"))):
        if not candidate.is_file():
            continue
        try:
            text = candidate.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(f"{candidate}: not valid TOML: not UTF-8") from exc
        if not table or _has(text, table, candidate):
            found.append((candidate, text))
    if len(found) > 1 and found[0][0].name == "leadlens.toml" and found[1][0].parent.name == ".leadlens":
        raise UserError(f"a policy in both {found[0][0]} and {found[1][0]}: keep one")
    if not found:
        return Policy()
    return parse_policy(found[0][1], str(found[0][0]))


def _has(text: str, table: tuple[str, ...], path: Path) -> bool:
    try:
        data: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from exc
    for part in table:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True
