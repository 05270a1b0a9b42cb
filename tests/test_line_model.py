"""Tests for flows.line_model: the labeller run on whole batches, against CRFsuite's own tagger."""

import itertools
from pathlib import Path

import numpy as np
import pycrfsuite
import pytest

from flows import line_model, parse
from flows.extract import decode
from flows.line_features import line_attribute_ids

PAGES = Path(__file__).parent / "fixtures" / "pages"


@pytest.fixture(scope="module")
def model() -> line_model.LineModel:
    return line_model.load(parse.MODEL_PATH)


@pytest.fixture(scope="module")
def tagger() -> pycrfsuite.Tagger:
    tagger = pycrfsuite.Tagger()
    tagger.open(str(parse.MODEL_PATH))
    return tagger


def _prepared_fixture_pages() -> list[tuple[parse._Page, dict[int, str]]]:
    texts = [decode(path.read_bytes()).text or "" for path in sorted(PAGES.glob("*.txt"))]
    return [parse.prepared_page(text) for text in texts]


def test_a_batch_gets_the_labels_and_marginals_crfsuite_gives_each_page(
    model: line_model.LineModel, tagger: pycrfsuite.Tagger
) -> None:
    prepared = _prepared_fixture_pages()
    contents = [page.content() for page, _ in prepared]
    ids = line_attribute_ids(parse._lines_frame(prepared, contents), model.attributes)

    taggings = line_model.tag(
        model, line_model.line_scores(model, ids), [len(content) for content in contents]
    )

    inputs = parse.line_inputs(prepared)
    assert len(taggings) == len(inputs) > 80
    for tagging, (content, features) in zip(taggings, inputs, strict=True):
        tagger.set(features)
        assert tagging.labels == tagger.tag()
        expected = [
            [tagger.marginal(label, i) for label in model.labels] for i in range(len(content))
        ]
        # The model file's weights reach Python rounded to six decimals.
        np.testing.assert_allclose(tagging.marginals, np.array(expected).reshape(-1, 6), atol=1e-4)


def test_pages_of_one_line_and_of_none_are_tagged_beside_longer_ones(
    model: line_model.LineModel,
) -> None:
    rng = np.random.default_rng(7)
    lengths = [3, 0, 1, 5, 1]
    scores = rng.normal(scale=3, size=(sum(lengths), len(model.labels)))

    together = line_model.tag(model, scores, lengths)

    start = 0
    for length, tagging in zip(lengths, together, strict=True):
        [alone] = line_model.tag(model, scores[start : start + length], [length])
        assert tagging.labels == alone.labels and len(alone.labels) == length
        np.testing.assert_allclose(tagging.marginals, alone.marginals)
        start += length
    assert together[2].labels == [model.labels[int(scores[3].argmax())]]


def test_the_best_labelling_beats_every_other_on_a_short_page(model: line_model.LineModel) -> None:
    rng = np.random.default_rng(11)
    scores = rng.normal(scale=2, size=(4, len(model.labels)))
    [tagging] = line_model.tag(model, scores, [4])
    column = {label: i for i, label in enumerate(model.labels)}

    def total(labels: tuple[int, ...]) -> float:
        steps = itertools.pairwise(labels)
        return sum(scores[i, label] for i, label in enumerate(labels)) + sum(
            model.transition[before, after] for before, after in steps
        )

    every = np.stack(np.meshgrid(*[range(len(model.labels))] * 4, indexing="ij"), -1).reshape(-1, 4)
    totals = np.array([total(tuple(labels)) for labels in every])
    best = tuple(column[label] for label in tagging.labels)
    assert total(best) == pytest.approx(totals.max())
    # Each marginal is the share of the labellings' weight that puts the label there.
    weights = np.exp(totals - totals.max())
    for position in range(4):
        for label, i in column.items():
            share = weights[every[:, position] == i].sum() / weights.sum()
            assert tagging.marginal(label, position) == pytest.approx(share)
