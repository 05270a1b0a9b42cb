"""Group near-duplicate article bodies (mirror copies, re-crawls) into stories: MinHash and LSH."""

import hashlib
from importlib.metadata import version

import numpy as np
import polars as pl
from datasketch import MinHash, MinHashLSH

# 3-word shingles: a mirror copy keeps nearly all of them, an edited word breaks only three;
# two different articles on one topic share few.
SHINGLE_WORDS = 3
# A story is read from the body's opening: enough to tell articles apart, and it bounds the
# cost of an article (long pages would otherwise dominate a run).
MAX_WORDS = 600
# Characters of a body fetched to find its first MAX_WORDS words (about 7 a word in English).
MAX_CHARS = 12_000
NUM_PERM = 128
# Estimated Jaccard similarity of the shingle sets at or above which two bodies are copies of
# one story. The fixture crawl of tests/test_stories.py measures what it gives.
THRESHOLD = 0.5
SCHEME = "affine32"
# Shingles are hashed with polars, whose hash may change between its versions: signatures
# made otherwise are computed again (article_story.signed_with).
SIGNED_WITH = (
    f"shingles={SHINGLE_WORDS} words={MAX_WORDS} perm={NUM_PERM} {SCHEME} "
    f"datasketch {version('datasketch')} polars {pl.__version__}"
)
SIGNATURE_SCHEMA = {"article_id": pl.String(), "minhash": pl.Binary()}
_MIX = np.uint64(0x100000001B3)


def _bands() -> list[tuple[int, int]]:
    """The LSH bands (start, end) datasketch chooses for THRESHOLD and NUM_PERM."""
    return MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM).hashranges


BANDS = _bands()


def shingle_hashes(bodies: pl.Series) -> list[np.ndarray]:
    """For each body, the 32-bit hashes of its shingles: SHINGLE_WORDS consecutive words
    (lower case, punctuation and line breaks ignored) of its first MAX_WORDS words."""
    words = bodies.str.to_lowercase().str.extract_all(r"\w+").list.head(MAX_WORDS)
    lengths = words.list.len().fill_null(0).to_numpy()
    flat = words.explode().drop_nulls().hash().to_numpy()
    count = len(flat)
    # Shingle j of the flat word list combines words j .. j+k-1; those that run past the
    # end of their body are sliced away below.
    combined = flat[: max(count - SHINGLE_WORDS + 1, 0)].copy()
    for offset in range(1, SHINGLE_WORDS):
        combined = combined * _MIX ^ flat[offset : count - SHINGLE_WORDS + 1 + offset]
    combined32 = (combined >> np.uint64(32)).astype(np.uint32)
    ends = np.cumsum(lengths)
    result = []
    for end, length in zip(ends, lengths, strict=True):
        start = end - length
        if length < SHINGLE_WORDS:
            # A body shorter than one shingle is its own single shingle.
            result.append(flat[start:end].astype(np.uint32)[:1] if length else flat[:0])
        else:
            result.append(combined32[start : end - SHINGLE_WORDS + 1])
    return result


def signatures(articles: pl.DataFrame) -> pl.DataFrame:
    """MinHash signature of each article's body (article_id, minhash as bytes); articles
    whose body has no word get none."""
    template = MinHash(num_perm=NUM_PERM, hashfunc=int, scheme=SCHEME)
    ids, signed = [], []
    hashes = shingle_hashes(articles["body"])
    for article_id, shingles in zip(articles["article_id"], hashes, strict=True):
        if len(shingles) == 0:
            continue
        minhash = template.copy()
        minhash.update_batch(shingles)
        ids.append(article_id)
        signed.append(minhash.hashvalues.astype(np.uint32).tobytes())
    return pl.DataFrame({"article_id": ids, "minhash": signed}, schema=SIGNATURE_SCHEMA)


def band_keys(signed: pl.DataFrame) -> pl.DataFrame:
    """The LSH index rows of `signed`: one (band_key, article_id) per article and band."""
    keys, ids = [], []
    for article_id, minhash in signed.iter_rows():
        values = np.frombuffer(minhash, dtype=np.uint32)
        for band, (start, end) in enumerate(BANDS):
            digest = hashlib.blake2b(values[start:end].tobytes(), digest_size=8, key=b"%d" % band)
            keys.append(int.from_bytes(digest.digest(), "little", signed=True))
            ids.append(article_id)
    return pl.DataFrame(
        {"band_key": keys, "article_id": ids},
        schema={"band_key": pl.Int64(), "article_id": pl.String()},
    )


def similarity(left: pl.Series, right: pl.Series) -> np.ndarray:
    """Estimated Jaccard similarity of each pair of signatures: the share of equal values."""
    if left.is_empty():
        return np.zeros(0)
    a = np.frombuffer(b"".join(left.to_list()), dtype=np.uint32).reshape(-1, NUM_PERM)
    b = np.frombuffer(b"".join(right.to_list()), dtype=np.uint32).reshape(-1, NUM_PERM)
    return (a == b).mean(axis=1)


class _Components:
    """Union-find over article ids and existing stories (as ("story", id) nodes)."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, node: object) -> object:
        self.parent.setdefault(node, node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: object, b: object) -> None:
        self.parent[self.find(a)] = self.find(b)


def assign(
    new_ids: list[str], pairs: pl.DataFrame, next_story: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give each new article a story, from the `pairs` found similar (article_id, other_id,
    other_story_id: NULL when the other is new too).

    Returns the new articles' (article_id, story_id), and the existing stories to relabel
    (old_story_id, story_id): a new copy that joins several stories merges them into the
    lowest id. A new article that joins none starts a story numbered from `next_story`.
    """
    components = _Components()
    for article_id in new_ids:
        components.find(article_id)
    for article_id, other_id, other_story in pairs.select(
        "article_id", "other_id", "other_story_id"
    ).iter_rows():
        other = other_id if other_story is None else ("story", other_story)
        components.union(article_id, other)
    members: dict[object, list[object]] = {}
    for node in list(components.parent):
        members.setdefault(components.find(node), []).append(node)
    assigned, relabel = [], []
    for group in sorted(members.values(), key=lambda nodes: min(map(str, nodes))):
        old = sorted(node[1] for node in group if isinstance(node, tuple))
        story = old[0] if old else next_story
        next_story += 0 if old else 1
        relabel += [(previous, story) for previous in old[1:]]
        assigned += [(node, story) for node in group if isinstance(node, str)]
    return (
        pl.DataFrame(
            assigned, schema={"article_id": pl.String(), "story_id": pl.Int64()}, orient="row"
        ),
        pl.DataFrame(
            relabel, schema={"old_story_id": pl.Int64(), "story_id": pl.Int64()}, orient="row"
        ),
    )


def link(
    articles: pl.DataFrame, signed: pl.DataFrame, pairs: pl.DataFrame, next_story: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The article_story rows of the newly `signed` articles and the stories to relabel,
    from the candidate `pairs` the LSH index gave (kept when similar enough)."""
    similar = pairs.filter(
        pl.Series(similarity(pairs["minhash"], pairs["other_minhash"])) >= THRESHOLD
    )
    story, relabel = assign(signed["article_id"].to_list(), similar, next_story)
    rows = story.join(signed, on="article_id").join(
        articles.select("article_id", "loaded_by_run", "body_md5"), on="article_id"
    )
    return rows.with_columns(signed_with=pl.lit(SIGNED_WITH)), relabel
