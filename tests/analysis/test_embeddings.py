"""The model encodes each distinct text once: a campaign's identical letters cost one encoding."""

import numpy as np

from consult.analysis import embeddings


def test_identical_texts_get_one_vector_and_the_model_runs_once_per_distinct_text(monkeypatch):
    model = embeddings._load_model()
    asked: list[list[str]] = []
    real_encode = model.encode

    def counted_encode(texts, **kwargs):
        asked.append(list(texts))
        return real_encode(texts, **kwargs)

    monkeypatch.setattr(embeddings, "_cache", embeddings.OrderedDict())
    monkeypatch.setattr(model, "encode", counted_encode)
    letter = "Please fund this treatment for everyone who needs it. " * 3

    vectors = embeddings.encode([letter, "A different comment about waiting times.", letter, letter])
    again = embeddings.encode([letter])

    assert asked == [[letter, "A different comment about waiting times."]]  # and nothing for `again`
    assert vectors.shape == (4, embeddings.DIMENSIONS) and vectors.dtype == np.float32
    assert np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[0], again[0])
    assert abs(float(np.linalg.norm(vectors[1])) - 1.0) < 1e-5


def test_the_texts_kept_are_capped(monkeypatch):
    monkeypatch.setattr(embeddings, "_cache", embeddings.OrderedDict())
    monkeypatch.setattr(embeddings, "CACHED_TEXTS", 2)
    embeddings.encode(["first text", "second text", "third text"])
    assert list(embeddings._cache) == ["second text", "third text"]
