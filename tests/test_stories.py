"""Stories: near-duplicate bodies grouped at load, measured on a crawl with known copies."""

import hashlib
import itertools
import json
import random
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from datasketch import MinHash, MinHashLSH
from figures import FIGURES, RecordProperty

from flows import schema, stories
from flows.load import Writer
from flows.reference import minhash as minhash_parameters

WORDS = (Path(stories.__file__).parent / "reference" / "common_words.txt").read_text().split()


def test_assign_starts_stories_joins_them_and_merges_into_the_lowest():
    pairs = pl.DataFrame(
        {
            "article_id": ["new-a", "new-a", "new-b", "new-c", "new-d"],
            "other_id": ["old-1", "old-2", "new-c", "new-b", "old-3"],
            "other_story_id": [7, 3, None, None, 3],
        }
    )

    story, relabel = stories.assign(["new-a", "new-b", "new-c", "new-d", "new-e"], pairs, 10)

    # new-a joins stories 7 and 3, which merge into 3; new-d joins 3 too. new-b and new-c are
    # copies of each other (a new story), new-e is alone (another).
    assert sorted(story.iter_rows()) == [
        ("new-a", 3),
        ("new-b", 10),
        ("new-c", 10),
        ("new-d", 3),
        ("new-e", 11),
    ]
    assert relabel.rows() == [(7, 3)]


def test_a_body_without_words_gets_no_signature_and_a_short_one_does():
    articles = pl.DataFrame({"article_id": ["dots", "short"], "body": ["... --", "Hello there"]})

    signed = stories.signatures(articles)

    assert signed["article_id"].to_list() == ["short"]


def test_signatures_are_datasketchs_minhash_of_each_bodys_shingles():
    rng = random.Random(3)
    bodies = [
        " ".join(rng.choices(WORDS[:300], k=words)) for words in (0, 1, 2, 3, 4, 50, 700, 2500)
    ]
    bodies += ["One, two! Three?\nFour", "Ünïcode wörds ánd ÇAPITALS here"]
    articles = pl.DataFrame(
        {"article_id": [f"a{i:02d}" for i in range(len(bodies))], "body": bodies}
    )

    signed = stories.signatures(articles)

    # The datasketch MinHash of each body, from its shingle hashes one body at a time.
    expected = {}
    for article_id, body in articles.iter_rows():
        hashes, counts = stories.shingle_hashes(pl.Series([body]))
        if counts[0]:
            minhash = MinHash(num_perm=stories.NUM_PERM, hashfunc=int, scheme=stories.SCHEME)
            minhash.update_batch(hashes.tolist())
            expected[article_id] = minhash.hashvalues.astype(np.uint32).tobytes()
    assert dict(signed.iter_rows()) == expected
    assert len(expected) == len(bodies) - 1  # all but the empty body
    # A body shorter than one shingle is its first word; a longer one is read to MAX_WORDS.
    hashes, counts = stories.shingle_hashes(pl.Series(bodies))
    assert counts.tolist() == [
        0,
        1,
        1,
        1,
        2,
        48,
        stories.MAX_WORDS - 2,
        stories.MAX_WORDS - 2,
        2,
        3,
    ]
    assert len(hashes) == counts.sum()


def test_the_committed_parameters_are_those_of_the_installed_datasketch():
    assert json.loads(minhash_parameters.MINHASH.read_text()) == minhash_parameters.parameters()
    assert MinHashLSH(stories.THRESHOLD, stories.NUM_PERM).hashranges == stories.BANDS
    multipliers, offsets = MinHash(num_perm=stories.NUM_PERM, scheme=stories.SCHEME).permutations
    assert np.array_equal(stories._PERMUTE_A, multipliers)
    assert np.array_equal(stories._PERMUTE_B, offsets)
    assert f"datasketch {version('datasketch')} " in stories.SIGNED_WITH


def test_a_run_does_not_import_datasketch():
    # datasketch brings scipy's integration and special functions: 0.6 s and 53 MiB a run.
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, flows.cli, flows.ingest; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "flows.stories" in imported
    assert "datasketch" not in imported
    assert "scipy.integrate" not in imported


def test_band_keys_are_each_bands_keyed_blake2b_digest():
    articles = pl.DataFrame({"article_id": ["a", "b"], "body": ["one two three four", "five six"]})
    signed = stories.signatures(articles)

    keys = stories.band_keys(signed)

    expected = []
    for article_id, minhash in signed.iter_rows():
        values = np.frombuffer(minhash, dtype=np.uint32)
        for band, (start, end) in enumerate(stories.BANDS):
            digest = hashlib.blake2b(values[start:end].tobytes(), digest_size=8, key=b"%d" % band)
            expected.append((int.from_bytes(digest.digest(), "little", signed=True), article_id))
    assert keys.rows() == expected
    assert keys.height == 2 * len(stories.BANDS)


def test_similarity_is_the_share_of_equal_values_and_nan_without_a_signature():
    values = np.arange(3 * stories.NUM_PERM, dtype=np.uint32).reshape(3, -1)
    values[1, : stories.NUM_PERM // 4] = values[0, : stories.NUM_PERM // 4]
    signatures = pl.DataFrame(
        {"article_id": ["a", "b", "c"], "minhash": [row.tobytes() for row in values]}
    )
    pairs = pl.DataFrame({"article_id": ["a", "b", "a", "c"], "other_id": ["b", "a", "gone", "c"]})

    shares = stories.similarity(signatures, pairs)

    assert shares[[0, 1, 3]].tolist() == [0.25, 0.25, 1.0]
    assert np.isnan(shares[2])


class Crawl:
    """A crawl of article bodies in families with known copies, and unrelated look-alikes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # A small vocabulary with a few very common words, as in real text: unrelated
        # articles share more shingles by chance than uniform random words would.
        self.vocabulary = WORDS[:400]
        self.weights = [1 / (rank + 1) for rank in range(len(self.vocabulary))]
        self.bodies: dict[str, str] = {}
        self.family: dict[str, int] = {}

    def paragraph(self, words: int) -> list[str]:
        return self.rng.choices(self.vocabulary, self.weights, k=words)

    def edited(self, words: list[str], share: float) -> list[str]:
        """`words` with `share` of them replaced."""
        copy = list(words)
        for index in self.rng.sample(range(len(copy)), int(len(copy) * share)):
            copy[index] = self.rng.choice(self.vocabulary)
        return copy

    def add(self, family: int, paragraphs: list[list[str]], separator: str = "\n\n") -> None:
        key = f"f{family:03d}-{len(self.bodies):04d}"
        self.bodies[key] = separator.join(" ".join(words) for words in paragraphs)
        self.family[key] = family

    def build(self, families: int) -> "Crawl":
        shared = self.paragraph(60)  # a boilerplate paragraph some sites add to every article
        for family in range(families):
            paragraphs = [self.paragraph(self.rng.randint(40, 90)) for _ in range(4)]
            if family % 5 == 0:
                paragraphs.append(shared)
            self.add(family, paragraphs)
            self.copies(family, paragraphs)
            if family % 7 == 0:
                # A follow-up article: it quotes the first paragraph of this one, then goes on:
                # another story, however alike it starts.
                self.add(families + family, [paragraphs[0], *map(self.paragraph, [70, 70, 70])])
        return self

    def copies(self, family: int, paragraphs: list[list[str]]) -> None:
        """Mirror copies and re-crawls of one article: none to four of them."""
        for kind in self.rng.sample(range(6), self.rng.randint(0, 4)):
            if kind == 0:  # a mirror: single line breaks, upper case title words
                self.add(family, [[w.upper() for w in paragraphs[0]], *paragraphs[1:]], "\n")
            elif kind == 1:  # a re-crawl with a few words edited
                self.add(family, [self.edited(words, 0.03) for words in paragraphs])
            elif kind == 2:  # a re-crawl with an update paragraph added at the end
                self.add(family, [*paragraphs, self.paragraph(40)])
            elif kind == 3:  # a mirror that cut the article short
                self.add(family, paragraphs[:3])
            elif kind == 4:  # a mirror with site chrome around the text
                chrome = [["support", "southfront"], ["illustrative", "image"]]
                self.add(family, [chrome[0], *paragraphs, chrome[1]])
            else:  # a heavily rewritten copy: meant to be hard, it may be missed
                self.add(family, [self.edited(words, 0.12) for words in paragraphs])

    def true_pairs(self) -> set[tuple[str, str]]:
        return {
            (a, b)
            for a, b in itertools.combinations(sorted(self.bodies), 2)
            if self.family[a] == self.family[b]
        }


def load_articles(con: duckdb.DuckDBPyConnection, bodies: dict[str, str], run: str) -> None:
    rows = [
        {
            "article_id": key,
            "source_path": f"{key}.txt",
            "source": "crawl",
            "body": body,
            "layout": "none",
            "n_comments": 0,
            "sha256": key,
            "parser_version": "test",
            "loaded_by_run": run,
        }
        for key, body in bodies.items()
    ]
    frame = pl.DataFrame(rows).pipe(lambda f: f.select(f.columns))
    con.register("loaded", frame)
    con.execute("insert into article by name select * from loaded")
    con.unregister("loaded")


def found_pairs(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    rows = con.execute(
        "select a.article_id, b.article_id from article_story a join article_story b "
        "on a.story_id = b.story_id and a.article_id < b.article_id"
    ).fetchall()
    return set(rows)


@pytest.fixture(scope="module")
def crawl() -> Crawl:
    return Crawl(seed=15).build(families=120)


def test_stories_find_the_known_copies_of_a_crawl(crawl: Crawl, record_property: RecordProperty):
    con = duckdb.connect()
    schema.create_tables(con)
    writer = Writer(con)
    # Two runs, the second loading the rest of the crawl: each run compares only its new
    # articles with the earlier ones (and with each other), in chunks smaller than a run.
    keys = list(crawl.bodies)
    rng = random.Random(1)
    rng.shuffle(keys)
    first, second = keys[: len(keys) // 2], keys[len(keys) // 2 :]
    load_articles(con, {key: crawl.bodies[key] for key in first}, "r1")
    writer.update_stories(chunk=100)
    load_articles(con, {key: crawl.bodies[key] for key in second}, "r2")
    writer.update_stories(chunk=100)

    truth, found = crawl.true_pairs(), found_pairs(con)
    precision = len(truth & found) / len(found)
    recall = len(truth & found) / len(truth)
    record_property(
        FIGURES,
        f"stories on {len(keys)} articles in {len(set(crawl.family.values()))} stories "
        f"({len(truth)} copy pairs): pair precision {precision:.3f}, recall {recall:.3f}",
    )
    assert precision >= 0.98
    assert recall >= 0.9


def test_a_changed_text_is_signed_again_and_an_unchanged_one_keeps_its_story():
    con = duckdb.connect()
    schema.create_tables(con)
    writer = Writer(con)
    crawl = Crawl(seed=3)
    text = crawl.paragraph(120)
    load_articles(con, {"a": " ".join(text), "b": " ".join(text), "c": "other words " * 30}, "r1")
    assert writer.update_stories() == 3
    assert found_pairs(con) == {("a", "b")}
    story_of_c = con.execute("select story_id from article_story where article_id = 'c'").fetchall()

    # b is re-crawled with new text, c is re-loaded unchanged, a no longer has a body.
    con.execute("update article set body = ?, loaded_by_run = 'r2' where article_id = 'b'",
                [" ".join(crawl.paragraph(120))])  # fmt: skip
    con.execute("update article set loaded_by_run = 'r2' where article_id = 'c'")
    con.execute("update article set body = null, loaded_by_run = 'r2' where article_id = 'a'")

    assert writer.update_stories() == 1  # b; c's text is the one signed before
    assert found_pairs(con) == set()
    signed = con.execute("select article_id, loaded_by_run from article_story order by 1")
    assert signed.fetchall() == [("b", "r2"), ("c", "r2")]
    assert (
        con.execute("select story_id from article_story where article_id = 'c'").fetchall()
        == story_of_c
    )
    assert con.execute("select count(distinct article_id) from story_band").fetchall() == [(2,)]
    # Nothing new: nothing signed.
    assert writer.update_stories() == 0


@pytest.mark.usefixtures("prefect_server")
def test_a_run_groups_mirror_copies_into_stories_and_the_next_run_keeps_them(
    sample_pages: Path, tmp_path: Path, warehouse: Path
):
    from flows.ingest import ingest

    crawl = tmp_path / "crawl"
    for site in ("site-a", "site-b"):
        shutil.copytree(sample_pages, crawl / site)
    ingest(inputs=[str(crawl)], warehouse=str(warehouse))
    first, first_ids = stories_of(warehouse)
    # A re-crawl: one page of site-b edited, and a third mirror of the other page.
    edited, other = sorted((crawl / "site-b").glob("*.txt"))
    edited.write_text(edited.read_text().replace("the", "a", 3))
    (crawl / "site-c").mkdir()
    shutil.copy(other, crawl / "site-c" / other.name)
    ingest(inputs=[str(crawl)], warehouse=str(warehouse))

    second, second_ids = stories_of(warehouse)
    assert first == [(2, "site-a, site-b"), (2, "site-a, site-b")]
    assert second == [(2, "site-a, site-b"), (3, "site-a, site-b, site-c")]
    # Stories keep their ids; the new mirror joins the story of its page.
    assert {path: second_ids[path] for path in first_ids} == first_ids
    assert second_ids[f"site-c/{other.name}"] == first_ids[f"site-b/{other.name}"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        health = con.execute("select files_loaded, rules_checked > 0 from run_health").fetchall()
    assert health == [(2, True), (4, True)]


def stories_of(warehouse: Path) -> tuple[list[tuple], dict[str, int]]:
    """(copies, folder_list) of every story, and the story of each page."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stories = con.execute("select copies, folder_list from story order by all").fetchall()
        pages = con.execute("select source_path, story_id from article_overview").fetchall()
    return stories, dict(pages)
