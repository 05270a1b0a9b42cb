"""Show how the parser split a page: the role of each line, the layout, flags and confidence."""

from dataclasses import dataclass
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from flows.extract import decode
from flows.parse import (
    AUTHOR,
    BLANK,
    BODY,
    CHROME,
    COMMENT,
    HEADER,
    TITLE,
    UNSPLIT,
    ParsedPage,
    parse_page,
)

# Every role a line can get, as the parser names them (ParsedPage.roles).
ROLES = (HEADER, TITLE, BODY, AUTHOR, COMMENT, CHROME, UNSPLIT, BLANK)

# Colours of the roles in rich output; the words alone say the same without colour.
_STYLES = {
    "header": "dim",
    "title": "bold cyan",
    "body": "default",
    "author": "bold green",
    "comment": "green",
    "chrome": "dim",
    "unsplit": "bold red",
    "blank": "dim",
}


class ExplainError(Exception):
    """A file that cannot be explained: it cannot be read, or holds no page text."""


@dataclass(frozen=True)
class Line:
    """One line of a page and what the parser made of it."""

    number: int
    role: str
    # For author and comment lines: `#n author, depth d` of the comment they belong to.
    comment: str
    text: str


@dataclass(frozen=True)
class Explanation:
    """How one page was split."""

    name: str
    parsed: ParsedPage
    lines: list[Line]

    @property
    def holds_text(self) -> bool:
        """Whether a run loads the page: it has text besides a header and site chrome."""
        parsed = self.parsed
        return bool(parsed.title or parsed.body or parsed.comments or parsed.unsplit)


def explain_text(text: str, name: str = "page") -> Explanation:
    """Parse decoded page `text` and say, line by line, what each line became."""
    parsed = parse_page(text)
    comment_of: dict[int, str] = {}
    for position, comment in enumerate(parsed.comments, start=1):
        author = comment.author if comment.author is not None else "(no author)"
        label = f"#{position} {author}, depth {comment.depth}"
        indices = [comment.author_line] if comment.author_line is not None else []
        for index in [*indices, *comment.text_lines]:
            comment_of[index] = label
    lines = [
        Line(index + 1, role, comment_of.get(index, ""), raw.rstrip().expandtabs(4))
        for index, (raw, role) in enumerate(zip(text.split("\n"), parsed.roles, strict=True))
    ]
    if text.endswith("\n"):
        lines.pop()  # what follows the last line end is no line of the file
    return Explanation(name, parsed, lines)


def explain_file(path: Path) -> Explanation:
    """Read and decode `path` as a run does, then explain it; ExplainError when it cannot."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ExplainError(f"cannot read {path}: {error.strerror or error}") from None
    decoded = decode(raw)
    if decoded.text is None:
        raise ExplainError(f"{path}: {decoded.message}")
    return explain_text(decoded.text, str(path))


def summary_line(explanation: Explanation) -> str:
    """Layout, comments, confidence and flags of the page, in one line."""
    parsed = explanation.parsed
    flags = ", ".join(parsed.flags) or "none"
    summary = (
        f"layout {parsed.layout}; {len(parsed.comments)} comments; "
        f"confidence {parsed.confidence:.3g}; flags: {flags}"
    )
    if not explanation.holds_text:
        summary += "; no article or comment text: a run quarantines it as no_text"
    return summary


def _role_label(line: Line) -> str:
    return "author line" if line.role == AUTHOR else line.role


def render_plain(explanation: Explanation) -> str:
    """The explanation as plain text, one page line per output line."""
    width = max([len(line.comment) for line in explanation.lines], default=0)
    out = [f"== {explanation.name}", summary_line(explanation)]
    for line in explanation.lines:
        comment = f"{line.comment:<{width}}  " if width else ""
        row = f"{line.number:5}  {_role_label(line):<11}  {comment}{line.text}"
        out.append(row.rstrip())
    return "\n".join(out) + "\n"


def render_table(explanation: Explanation) -> Group:
    """The explanation as a rich table, roles in colour, under the page's name and summary."""
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("line", justify="right", style="dim")
    table.add_column("role", no_wrap=True)
    table.add_column("comment", no_wrap=True)
    table.add_column("text", overflow="fold")
    for line in explanation.lines:
        style = _STYLES.get(line.role, "default")
        table.add_row(
            str(line.number),
            Text(_role_label(line), style=style),
            Text(line.comment, style=style if line.role in (AUTHOR, COMMENT) else ""),
            Text(line.text, style="" if line.role == BLANK else style),
        )
    heading = Text(f"== {explanation.name}", style="bold")
    return Group(heading, Text(summary_line(explanation)), table)
