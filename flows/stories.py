"""Group near-duplicate article bodies (mirror copies, re-crawls) into stories: MinHash and LSH."""

import hashlib
import json

import numpy as np
import polars as pl
import pyarrow as pa
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from flows.reference.minhash import MINHASH

# 3-word shingles: a mirror copy keeps nearly all of them, an edited word breaks only three;
# two different articles on one topic share few.
SHINGLE_WORDS = 3
# A story is read from the body's opening: enough to tell articles apart, and it bounds the
# cost of an article (long pages would otherwise dominate a run).
MAX_WORDS = 600
# Characters of a body fetched to find its first MAX_WORDS words (about 7 a word in English).
MAX_CHARS = 12_000
# datasketch's permutations and LSH bands for 128 permutations of its affine32 scheme and an
# estimated Jaccard similarity of 0.5 (THRESHOLD, at or above which two bodies are copies of
# one story; the fixture crawl of tests/test_stories.py measures what it gives), as
# `python -m flows.reference.minhash` wrote them.
_PARAMETERS = json.loads(MINHASH.read_text())
NUM_PERM = _PARAMETERS["num_perm"]
THRESHOLD = _PARAMETERS["threshold"]
SCHEME = _PARAMETERS["scheme"]
# Shingles are hashed with polars, whose hash may change between its versions: signatures
# made otherwise are computed again (article_story.signed_with).
SIGNED_WITH = (
    f"shingles={SHINGLE_WORDS} words={MAX_WORDS} perm={NUM_PERM} {SCHEME} "
    f"datasketch {_PARAMETERS['datasketch']} polars {pl.__version__}"
)
SIGNATURE_SCHEMA = {"article_id": pl.String(), "minhash": pl.Binary()}
_MIX = np.uint64(0x100000001B3)
BANDS = [(start, end) for start, end in _PARAMETERS["bands"]]
# Each band's key is the keyed BLAKE2b digest of its values' bytes.
_KEYED_BANDS = [hashlib.blake2b(digest_size=8, key=b"%d" % band) for band in range(len(BANDS))]
_BAND_BYTES = [(start * 4, end * 4) for start, end in BANDS]
# A signature holds, for each k, the least a_k * h + b_k (mod 2^32) over the (mixed) hashes h
# of its shingles.
_PERMUTE_A = np.array(_PARAMETERS["multipliers"], dtype=np.uint32)
_PERMUTE_B = np.array(_PARAMETERS["offsets"], dtype=np.uint32)
# Shingles permuted at once: the block's NUM_PERM values each (1 MB) stay in the CPU's cache.
_BLOCK = 2048
# Pairs compared at once: the signatures of both sides, 8 MB each.
_PAIRS_AT_ONCE = 16_384


def shingle_hashes(bodies: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The 32-bit hashes of the shingles of every body, all in one array, and how many each
    body has. A shingle is SHINGLE_WORDS consecutive words (lower case, punctuation and line
    breaks ignored) of the body's first MAX_WORDS words; a body shorter than one shingle is
    its own single shingle, and one without words has none."""
    words = bodies.str.to_lowercase().str.extract_all(r"\w+").list.head(MAX_WORDS)
    lengths = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = words.explode().drop_nulls().hash().to_numpy()
    count = len(flat)
    # Shingle j of the flat word list combines words j .. j+k-1; those that run past the
    # end of their body are left out below.
    combined = flat[: max(count - SHINGLE_WORDS + 1, 0)].copy()
    for offset in range(1, SHINGLE_WORDS):
        combined = combined * _MIX ^ flat[offset : count - SHINGLE_WORDS + 1 + offset]
    whole = lengths >= SHINGLE_WORDS
    counts = np.where(whole, lengths - SHINGLE_WORDS + 1, np.minimum(lengths, 1))
    # Where each shingle starts in the flat word list: its body's first word, plus its rank.
    firsts = np.repeat(np.cumsum(lengths) - lengths, counts)
    ranks = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    starts = firsts + ranks
    of_whole = np.repeat(whole, counts)
    hashes = np.empty(len(starts), dtype=np.uint32)
    hashes[of_whole] = (combined[starts[of_whole]] >> np.uint64(32)).astype(np.uint32)
    hashes[~of_whole] = flat[starts[~of_whole]].astype(np.uint32)
    return hashes, counts


def minhashes(hashes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The MinHash signature (NUM_PERM values) of each set of shingle `hashes` (`counts`
    consecutive hashes each, none empty), as datasketch's MinHash of scheme SCHEME computes
    it, one row per set; computed for many sets at once."""
    mixed = _fmix32(hashes)
    ends = np.cumsum(counts)
    starts = ends - counts
    signed = np.empty((len(counts), NUM_PERM), dtype=np.uint32)
    first = 0
    while first < len(counts):
        # The sets whose shingles fit in one block (at least one set).
        last = max(first + 1, int(np.searchsorted(ends, starts[first] + _BLOCK, side="right")))
        low, high = starts[first], ends[last - 1]
        values = mixed[low:high, None] * _PERMUTE_A + _PERMUTE_B
        signed[first:last] = np.minimum.reduceat(values, starts[first:last] - low, axis=0)
        first = last
    return signed


def _fmix32(values: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer, which datasketch applies to each hash before
    permuting it."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signatures(articles: pl.DataFrame) -> pl.DataFrame:
    """MinHash signature of each article's body (article_id, minhash as bytes); articles
    whose body has no word get none."""
    hashes, counts = shingle_hashes(articles["body"])
    signed = minhashes(hashes, counts[counts > 0])
    minhash = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(NUM_PERM * 4), len(signed), [None, pa.py_buffer(signed.tobytes())]
    )
    return pl.DataFrame(
        {
            "article_id": articles["article_id"].filter(pl.Series(counts > 0)),
            "minhash": pl.Series(minhash, dtype=pl.Binary()),
        },
        schema=SIGNATURE_SCHEMA,
    )


def band_keys(signed: pl.DataFrame) -> pl.DataFrame:
    """The LSH index rows of `signed`: one (band_key, article_id) per article and band."""
    digests = []
    for minhash in signed["minhash"]:
        for keyed, (start, end) in zip(_KEYED_BANDS, _BAND_BYTES, strict=True):
            digest = keyed.copy()
            digest.update(minhash[start:end])
            digests.append(digest.digest())
    keys = np.frombuffer(b"".join(digests), dtype="<i8")
    ids = signed.select(pl.col("article_id").repeat_by(len(BANDS)).explode())["article_id"]
    return pl.DataFrame(
        {"band_key": keys, "article_id": ids},
        schema={"band_key": pl.Int64(), "article_id": pl.String()},
    )


def similarity(signatures: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """Estimated Jaccard similarity of each of `pairs` (article_id, other_id): the share of
    equal values of their `signatures` (article_id, minhash); NaN where one has none."""
    values = _values(signatures["minhash"])
    rows = pl.Series(range(signatures.height), dtype=pl.Int64())
    mine, theirs = (
        pairs[column].replace_strict(signatures["article_id"], rows, default=None)
        for column in ("article_id", "other_id")
    )
    both = mine.is_not_null() & theirs.is_not_null()
    mine_rows, their_rows = mine.filter(both).to_numpy(), theirs.filter(both).to_numpy()
    shares = np.full(pairs.height, np.nan)
    found = np.empty(len(mine_rows))
    for start in range(0, len(mine_rows), _PAIRS_AT_ONCE):
        end = start + _PAIRS_AT_ONCE
        found[start:end] = (values[mine_rows[start:end]] == values[their_rows[start:end]]).mean(1)
    shares[both.to_numpy()] = found
    return shares


def _values(signatures: pl.Series) -> np.ndarray:
    """Signatures (bytes) as a matrix of their NUM_PERM values, a row each."""
    return signatures.bin.reinterpret(dtype=pl.Array(pl.UInt32(), NUM_PERM)).to_numpy()


def assign(
    new_ids: list[str], pairs: pl.DataFrame, next_story: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give each new article a story, from the `pairs` found similar (article_id, other_id,
    other_story_id: NULL when the other is new too).

    Returns the new articles' (article_id, story_id), and the existing stories to relabel
    (old_story_id, story_id): a new copy that joins several stories merges them into the
    lowest id. A new article that joins none starts a story numbered from `next_story`.
    """
    old = pairs["other_story_id"].drop_nulls().unique().sort()
    group = _components(new_ids, old, pairs)
    nodes = pl.DataFrame(
        {
            "group": group,
            "article_id": [*new_ids, *([None] * old.len())],
            "old_story_id": [*([None] * len(new_ids)), *old],
        },
        schema={"group": pl.Int64(), "article_id": pl.String(), "old_story_id": pl.Int64()},
    ).with_row_index("node")
    # Every group holds a new article; new stories are numbered in the order of their least.
    groups = (
        nodes.group_by("group")
        .agg(first=pl.col("article_id").min(), old=pl.col("old_story_id").drop_nulls().sort())
        .sort("first")
        .with_columns(new=pl.col("old").list.len() == 0)
        .with_columns(
            story_id=pl.coalesce(
                pl.col("old").list.first(), next_story - 1 + pl.col("new").cum_sum()
            ),
        )
    )
    assigned = (
        nodes.filter(pl.col("article_id").is_not_null())
        .join(groups, on="group")
        .sort("first", "node")
        .select("article_id", "story_id")
    )
    relabel = (
        groups.select("first", "story_id", old_story_id=pl.col("old").list.slice(1))
        .explode("old_story_id")
        .drop_nulls("old_story_id")
        .sort("first", "old_story_id")
        .select("old_story_id", "story_id")
    )
    return assigned, relabel


def _components(new_ids: list[str], old: pl.Series, pairs: pl.DataFrame) -> np.ndarray:
    """The connected component of each node of the graph of `pairs`: the new articles (nodes
    0 .. n-1), then the existing stories `old` they join."""
    articles = pl.DataFrame({"article_id": new_ids}, schema={"article_id": pl.String()})
    articles = articles.with_row_index("node")
    joined = old.to_frame("other_story_id").with_row_index("story_node", offset=len(new_ids))
    edges = (
        pairs.join(articles, on="article_id")
        .join(
            articles.rename({"article_id": "other_id", "node": "other_node"}),
            on="other_id",
            how="left",
        )
        .join(joined, on="other_story_id", how="left")
        .select("node", other=pl.coalesce("story_node", "other_node"))
    )
    size = len(new_ids) + old.len()
    graph = coo_array(
        (np.ones(edges.height, dtype=np.int8), (edges["node"], edges["other"])), shape=(size, size)
    )
    return connected_components(graph, directed=False)[1]


def link(
    articles: pl.DataFrame,
    signed: pl.DataFrame,
    known: pl.DataFrame,
    pairs: pl.DataFrame,
    next_story: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The article_story rows of the newly `signed` articles and the stories to relabel,
    from the candidate `pairs` the LSH index gave (kept when similar enough); `known` holds
    the signatures of the pairs' articles signed before."""
    close = similarity(pl.concat([signed, known]), pairs) >= THRESHOLD
    story, relabel = assign(signed["article_id"].to_list(), pairs.filter(close), next_story)
    rows = story.join(signed, on="article_id").join(
        articles.select("article_id", "loaded_by_run", "body_md5"), on="article_id"
    )
    return rows.with_columns(signed_with=pl.lit(SIGNED_WITH)), relabel
