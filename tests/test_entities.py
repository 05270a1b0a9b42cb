"""Tests for flows.entities: the gazetteer and the whole-word, longest-match mention finder."""

import csv
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.entities import (
    ENTITY_TYPES,
    GAZETTEER,
    Gazetteer,
    find_mentions,
    load_gazetteer,
    text_fields,
)
from flows.parse import parse_pages
from flows.schema import polars_schema

SAMPLE_PAGES = Path(__file__).resolve().parent.parent / "sample_pages"
COMMENT_INPUT_SCHEMA = pl.Schema(
    {"article_id": pl.String(), "comment_id": pl.String(), "body": pl.String()}
)
ARTICLE_INPUT_SCHEMA = pl.Schema(
    {"article_id": pl.String(), "title": pl.String(), "body": pl.String()}
)
NO_COMMENTS = pl.DataFrame(schema=COMMENT_INPUT_SCHEMA)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def body_mentions(gazetteer: Gazetteer, body: str) -> list[tuple[str, str]]:
    """(entity_id, surface) of every mention in one article body, in text order."""
    article = pl.DataFrame(
        {"article_id": ["a1"], "title": [None], "body": [body]}, schema=ARTICLE_INPUT_SCHEMA
    )
    mentions = find_mentions(text_fields(article, NO_COMMENTS), gazetteer)
    return mentions.sort("char_start").select("entity_id", "surface").rows()


# Matching


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("Idlibians marched in the square.", [], id="idlibians-not-idlib"),
        pytest.param("Syrians and Russians agreed.", [], id="demonyms-not-countries"),
        pytest.param("USAID sent tents to MUSA camp.", [], id="us-inside-a-word"),
        pytest.param("The Assads ruled long.", [], id="plural-of-a-name"),
        pytest.param("Idlib, Idlib. (Idlib)", [("idlib", "Idlib")] * 3, id="punctuation-around"),
        pytest.param("Idlib-based groups", [("idlib", "Idlib")], id="hyphen-after"),
        pytest.param("anti-Turkey protests", [("turkey", "Turkey")], id="hyphen-before"),
    ],
)
def test_surface_forms_match_whole_words_only(
    gazetteer: Gazetteer, body: str, expected: list[tuple[str, str]]
) -> None:
    assert body_mentions(gazetteer, body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "Shelling hit Greater Idlib again.",
            [("greater-idlib", "Greater Idlib")],
            id="greater-idlib",
        ),
        pytest.param(
            "The Russian Military Police arrived.",
            [("russian-military-police", "Russian Military Police")],
            id="russian-military-police",
        ),
        pytest.param(
            "Traffic on the M4 highway resumed.",
            [("m4-highway", "M4 highway")],
            id="m4-highway",
        ),
        pytest.param(
            "Hafez al-Assad, not Bashar al-Assad.",
            [("hafez-al-assad", "Hafez al-Assad"), ("bashar-al-assad", "Bashar al-Assad")],
            id="full-names-over-family-name",
        ),
    ],
)
def test_longest_overlapping_match_wins(
    gazetteer: Gazetteer, body: str, expected: list[tuple[str, str]]
) -> None:
    assert body_mentions(gazetteer, body) == expected


def test_aliases_and_misspellings_link_to_one_entity(gazetteer: Gazetteer) -> None:
    body = "Erdogan, Erdoğan, Erdogon and Recep Tayyip Erdogan are one man."

    mentions = body_mentions(gazetteer, body)

    assert mentions == [
        ("recep-tayyip-erdogan", "Erdogan"),
        ("recep-tayyip-erdogan", "Erdoğan"),
        ("recep-tayyip-erdogan", "Erdogon"),
        ("recep-tayyip-erdogan", "Recep Tayyip Erdogan"),
    ]
    names = gazetteer.entities.filter(pl.col("entity_id") == "recep-tayyip-erdogan")
    assert names.select("name", "type").rows() == [("Recep Tayyip Erdoğan", "PERSON")]


@pytest.mark.parametrize(
    "body", ["Syria\u2019s future", "Syria's future"], ids=["curly", "straight"]
)
def test_possessive_matches_the_name(gazetteer: Gazetteer, body: str) -> None:
    assert body_mentions(gazetteer, body) == [("syria", "Syria")]


def test_us_backed_matches_the_united_states(gazetteer: Gazetteer) -> None:
    mentions = body_mentions(gazetteer, "U.S.-backed fighters and US-led strikes")

    assert mentions == [("united-states", "U.S."), ("united-states", "US")]
    united_states = gazetteer.entities.filter(pl.col("entity_id") == "united-states")
    assert united_states.select("name", "type", "wikidata_id").rows() == [
        ("United States", "LOC", "Q30")
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("مرحبا بكم — Putin met Erdoğan in Saraqib.", id="arabic-before"),
        pytest.param("Séamus Ó Néill 🙂 wrote: Putin met Erdoğan in Saraqib.", id="accents-emoji"),
        pytest.param("Привет! Putin met Erdoğan in Saraqib.", id="cyrillic-before"),
    ],
)
def test_offsets_are_characters_that_slice_back_to_the_surface(
    gazetteer: Gazetteer, body: str
) -> None:
    article = pl.DataFrame(
        {"article_id": ["a1"], "title": [None], "body": [body]}, schema=ARTICLE_INPUT_SCHEMA
    )

    mentions = find_mentions(text_fields(article, NO_COMMENTS), gazetteer)

    assert mentions["surface"].to_list() == ["Putin", "Erdoğan", "Saraqib"]
    start = body.index("Putin")
    assert mentions.select("char_start", "char_end").rows() == [
        (start, start + 5),
        (start + 10, start + 17),
        (start + 21, start + 28),
    ]
    for char_start, char_end, surface in mentions.select(
        "char_start", "char_end", "surface"
    ).rows():
        assert body[char_start:char_end] == surface


def test_mentions_carry_their_field_and_comment(gazetteer: Gazetteer) -> None:
    article = pl.DataFrame(
        {
            "article_id": ["a1", "a2"],
            "title": ["Talks In Moscow", None],
            "body": ["Lavrov spoke first.", "No names here."],
        },
        schema=ARTICLE_INPUT_SCHEMA,
    )
    comment = pl.DataFrame(
        {
            "article_id": ["a1", "a1", "a2"],
            "comment_id": ["c1", "c2", "c3"],
            "body": ["And Hezbollah?", "nothing to see", "Putin and Putin again"],
        },
        schema=COMMENT_INPUT_SCHEMA,
    )

    mentions = find_mentions(text_fields(article, comment), gazetteer)

    expected = pl.DataFrame(
        {
            "entity_id": ["moscow", "sergey-lavrov", "hezbollah"] + ["vladimir-putin"] * 2,
            "article_id": ["a1", "a1", "a1", "a2", "a2"],
            "comment_id": [None, None, "c1", "c3", "c3"],
            "field": ["title", "body", "comment", "comment", "comment"],
            "char_start": [9, 0, 4, 0, 10],
            "char_end": [15, 6, 13, 5, 15],
            "surface": ["Moscow", "Lavrov", "Hezbollah", "Putin", "Putin"],
            "extractor": ["gazetteer"] * 5,
        },
        schema={k: v for k, v in polars_schema("entity_mention").items() if k != "mention_id"},
    )
    assert_frame_equal(mentions.drop("mention_id"), expected, check_row_order=False)
    assert mentions["mention_id"].n_unique() == mentions.height
    again = find_mentions(text_fields(article, comment), gazetteer)
    assert_frame_equal(mentions, again)


def test_no_text_gives_an_empty_frame_with_the_table_columns(gazetteer: Gazetteer) -> None:
    article = pl.DataFrame(
        {"article_id": ["a1"], "title": [None], "body": [None]}, schema=ARTICLE_INPUT_SCHEMA
    )

    mentions = find_mentions(text_fields(article, NO_COMMENTS), gazetteer)

    assert mentions.is_empty()
    assert mentions.schema == polars_schema("entity_mention")


# The gazetteer


def test_gazetteer_gives_every_surface_form_to_one_entity_of_a_known_type() -> None:
    with GAZETTEER.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    owners: dict[str, set[str]] = {}
    for row in rows:
        aliases = [alias.strip() for alias in row["aliases"].split("|") if alias.strip()]
        for surface in (row["name"], *aliases):
            owners.setdefault(surface, set()).add(row["entity_id"])

    assert {surface: ids for surface, ids in owners.items() if len(ids) > 1} == {}
    assert {row["type"] for row in rows} <= set(ENTITY_TYPES)
    assert len({row["entity_id"] for row in rows}) == len(rows)
    curated = load_gazetteer(base=None)
    assert curated.entities.height == len(rows)
    expected = {s: ids.pop() for s, ids in owners.items()}
    assert {s: curated.entity_of_surface[s] for s in expected} == expected


def test_load_gazetteer_refuses_a_surface_form_claimed_twice(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.csv"
    path.write_text(
        "entity_id,name,type,wikidata_id,aliases\n"
        "georgia-country,Georgia,LOC,,Sakartvelo\n"
        "georgia-state,Georgia (U.S. state),LOC,,Georgia\n",
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="'Georgia' names both georgia-country and georgia-state"):
        load_gazetteer(path)


# The sample pages


def test_sample_pages_mention_the_main_actors_and_places(gazetteer: Gazetteer) -> None:
    paths = sorted(SAMPLE_PAGES.glob("*.txt"))
    pages = pl.DataFrame(
        {
            "source_path": [path.name for path in paths],
            "sha256": [f"sha-{path.stem}" for path in paths],
            "text": [path.read_text(encoding="utf-8") for path in paths],
        }
    )
    article, comment, _ = parse_pages(pages)
    texts = text_fields(article, comment)

    mentions = find_mentions(texts, gazetteer)

    assert set(mentions["entity_id"]) >= {
        "vladimir-putin",
        "recep-tayyip-erdogan",
        "idlib",
        "greater-idlib",
        "m4-highway",
        "saraqib",
        "hayat-tahrir-al-sham",
        "jisr-al-shughur",
    }
    assert set(mentions["field"]) == {"title", "body", "comment"}
    located = mentions.join(texts, on=["article_id", "comment_id", "field"], nulls_equal=True)
    assert located.height == mentions.height
    for text, char_start, char_end, surface in located.select(
        "text", "char_start", "char_end", "surface"
    ).rows():
        assert text[char_start:char_end] == surface
