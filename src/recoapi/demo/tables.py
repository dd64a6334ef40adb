"""Plain-text tables and movie titles for terminal output."""

from __future__ import annotations

import re
from collections.abc import Sequence

_YEAR_SUFFIX = re.compile(r"^(?P<name>.*?)(?P<year> \(\d{4}[^)]*\))$")
_ARTICLE = re.compile(
    r"^(?P<name>.+?), (?P<article>The|A|An|Les|La|Le|Il|Das|Die|Der|El)(?P<rest>( \(.*\))?)$"
)


def display_title(title: str, width: int = 56) -> str:
    """``"Usual Suspects, The (1995)"`` -> ``"The Usual Suspects (1995)"``, cut to ``width``
    but keeping the year."""
    found = _ARTICLE.match(title.strip())
    if found:
        title = f"{found['article']} {found['name']}{found['rest']}"
    dated = _YEAR_SUFFIX.match(title)
    if dated and len(title) > width:
        return clip(dated["name"], width - len(dated["year"])) + dated["year"]
    return clip(title, width)


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    right: Sequence[int] = (),
    indent: str = "  ",
) -> str:
    """Rows under headers, columns padded to their widest cell; ``right`` columns right-aligned."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return (indent + "  ".join(parts)).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])
