"""`newsflow report`: one self-contained HTML file of charts and tables over the marts."""

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from flows.sqlfiles import sql

TOP = 15
RUNS = 10
# Queries of sql/report/ and the row limit each takes (None: no limit parameter).
QUERIES: dict[str, int | None] = {
    "totals": None,
    "monthly": None,
    "top_entities": TOP,
    "top_commenters": TOP,
    "comention": 30,
    "story_sizes": None,
    "largest_stories": 10,
    "repeated_comments": 10,
    "runs": RUNS,
    "broken_rules": None,
}
# No plotly logo link: nothing in the page points off the machine.
CONFIG = {"displaylogo": False, "responsive": True}


@dataclass
class Section:
    """A part of the report: a heading, a sentence on how to read it, a chart, tables."""

    key: str
    title: str
    intro: str
    chart: go.Figure | None = None
    tables: tuple[pl.DataFrame, ...] = ()


def read(warehouse: Path) -> dict[str, pl.DataFrame]:
    """The report's data: every query of sql/report/ on the warehouse, opened read-only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            name: con.sql(sql(f"report/{name}"), params=None if limit is None else [limit]).pl()
            for name, limit in QUERIES.items()
        }


def _bar(frame: pl.DataFrame, label: str, values: dict[str, str], horizontal: bool) -> go.Figure:
    """Bars of `frame`: one trace per column of `values` (column: legend name)."""
    figure = go.Figure()
    for column, name in values.items():
        if horizontal:
            figure.add_bar(y=frame[label].to_list(), x=frame[column].to_list(), name=name,
                           orientation="h")  # fmt: skip
        else:
            figure.add_bar(x=frame[label].to_list(), y=frame[column].to_list(), name=name)
    if horizontal:
        figure.update_yaxes(autorange="reversed", type="category")
    else:
        figure.update_xaxes(type="category")
    figure.update_layout(margin={"t": 30}, height=max(360, 28 * frame.height if horizontal else 0))
    return figure


def _comention(frame: pl.DataFrame) -> go.Figure:
    """Pairs of entities: how often together (x) against how much more than by chance (y)."""
    figure = go.Figure(
        go.Scatter(
            x=frame["together"].to_list(),
            y=frame["lift"].to_list(),
            mode="markers",
            text=frame["pair"].to_list(),
            hovertemplate="%{text}<br>articles: %{x}<br>lift: %{y:.2f}<extra></extra>",
            marker={"size": 10},
        )
    )
    figure.update_layout(
        xaxis_title="articles naming both", yaxis_title="lift", margin={"t": 30}, height=420
    )
    return figure


def _runs_chart(runs: pl.DataFrame) -> go.Figure:
    oldest_first = runs.reverse()
    figure = _bar(
        oldest_first,
        "run_id",
        {"rules_broken": "rules broken", "files_quarantined": "files quarantined"},
        horizontal=False,
    )
    figure.update_xaxes(title="run")
    return figure


def _charts(data: dict[str, pl.DataFrame]) -> dict[str, go.Figure | None]:
    """One chart per section key; None where its data is empty."""
    makers = {
        "monthly": lambda f: _bar(f, "month", {"pages": "pages", "comments": "comments"}, False),
        "top_entities": lambda f: _bar(
            f, "name", {"article_mentions": "in article text", "comment_mentions": "in comments"},
            True,
        ),
        "top_commenters": lambda f: _bar(f, "author", {"comments": "comments"}, True),
        "comention": _comention,
        "story_sizes": lambda f: _bar(
            f.with_columns(pl.col("copies").cast(pl.String)), "copies", {"stories": "stories"},
            False,
        ),
        "repeated_comments": lambda f: _bar(
            f.with_columns(text=pl.col("example_text").str.slice(0, 50)), "text",
            {"occurrences": "occurrences"}, True,
        ),
        "runs": _runs_chart,
    }  # fmt: skip
    return {
        name: None if data[name].is_empty() else make(data[name]) for name, make in makers.items()
    }


# Section key, the query its chart draws, title, how to read it, the queries shown as tables.
SECTIONS = (
    ("monthly", "monthly", "Pages and comments per crawl month",
     "The month in the page header: when the page was crawled, not published.", ()),
    ("entities", "top_entities", "Top entities: article text and comments",
     "Mentions of the most-named entities in article titles and bodies, against reader "
     "comments (view mentioned_entity; by month: entity_monthly).", ()),
    ("commenters", "top_commenters", "Top commenters",
     "Comments per author name as the pages show it (view commenter); comments without an "
     "author are left out.", ()),
    ("comention", "comention", "Who is named with whom",
     "Pairs of entities named in the same article: how many articles name both, and their "
     "lift, how many times more often than by chance (view entity_comention). Hover a point "
     "for its pair.", ("comention",)),
    ("stories", "story_sizes", "Stories: copies on mirrors and re-crawls",
     "Articles whose bodies are near-duplicates form a story (view story): how many stories "
     "have how many copies, and the largest.", ("largest_stories",)),
    ("repeated", "repeated_comments", "Repeated comments",
     "The same comment text under several stories or names, the mark of coordinated posting "
     "(view repeated_comment; copies of a page on mirrors are one story).",
     ("repeated_comments",)),
    ("quality", "runs", "Data quality of recent runs",
     "Rules broken and files set aside by the latest runs (view run_health), then the rules "
     "the latest run found broken, with what each means. This section stands in for the "
     "Great Expectations Data Docs when no network is at hand.", ("runs", "broken_rules")),
)  # fmt: skip


def sections(data: dict[str, pl.DataFrame]) -> list[Section]:
    """The report's sections, in reading order; a section without data gets no chart."""
    charts = _charts(data)
    return [
        Section(key, title, intro, charts[chart], tuple(data[name] for name in tables))
        for key, chart, title, intro, tables in SECTIONS
    ]


def _table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return '<p class="empty">None.</p>'
    head = "".join(f"<th>{html.escape(column)}</th>" for column in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(value))}</td>" for value in row) + "</tr>"
        for row in frame.iter_rows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def _section_html(section: Section) -> str:
    if section.chart is None:
        chart = '<p class="empty">No data yet.</p>'
    else:
        chart = section.chart.to_html(
            full_html=False, include_plotlyjs=False, div_id=f"chart-{section.key}", config=CONFIG
        )
    tables = "".join(_table(frame) for frame in section.tables)
    return (
        f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>'
        f"<p>{html.escape(section.intro)}</p>{chart}{tables}</section>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } section { margin-top: 2.5em; }
table { border-collapse: collapse; font-size: 0.9em; margin-top: 1em; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.5em; text-align: left; }
td { vertical-align: top; }
.totals span { display: inline-block; margin-right: 2em; } .empty { color: #777; }
"""


def render(data: dict[str, pl.DataFrame], warehouse: Path) -> str:
    """The whole report as one HTML document, plotly.js and styles inline."""
    totals = data["totals"].row(0, named=True)
    figures = "".join(
        f"<span><b>{value:,}</b> {html.escape(name.replace('_', ' '))}</span>"
        for name, value in totals.items()
    )
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(_section_html(section) for section in sections(data))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>newsflow report</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        f"<h1>newsflow report</h1><p>{html.escape(str(warehouse))}, {made}</p>"
        f'<p class="totals">{figures}</p>{body}</body></html>'
    )


def write_report(warehouse: Path, output: Path) -> Path:
    """Write the report of `warehouse` to `output`; return the path."""
    page = render(read(warehouse), warehouse)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return output
