"""Theme suggestions from a few staff tags: a pure engine on embedding vectors, with no database.

Given every comment's unit-length embedding, each theme's embedding (its
name and description), and the themes staff put on a few comments, it
scores every comment against every theme, chooses which comments staff
should tag next, and finds groups of comments no theme covers.

Scoring combines two views of the same few tags:

1. Label spreading over the comment graph (each comment joined to its
   nearest neighbours by cosine). Tags flow along the graph, so a theme's
   handful of examples reach comments that say the same thing in other
   words. Each theme's own name and description is one more node, seeded
   with its theme, so a theme with few tags still has an anchor.
2. Self-training: a logistic regression per theme learns from the tags, the
   theme anchors and the comments the spreading is most confident about,
   then scores everything.

The two scores are averaged. A comment gets its best theme when the score
clears a floor, and a second when it comes close to the first (at most two).
"""

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from consult.analysis.settings import TOPIC_DISTANCE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SuggestSettings:
    """How suggestions are made; the defaults are the ones bench/analysis.py measures.

    - neighbours: edges per comment in the graph tags spread over.
    - alpha: how far tags spread (0 keeps them where they are, near 1 spreads widely).
    - iterations: spreading steps (the scores settle well before 30).
    - pseudo_per_theme: the most confident untagged comments per theme that self-training adds.
    - second_ratio: a second theme is suggested when its score is at least this share of the first's.
    - floor: no theme is suggested below this confidence.
    """

    neighbours: int = 10
    alpha: float = 0.9
    iterations: int = 30
    pseudo_per_theme: int = 15
    second_ratio: float = 0.6
    floor: float = 0.2
    max_per_comment: int = 2


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def nearest_neighbours(vectors: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the `k` most similar other rows by cosine: (indices, similarities), best first.

    Computed in blocks of rows, so memory stays near block x n floats
    whatever the number of comments.
    """
    n = len(vectors)
    k = max(0, min(k, n - 1))
    indices = np.zeros((n, k), dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return indices, scores
    for start in range(0, n, block):
        stop = min(start + block, n)
        similarity = vectors[start:stop] @ vectors.T
        similarity[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(similarity, top, axis=1)
        order = np.argsort(-top_scores, axis=1)
        indices[start:stop] = np.take_along_axis(top, order, axis=1)
        scores[start:stop] = np.take_along_axis(top_scores, order, axis=1)
    return indices, scores


def _graph(vectors: np.ndarray, k: int) -> sparse.csr_matrix:
    """The symmetric, normalised kNN graph S = D^-1/2 W D^-1/2 with non-negative cosine weights."""
    n = len(vectors)
    neighbours, similarity = nearest_neighbours(vectors, k)
    rows = np.repeat(np.arange(n), neighbours.shape[1])
    weights = np.clip(similarity.ravel(), 0.0, None)
    graph = sparse.csr_matrix((weights, (rows, neighbours.ravel())), shape=(n, n))
    graph = graph.maximum(graph.T)
    degree = np.asarray(graph.sum(axis=1)).ravel()
    inverse_root = 1.0 / np.sqrt(np.maximum(degree, 1e-12))
    return sparse.diags(inverse_root) @ graph @ sparse.diags(inverse_root)


def _spread(graph: sparse.csr_matrix, seeds: np.ndarray, alpha: float, iterations: int) -> np.ndarray:
    scores = seeds.copy()
    for _ in range(iterations):
        scores = alpha * (graph @ scores) + (1 - alpha) * seeds
    # Each theme on its own scale: the share of the best score any comment reached.
    return scores / np.maximum(scores.max(axis=0, keepdims=True), 1e-12)


def _self_train(vectors: np.ndarray, anchors: np.ndarray, label_matrix: np.ndarray, tagged: np.ndarray,
                spread: np.ndarray, settings: SuggestSettings) -> np.ndarray:
    """One logistic regression per theme on tags, anchors and the spreading's surest picks; P(theme)."""
    from sklearn.linear_model import LogisticRegression

    n, themes = label_matrix.shape
    untagged = np.flatnonzero(~tagged)
    result = np.zeros((n, themes), dtype=np.float64)
    for theme in range(themes):
        positives = set(np.flatnonzero(tagged & (label_matrix[:, theme] > 0)).tolist())
        if len(untagged) and settings.pseudo_per_theme:
            best = untagged[np.argsort(-spread[untagged, theme])[:settings.pseudo_per_theme]]
            # A pseudo-label only where this theme is the comment's best: a shared neighbour is not evidence.
            positives.update(int(i) for i in best if spread[i].argmax() == theme)
        negatives = np.flatnonzero(tagged & (label_matrix[:, theme] == 0))
        if len(untagged):
            unlikely = untagged[np.argsort(spread[untagged, theme])[:max(20, 3 * len(positives))]]
            negatives = np.union1d(negatives, unlikely)
        negatives = np.setdiff1d(negatives, list(positives))
        other_anchors = np.delete(anchors, theme, axis=0)
        features = np.vstack([vectors[sorted(positives)], anchors[theme:theme + 1],
                              vectors[negatives], other_anchors])
        target = np.concatenate([np.ones(len(positives) + 1), np.zeros(len(negatives) + len(other_anchors))])
        if not len(negatives) + len(other_anchors):
            # Only with a single theme, when every comment carries it or is one of its surest picks: there is
            # nothing to learn the theme apart from, so its spreading stands alone.
            log.info("Self-training skipped: theme column %s is scored by spreading alone: no comment to learn "
                     "it is absent from (%s comments, one theme).", theme, n)
            result[:, theme] = spread[:, theme]
            continue
        model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=500)
        model.fit(features, target)
        result[:, theme] = model.predict_proba(vectors)[:, 1]
    return result


def score_themes(vectors: np.ndarray, anchors: np.ndarray, tags: dict[int, set[int]],
                 settings: SuggestSettings | None = None) -> np.ndarray:
    """Every row's confidence (0 to 1) for every theme: an n x themes array.

    `vectors` are the comments' embeddings (unit length), `anchors` the
    themes' embeddings in theme order, `tags` maps a row to the theme
    columns staff put on it.
    """
    settings = settings or SuggestSettings()
    vectors, anchors = normalise(vectors), normalise(anchors)
    n, themes = len(vectors), len(anchors)
    if n == 0 or themes == 0:
        return np.zeros((n, themes))
    label_matrix = np.zeros((n, themes))
    for row, columns in tags.items():
        label_matrix[row, list(columns)] = 1.0
    tagged = label_matrix.sum(axis=1) > 0
    # The theme anchors join the graph as extra nodes seeded with their own theme.
    nodes = np.vstack([vectors, anchors])
    seeds = np.vstack([label_matrix, np.eye(themes)])
    spread = _spread(_graph(nodes, settings.neighbours), seeds, settings.alpha, settings.iterations)[:n]
    learned = _self_train(vectors, anchors, label_matrix, tagged, spread, settings)
    return (spread + learned) / 2


def choose(scores: np.ndarray, settings: SuggestSettings | None = None) -> list[list[tuple[int, float]]]:
    """For each row, the suggested (theme column, confidence) pairs, best first: at most two."""
    settings = settings or SuggestSettings()
    chosen = []
    for row in scores:
        order = np.argsort(-row)[:settings.max_per_comment]
        picks = []
        for rank, column in enumerate(order):
            value = float(row[column])
            if value < settings.floor or (rank and value < settings.second_ratio * float(row[order[0]])):
                break
            picks.append((int(column), round(value, 3)))
        chosen.append(picks)
    return chosen


def next_to_tag(vectors: np.ndarray, scores: np.ndarray, eligible: np.ndarray, count: int,
                seed: int = 0, uncertainty_weight: float = 0.5) -> list[int]:
    """The `count` eligible rows whose tags would teach the model most, most useful first.

    Uncertainty and diversity together: the eligible rows are split into
    `count` clusters (k-means on the embeddings) and each cluster offers the
    row that is both typical of it (near its centre) and uncertain (its two
    best themes close, or its best theme weak). Rows chosen this way cover
    the whole range of what people wrote instead of one confusing corner;
    on the evaluation set, leaning on uncertainty alone chose outliers and
    taught the model less (bench/analysis.py).
    """
    candidates = np.flatnonzero(eligible)
    if count <= 0 or len(candidates) == 0:
        return []
    if len(candidates) <= count:
        return candidates.tolist()
    top_two = -np.sort(-scores[candidates], axis=1)[:, :2] if scores.shape[1] else np.zeros((len(candidates), 2))
    if top_two.shape[1] < 2:
        top_two = np.hstack([top_two, np.zeros((len(top_two), 1))])
    uncertainty = 1.0 - (top_two[:, 0] - top_two[:, 1]) + (1.0 - top_two[:, 0])
    from sklearn.cluster import KMeans

    points = normalise(vectors[candidates])
    fitted = KMeans(n_clusters=count, n_init=1, random_state=seed).fit(points)
    centres = normalise(fitted.cluster_centers_)
    typicality = (points * centres[fitted.labels_]).sum(axis=1)
    value = uncertainty_weight * uncertainty + typicality
    picks = []
    for cluster in range(count):
        members = np.flatnonzero(fitted.labels_ == cluster)
        if len(members):
            best = members[np.argmax(value[members])]
            picks.append((value[best], int(candidates[best])))
    picks.sort(reverse=True)
    return [row for _, row in picks]


@dataclass(frozen=True)
class Topic:
    """A group of comments no theme covers well: its rows, key phrases and three typical rows."""

    rows: list[int]
    phrases: list[str]
    typical: list[int]


def possible_topics(vectors: np.ndarray, texts: list[str], scores: np.ndarray, tagged: np.ndarray,
                    coverage: float = 0.5, min_size: int = 5, max_topics: int = 8,
                    distance: float = TOPIC_DISTANCE) -> list[Topic]:
    """Clusters among the comments whose best theme score is under `coverage`, largest first.

    Clusters are cut at cosine distance `distance` (average linkage; see
    settings.TOPIC_DISTANCE for the default). Each comes
    with its key phrases by class-based TF-IDF (words frequent in this
    cluster and rare in the others) and the three comments nearest its
    centre.
    """
    best = scores.max(axis=1) if scores.shape[1] else np.zeros(len(vectors))
    loose = np.flatnonzero((best < coverage) & ~tagged)
    if len(loose) < min_size:
        return []
    from sklearn.cluster import AgglomerativeClustering

    points = normalise(vectors[loose])
    labels = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine",
                                     linkage="average").fit_predict(points) if len(loose) <= 5000 else \
        _kmeans_labels(points, max(2, len(loose) // 50))
    groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    groups = sorted((g for g in groups if len(g) >= min_size), key=len, reverse=True)[:max_topics]
    if not groups:
        return []
    phrases = _class_tfidf([[texts[loose[i]] for i in g] for g in groups])
    topics = []
    for group, words in zip(groups, phrases):
        centre = normalise(points[group].mean(axis=0, keepdims=True))[0]
        typical = group[np.argsort(-(points[group] @ centre))[:3]]
        topics.append(Topic(rows=[int(loose[i]) for i in group], phrases=words,
                            typical=[int(loose[i]) for i in typical]))
    return topics


def _kmeans_labels(points: np.ndarray, clusters: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=clusters, n_init=1, random_state=0).fit_predict(points)


def _class_tfidf(documents_by_class: list[list[str]], top: int = 6) -> list[list[str]]:
    """The `top` words and two-word phrases of each class by c-TF-IDF (BERTopic's weighting)."""
    from consult.analysis.campaigns import STOPWORDS, tokens

    counts = []
    for documents in documents_by_class:
        terms: Counter = Counter()
        for text in documents:
            words = [w for w in tokens(text, mask_names=True) if w not in STOPWORDS and len(w) > 2 and w != "0"]
            terms.update(words)
            terms.update(f"{a} {b}" for a, b in zip(words, words[1:]))
        counts.append(terms)
    total_words = sum(sum(c.values()) for c in counts) / max(len(counts), 1)
    frequency: Counter = Counter()
    for c in counts:
        frequency.update(c)
    result = []
    for c in counts:
        size = max(sum(c.values()), 1)
        weights = {term: (n / size) * np.log(1 + total_words / frequency[term]) for term, n in c.items() if n > 1}
        ranked = sorted(weights, key=lambda term: (-weights[term], term))
        chosen: list[str] = []
        for term in ranked:
            # A phrase and its own words say the same thing twice.
            if any(term in other or other in term for other in chosen):
                continue
            chosen.append(term)
            if len(chosen) == top:
                break
        result.append(chosen)
    return result
