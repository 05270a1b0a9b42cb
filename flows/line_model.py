"""The line labeller's model, run on whole batches of pages at once with numpy.

The model is a linear-chain CRF trained with CRFsuite (flows/train_parser.py) and read from
its file. CRFsuite's own tagger takes each line's attributes as Python strings and labels one
page per call: on a batch of pages, handing it the strings cost more than all the labelling.
Here a line's attributes arrive as ids (flows/line_features.py maps them in polars), and the
best labels (Viterbi) and the marginals (forward-backward) of all pages of a batch are
computed together, one line position at a time, as CRFsuite computes them for one page.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pycrfsuite


@dataclass(frozen=True)
class LineModel:
    # The labels in CRFsuite's order: of two equal scores, the first label wins, as there.
    labels: tuple[str, ...]
    # The attributes the model knows, each with its row of `state` (counted from 1: row 0,
    # that of any attribute it does not know, is 0).
    attributes: tuple[str, ...]
    # The weight of each attribute for each label: rows are attributes, columns labels.
    state: np.ndarray
    # The weight of going from one line's label (row) to the next line's (column).
    transition: np.ndarray


@functools.cache
def load(path: Path) -> LineModel:
    """The model in the CRFsuite file at `path`, read once per process."""
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    info = tagger.info()
    labels = tuple(sorted(info.labels, key=lambda label: int(info.labels[label])))
    column = {label: i for i, label in enumerate(labels)}
    attributes = tuple(sorted({attribute for attribute, _ in info.state_features}))
    row = {attribute: number for number, attribute in enumerate(attributes, start=1)}
    state = np.zeros((len(attributes) + 1, len(labels)))
    for (attribute, label), weight in info.state_features.items():
        state[row[attribute], column[label]] = weight
    transition = np.zeros((len(labels), len(labels)))
    for (before, after), weight in info.transitions.items():
        transition[column[before], column[after]] = weight
    tagger.close()
    return LineModel(labels, attributes, state, transition)


def line_scores(model: LineModel, attribute_ids: np.ndarray) -> np.ndarray:
    """Each line's score for each label: the sum of its attributes' weights (`attribute_ids`:
    a row of attribute ids per line, 0 where a line has fewer attributes)."""
    scores = np.zeros((attribute_ids.shape[0], len(model.labels)))
    for column in attribute_ids.T:
        scores += model.state[column]
    return scores


@dataclass(frozen=True)
class Tagging:
    """The labels of one page's lines and how likely each label is on each line."""

    labels: list[str]
    # One row per line, one column per label of the model, each row summing to 1.
    marginals: np.ndarray
    columns: dict[str, int]

    def marginal(self, label: str, position: int) -> float:
        """How likely `label` is on the line at `position`, over every labelling of the page."""
        return float(self.marginals[position, self.columns[label]])

    def marginals_of(self, labels: list[str]) -> np.ndarray:
        """How likely each line's label in `labels` (one per line) is."""
        chosen = [self.columns[label] for label in labels]
        return self.marginals[np.arange(len(labels)), chosen]


def tag(model: LineModel, scores: np.ndarray, lengths: list[int]) -> list[Tagging]:
    """The tagging of each page whose lines' `scores` follow one another, `lengths` lines each."""
    steps = _Lockstep(np.asarray(lengths, dtype=np.int64))
    best = _viterbi(model, scores, steps)
    marginals = _marginals(model, scores, steps)
    columns = {label: i for i, label in enumerate(model.labels)}
    names = np.asarray(model.labels, dtype=object)[best].tolist()
    taggings = []
    start = 0
    for length in lengths:
        end = start + length
        taggings.append(Tagging(names[start:end], marginals[start:end], columns))
        start = end
    return taggings


class _Lockstep:
    """The pages of a batch walked one line position at a time, longest first, so the pages
    still going at a position are always the first few: at position t, the rows of lines
    `starts[:active[t]] + t`."""

    def __init__(self, lengths: np.ndarray) -> None:
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        order = np.argsort(-lengths, kind="stable")
        self.lengths = lengths[order]
        self.starts = offsets[order]
        longest = int(self.lengths[0]) if len(lengths) else 0
        # How many pages have a line at each position (and none past the longest).
        self.active = np.searchsorted(-self.lengths, -np.arange(longest + 1), side="left")
        self.longest = longest

    def rows(self, position: int) -> np.ndarray:
        return self.starts[: self.active[position]] + position


def _viterbi(model: LineModel, scores: np.ndarray, steps: _Lockstep) -> np.ndarray:
    """The label (column) of each line in the best labelling of its page."""
    best = np.zeros(scores.shape[0], dtype=np.int64)
    if steps.longest == 0:
        return best
    # The score of the best labelling of each page up to a line, ending in each label.
    reach = scores[steps.rows(0)]
    final = np.empty_like(reach)
    # The label of the line above on that best labelling, per line and label.
    back = np.zeros(scores.shape, dtype=np.int64)
    for position in range(1, steps.longest):
        going = steps.active[position]
        final[going : len(reach)] = reach[going:]
        rows = steps.rows(position)
        candidates = reach[:going, :, None] + model.transition[None, :, :]
        back[rows] = candidates.argmax(axis=1)
        reach = candidates.max(axis=1) + scores[rows]
    final[: len(reach)] = reach
    label = final.argmax(axis=1)
    for position in range(steps.longest - 1, -1, -1):
        rows = steps.rows(position)
        best[rows] = label[: len(rows)]
        label[: len(rows)] = back[rows, label[: len(rows)]]
    return best


def _marginals(model: LineModel, scores: np.ndarray, steps: _Lockstep) -> np.ndarray:
    """The probability of each label on each line (forward-backward, each step rescaled to
    sum to 1 so that long pages stay within floating point range)."""
    marginals = np.zeros_like(scores)
    if steps.longest == 0:
        return marginals
    # A line's own factor; its largest score is taken off first, which changes no ratio.
    own = np.exp(scores - scores.max(axis=1, keepdims=True))
    passing = np.exp(model.transition)
    forward = np.zeros_like(scores)
    rows = steps.rows(0)
    alpha = own[rows]
    alpha /= alpha.sum(axis=1, keepdims=True)
    forward[rows] = alpha
    for position in range(1, steps.longest):
        rows = steps.rows(position)
        alpha = (alpha[: len(rows)] @ passing) * own[rows]
        alpha /= alpha.sum(axis=1, keepdims=True)
        forward[rows] = alpha
    beta = np.ones((0, scores.shape[1]))
    for position in range(steps.longest - 1, -1, -1):
        rows = steps.rows(position)
        # Pages whose last line is here start from 1; the others carry the line below.
        beta = np.concatenate([beta[: len(rows)], np.ones((len(rows) - len(beta), beta.shape[1]))])
        marginals[rows] = forward[rows] * beta
        if position:
            beta = (own[rows] * beta) @ passing.T
            beta /= beta.sum(axis=1, keepdims=True)
    return marginals / marginals.sum(axis=1, keepdims=True)
