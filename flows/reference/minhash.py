"""Write datasketch's MinHash permutations and LSH bands into minhash.json.

python -m flows.reference.minhash

flows/stories.py computes datasketch's MinHash signatures and LSH band keys itself, for many
bodies at once, and needs only these numbers from datasketch. A run reads them from the
committed file instead of importing datasketch, which brings scipy's integration and special
functions with it: 0.6 s and 53 MiB of every run, for 256 numbers. tests/test_stories.py holds
the file equal to what the installed datasketch gives.
"""

import json
from importlib.metadata import version
from pathlib import Path

MINHASH = Path(__file__).resolve().parent / "minhash.json"
# The stories' settings: 128 permutations of datasketch's default scheme, and LSH bands for an
# estimated Jaccard similarity of 0.5.
NUM_PERM = 128
SCHEME = "affine32"
THRESHOLD = 0.5


def parameters() -> dict:
    """The permutations and bands the installed datasketch uses for these settings."""
    from datasketch import MinHash, MinHashLSH

    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    multipliers, offsets = minhash.permutations
    return {
        "datasketch": version("datasketch"),
        "num_perm": NUM_PERM,
        "scheme": SCHEME,
        "seed": minhash.seed,
        "threshold": THRESHOLD,
        "bands": [list(band) for band in MinHashLSH(THRESHOLD, NUM_PERM).hashranges],
        "multipliers": multipliers.tolist(),
        "offsets": offsets.tolist(),
    }


def main() -> None:
    # A key a line, each value on its line: a new datasketch shows as a readable diff.
    lines = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in parameters().items()]
    MINHASH.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"wrote {MINHASH}")


if __name__ == "__main__":
    main()
