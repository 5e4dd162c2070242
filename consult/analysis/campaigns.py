"""Campaign grouping: which comments are copies or rewordings of one letter.

A pure engine on plain text, with no database. Three stages, each stricter
than what it proposes:

1. Near-duplicates. Text is normalised (lower case, no punctuation, numbers
   folded, capitalised words inside a sentence dropped, since a mail merge
   fills names and towns there) and cut into word shingles. MinHash LSH
   (datasketch) proposes candidates; a candidate is linked only when the
   exact Jaccard of the two shingle sets reaches the threshold. Linked
   comments are joined with union-find.
2. Groups of at least ``min_size`` comments become campaigns.
3. Paraphrases. A comment outside every group joins a group of at least
   ``paraphrase_min_group`` members only when two independent signals agree:
   its TF-IDF cosine with the group's centroid, and the share of its
   distinctive (IDF-weighted) words that the group's members use. IDF counts
   each group once, so a campaign's own wording stays distinctive however
   many copies were sent. Similar meaning alone never links two comments.
"""

import math
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
from datasketch import LeanMinHash, MinHashLSH
from scipy import sparse

from consult.analysis.settings import CampaignSettings

IDENTICAL = "identical"
NEAR_DUPLICATE = "near-duplicate"
PARAPHRASE = "paraphrase"

_SENTENCE = re.compile(r"[.!?;:\n]+|,\s")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_DIGITS = re.compile(r"\d+")

# Words too common to say anything about who wrote a comment.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i i'm i've if in into is it it's its itself just me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves also would've
may might must shall us much many well get got
""".split())


def tokens(text: str, mask_names: bool = True) -> list[str]:
    """The words of `text`, lower-cased, with numbers folded to 0.

    With mask_names, a capitalised word that does not start its sentence
    (a name, a town: what a mail merge fills in) is left out. Acronyms in
    capitals and the pronoun "I" are kept.
    """
    words: list[str] = []
    for sentence in _SENTENCE.split(text):
        for position, match in enumerate(_WORD.finditer(sentence)):
            word = match.group()
            if (mask_names and position > 0 and word[0].isupper() and word != "I"
                    and not (len(word) > 1 and word.isupper())):
                continue
            words.append(_DIGITS.sub("0", word.lower()))
    return words


@dataclass(frozen=True)
class Membership:
    """Why one comment is in its group: the method and the scores that decided it."""

    group: Hashable
    method: str
    score: dict = field(default_factory=dict)


@dataclass
class _Corpus:
    keys: list
    words: list[list[str]]
    shingles: list[frozenset]


_PRIME = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1


def _shingle_hashes(words: list[str], size: int, vocabulary: dict[str, int]) -> np.ndarray:
    ids = np.fromiter((vocabulary.setdefault(w, len(vocabulary) + 1) for w in words), dtype=np.uint64,
                      count=len(words))
    if len(ids) < size:
        ids = np.concatenate([ids, np.zeros(size - len(ids), dtype=np.uint64)])
    # A polynomial rolling hash of each run of `size` word ids (wrapping uint64).
    hashes = np.zeros(len(ids) - size + 1, dtype=np.uint64)
    for offset in range(size):
        hashes = hashes * np.uint64(1_000_003) + ids[offset:len(ids) - size + 1 + offset]
    return np.unique(hashes)


def _minhashes(shingle_arrays: list[np.ndarray], num_perm: int, seed: int = 1) -> np.ndarray:
    """One MinHash signature per shingle set, computed for many sets at once with numpy."""
    rng = np.random.RandomState(seed)
    a = rng.randint(1, _PRIME, size=num_perm, dtype=np.uint64)
    b = rng.randint(0, _PRIME, size=num_perm, dtype=np.uint64)
    signatures = np.empty((len(shingle_arrays), num_perm), dtype=np.uint64)
    start = 0
    while start < len(shingle_arrays):
        # Batches of about 200,000 shingles keep the (shingles x permutations) block small.
        end, total = start, 0
        while end < len(shingle_arrays) and (total < 200_000 or end == start):
            total += len(shingle_arrays[end])
            end += 1
        block = np.concatenate(shingle_arrays[start:end]) & np.uint64(_MAX_HASH)
        permuted = ((block[:, None] * a[None, :] + b[None, :]) % np.uint64(_PRIME)) & np.uint64(_MAX_HASH)
        offsets = np.cumsum([0] + [len(s) for s in shingle_arrays[start:end - 1]])
        signatures[start:end] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = end
    return signatures


class _UnionFind:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root, so a group is named by its earliest comment.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def group_comments(texts: Mapping[Hashable, str], settings: CampaignSettings | None = None,
                   progress=None) -> dict[Hashable, Membership]:
    """Group comments into campaigns: {key: Membership} for every comment in a campaign.

    `texts` maps a key (a comment id) to its text, in the order comments
    arrived; a group is named by the key of its earliest member. Comments in
    no campaign are absent from the result. `progress(message)` hears each
    stage. Deterministic: the same input gives the same groups.
    """
    settings = settings or CampaignSettings()
    say = progress or (lambda message: None)
    keys = list(texts)
    words = [tokens(texts[k], settings.mask_names) for k in keys]

    # Identical normalised texts are collapsed first: a campaign's exact copies cost one comparison.
    first_with_text: dict[str, int] = {}
    twin_of: dict[int, int] = {}
    unique: list[int] = []
    for index, doc in enumerate(words):
        if not doc:
            continue
        normal = " ".join(doc)
        if normal in first_with_text:
            twin_of[index] = first_with_text[normal]
        else:
            first_with_text[normal] = index
            unique.append(index)
    say(f"{len(keys)} comments, {len(unique)} distinct texts")

    vocabulary: dict[str, int] = {}
    shingle_arrays = [_shingle_hashes(words[i], settings.shingle_size, vocabulary) for i in unique]
    signatures = _minhashes(shingle_arrays, settings.num_perm) if unique else np.empty((0, settings.num_perm))
    say("signatures computed")

    finder = _UnionFind(len(keys))
    best_link: dict[int, float] = {}
    lsh = MinHashLSH(threshold=settings.lsh_threshold, num_perm=settings.num_perm)
    shingle_sets: dict[int, frozenset] = {}

    def shingles_of(position: int) -> frozenset:
        if position not in shingle_sets:
            shingle_sets[position] = frozenset(shingle_arrays[position].tolist())
        return shingle_sets[position]

    for position, index in enumerate(unique):
        signature = LeanMinHash(seed=1, hashvalues=signatures[position], scheme="legacy")
        for other in lsh.query(signature):
            if finder.find(unique[other]) == finder.find(index):
                continue
            similarity = jaccard(shingles_of(position), shingles_of(other))
            if similarity >= settings.jaccard_threshold:
                finder.union(index, unique[other])
                best_link[index] = max(best_link.get(index, 0.0), similarity)
                best_link[unique[other]] = max(best_link.get(unique[other], 0.0), similarity)
        lsh.insert(position, signature)
    for twin, original in twin_of.items():
        finder.union(twin, original)
    say("near-duplicates linked")

    members: dict[int, list[int]] = {}
    for index in range(len(keys)):
        if words[index]:
            members.setdefault(finder.find(index), []).append(index)
    result: dict[Hashable, Membership] = {}
    for root, indices in members.items():
        if len(indices) < settings.min_size:
            continue
        for index in indices:
            if index in best_link and index not in twin_of:
                result[keys[index]] = Membership(keys[root], NEAR_DUPLICATE,
                                                 {"jaccard": round(best_link[index], 3)})
            else:  # an identical copy, or the original its copies were collapsed onto
                result[keys[index]] = Membership(keys[root], IDENTICAL, {"jaccard": 1.0})

    cores = {root: indices for root, indices in members.items() if len(indices) >= settings.paraphrase_min_group}
    if cores:
        _attach_paraphrases(keys, words, cores, result, settings)
    say(f"{len({m.group for m in result.values()})} campaigns, {len(result)} comments in them")
    return result


def _attach_paraphrases(keys: list, words: list[list[str]], cores: dict[int, list[int]],
                        result: dict[Hashable, Membership], settings: CampaignSettings) -> None:
    """Add comments outside every group to the core group both signals point to (see the module docstring)."""
    grouped = {index for indices in cores.values() for index in indices}
    candidates = [i for i in range(len(keys)) if i not in grouped and words[i]]
    if not candidates:
        return
    content = [[w for w in doc if w not in STOPWORDS and len(w) > 2] for doc in words]
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for index, doc in enumerate(content):
        counts: dict[int, int] = {}
        for word in doc:
            column = vocabulary.setdefault(word, len(vocabulary))
            counts[column] = counts.get(column, 0) + 1
        for column, count in counts.items():
            rows.append(index)
            cols.append(column)
            values.append(1.0 + math.log(count))
    if not vocabulary:
        return
    tf = sparse.csr_matrix((values, (rows, cols)), shape=(len(keys), len(vocabulary)))
    present = (tf > 0).astype(np.float64).tocsr()

    # Document frequency with each group counted once, as a single letter.
    core_rows = sorted(grouped)
    outside = np.ones(len(keys), dtype=bool)
    outside[core_rows] = False
    df = np.asarray(present[outside].sum(axis=0)).ravel()
    group_vocab_columns = []
    for root, indices in cores.items():
        used = np.asarray(present[indices].sum(axis=0)).ravel()
        df += (used > 0)
        group_vocab_columns.append((used >= max(2, 0.1 * len(indices))).astype(np.float64))
    units = outside.sum() + len(cores)
    idf = np.log((units + 1) / (df + 1)) + 1.0

    weighted = tf.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    weighted = sparse.diags(1.0 / norms) @ weighted
    roots = list(cores)
    centroids = np.vstack([np.asarray(weighted[cores[r]].mean(axis=0)).ravel() for r in roots])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    group_vocab = np.vstack(group_vocab_columns)

    chosen = weighted[candidates]
    cosine = np.asarray(chosen @ centroids.T)
    distinctive = present[candidates].multiply(idf[None, :]).tocsr()
    overlap = np.asarray(distinctive @ group_vocab.T)
    overlap /= np.maximum(np.asarray(distinctive.sum(axis=1)), 1e-12)
    for row, index in enumerate(candidates):
        best = int(np.argmax(cosine[row]))
        if cosine[row, best] >= settings.paraphrase_cosine and overlap[row, best] >= settings.paraphrase_overlap:
            result[keys[index]] = Membership(keys[roots[best]], PARAPHRASE, {
                "cosine": round(float(cosine[row, best]), 3), "overlap": round(float(overlap[row, best]), 3)})


def paraphrase_signals(texts: Mapping[Hashable, str], groups: Mapping[Hashable, Membership],
                       settings: CampaignSettings | None = None) -> dict[Hashable, tuple[float, float]]:
    """For tuning: each ungrouped comment's (cosine, overlap) with its best group, whatever the thresholds."""
    loose = (settings or CampaignSettings()).with_overrides({"paraphrase_cosine": -1.0, "paraphrase_overlap": -1.0})
    memberships = group_comments(texts, loose)
    return {key: (m.score["cosine"], m.score["overlap"]) for key, m in memberships.items()
            if m.method == PARAPHRASE and key not in groups}
