"""Repository text on a terminal: control characters stripped, never read as Rich markup."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment

__all__ = ["SafeConsole", "safe_text"]

# Every C0 control but tab and newline, DEL, and every C1 control (0x9b alone is a CSI to
# terminals that honour 8-bit controls): what clears a screen, retitles a window, moves the
# cursor or opens an OSC 8 link.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")


def safe_text(text: str, *, newlines: bool = False) -> str:
    """``text`` without control characters (tab kept). A line break in it becomes a space, so a
    name, title or message stays on its line; ``newlines`` keeps newlines, for text whose line
    structure is ours (a JSON document, a rendered table)."""
    if not newlines:
        text = _LINE_BREAK.sub(" ", text)
    return _CONTROLS.sub("", text)


class SafeConsole(Console):
    """A Rich console for text from repositories: it prints strings as written (no markup, no
    emoji codes: a path or name holding ``[/]`` is text, not a tag) and strips control characters
    from every segment it renders, whatever put them there (a table cell, a title, a progress
    line). Style with ``style=`` or ``Text``, never with markup."""

    def __init__(self, *, stderr: bool = False) -> None:
        super().__init__(stderr=stderr, markup=False, emoji=False)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None
               ) -> Iterable[Segment]:
        # Rich's own escapes travel as styles and control segments, apart from the text: only
        # the text is stripped. Newlines in it are the layout's.
        for segment in super().render(renderable, options):
            if segment.control is None and _CONTROLS.search(segment.text):
                yield Segment(safe_text(segment.text, newlines=True), segment.style)
            else:
                yield segment
