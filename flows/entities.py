"""Find named people, organisations and places in titles, bodies and comments."""

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.parse import stable_id
from flows.schema import conform, polars_schema

GAZETTEER = Path(__file__).resolve().parent / "reference" / "gazetteer.csv"
ENTITY_TYPES = ("PERSON", "ORG", "LOC")
TEXT_SCHEMA = pl.Schema(
    {
        "article_id": pl.String(),
        "comment_id": pl.String(),
        "field": pl.String(),
        "text": pl.String(),
    }
)


@dataclass(frozen=True)
class Gazetteer:
    """Canonical entities and every surface form (name, alias, spelling) that links to one."""

    entities: pl.DataFrame
    entity_of_surface: dict[str, str]


def load_gazetteer(path: Path = GAZETTEER) -> Gazetteer:
    """Read the reference CSV (entity_id, name, type, wikidata_id, aliases separated by |)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    entity_of_surface: dict[str, str] = {}
    for row in rows:
        if row["type"] not in ENTITY_TYPES:
            raise ValueError(
                f"{path.name}: {row['entity_id']} has type {row['type']!r}; "
                f"use one of {', '.join(ENTITY_TYPES)}"
            )
        aliases = [alias.strip() for alias in row["aliases"].split("|") if alias.strip()]
        for surface in (row["name"], *aliases):
            owner = entity_of_surface.setdefault(surface, row["entity_id"])
            if owner != row["entity_id"]:
                raise ValueError(
                    f"{path.name}: {surface!r} names both {owner} and {row['entity_id']}; "
                    "give it to one of them only"
                )
    entities = pl.DataFrame(
        {
            "entity_id": [row["entity_id"] for row in rows],
            "name": [row["name"] for row in rows],
            "type": [row["type"] for row in rows],
            "wikidata_id": [row["wikidata_id"] or None for row in rows],
            "source": ["gazetteer"] * len(rows),
        }
    )
    return Gazetteer(conform(entities, "entity"), entity_of_surface)


def text_fields(article: pl.DataFrame, comment: pl.DataFrame) -> pl.DataFrame:
    """Every text an entity can be named in: one row per title, body and comment."""
    no_comment = pl.lit(None, dtype=pl.String()).alias("comment_id")
    parts = [
        article.select("article_id", no_comment, pl.lit("title").alias("field"), text="title"),
        article.select("article_id", no_comment, pl.lit("body").alias("field"), text="body"),
        comment.select("article_id", "comment_id", pl.lit("comment").alias("field"), text="body"),
    ]
    return pl.concat([part.cast(TEXT_SCHEMA) for part in parts]).drop_nulls("text")


def find_mentions(texts: pl.DataFrame, gazetteer: Gazetteer) -> pl.DataFrame:
    """Match every surface form in `texts` as a whole word; where matches overlap the longest
    wins (`Greater Idlib` over `Idlib`). Offsets are in characters, not bytes."""
    patterns = list(gazetteer.entity_of_surface)
    candidates = (
        texts.with_columns(
            byte_start=pl.col("text").str.find_many(patterns, overlapping=True),
            surface=pl.col("text").str.extract_many(patterns, overlapping=True),
        )
        .filter(pl.col("surface").list.len() > 0)
        .select("article_id", "comment_id", "field", "text", "byte_start", "surface")
    )
    rows = []
    for article_id, comment_id, field, text, byte_starts, surfaces in candidates.iter_rows():
        for char_start, char_end, surface in _whole_word_longest(text, byte_starts, surfaces):
            entity_id = gazetteer.entity_of_surface[surface]
            rows.append(
                {
                    "mention_id": stable_id(article_id, comment_id, field, char_start, entity_id),
                    "entity_id": entity_id,
                    "article_id": article_id,
                    "comment_id": comment_id,
                    "field": field,
                    "char_start": char_start,
                    "char_end": char_end,
                    "surface": surface,
                    "extractor": "gazetteer",
                }
            )
    return pl.DataFrame(rows, schema=polars_schema("entity_mention"))


def _whole_word_longest(
    text: str, byte_starts: list[int], surfaces: list[str]
) -> list[tuple[int, int, str]]:
    to_char = _byte_to_char_offsets(text)
    spans = []
    for byte_start, surface in zip(byte_starts, surfaces, strict=True):
        start = to_char(byte_start)
        end = start + len(surface)
        before_ok = start == 0 or not text[start - 1].isalnum()
        after_ok = end == len(text) or not text[end].isalnum()
        if before_ok and after_ok:
            spans.append((start, end, surface))
    spans.sort(key=lambda span: (span[0], span[0] - span[1]))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _byte_to_char_offsets(text: str):
    encoded = text.encode()
    if len(encoded) == len(text):
        return lambda offset: offset
    return lambda offset: len(encoded[:offset].decode())
