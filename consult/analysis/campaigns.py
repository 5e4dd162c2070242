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
   ``paraphrase_min_group`` members only when two independent signals agree
   (and a smaller group joins a larger one when most of its members do):
   its TF-IDF cosine with the group's centroid, and the share of its
   distinctive (IDF-weighted) words that the group's members use. IDF counts
   each group once, so a campaign's own wording stays distinctive however
   many copies were sent. Similar meaning alone never links two comments.
"""

import math
import re
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHashLSH
from scipy import sparse

from consult.analysis.settings import CampaignSettings

IDENTICAL = "identical"
NEAR_DUPLICATE = "near-duplicate"
PARAPHRASE = "paraphrase"

_BREAKS = frozenset(".!?;:\n")
_TOKEN = re.compile(r"[.!?;:\n]|[^\W_]+(?:'[^\W_]+)?")
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
    capitals, the pronoun "I" and common words written with a capital for
    emphasis ("Please Do Not restrict it") are kept: they are not names,
    and leaving them out can turn a letter into its opposite.
    """
    words: list[str] = []
    starts_sentence = True
    for part in _TOKEN.findall(_DIGITS.sub("0", text)):
        if part in _BREAKS:
            starts_sentence = True
            continue
        if (mask_names and not starts_sentence and part[0].isupper() and part != "I"
                and not (len(part) > 1 and part.isupper()) and part.lower() not in STOPWORDS):
            continue
        starts_sentence = False
        words.append(part.lower())
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


def _shingles(docs: list[list[str]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every document's word shingles as 64-bit hashes, all in one array, and where each document starts.

    A document shorter than `size` words is one shingle (padded with zeros).
    """
    vocabulary: dict[str, int] = {}
    lengths = np.fromiter((max(len(d), size) for d in docs), dtype=np.int64, count=len(docs))
    padding = [0] * size
    ids = np.fromiter((vocabulary.setdefault(w, len(vocabulary) + 1)
                       for d in docs for w in (d if len(d) >= size else (d + padding)[:size])),
                      dtype=np.uint64, count=int(lengths.sum()))
    # A polynomial hash of each run of `size` word ids (wrapping uint64), computed for all runs at once.
    runs = len(ids) - size + 1
    hashes = np.zeros(max(runs, 0), dtype=np.uint64)
    for offset in range(size):
        hashes = hashes * np.uint64(1_000_003) + ids[offset:offset + runs]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # Keep only runs that lie inside one document: each document has length - size + 1 of them.
    counts = lengths - size + 1
    keep = np.repeat(starts, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    shingle_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return hashes[keep], shingle_starts


def _minhashes(shingles: np.ndarray, starts: np.ndarray, num_perm: int, seed: int = 1) -> np.ndarray:
    """One MinHash signature per document: the least of each of `num_perm` multiply-shift hashes."""
    rng = np.random.RandomState(seed)
    a = rng.randint(1, 1 << 62, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.randint(0, 1 << 62, size=num_perm, dtype=np.uint64)
    signatures = np.empty((len(starts), num_perm), dtype=np.uint32)
    ends = np.append(starts[1:], len(shingles))
    batch = max(1, 4_000_000 // num_perm)  # shingles per block, so a block stays near 32 MB
    first = 0
    while first < len(starts):
        last = int(np.searchsorted(ends, ends[first] - 1 + batch, side="right"))
        last = max(last, first + 1)
        block = shingles[starts[first]:ends[last - 1]]
        permuted = ((block[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
        signatures[first:last] = np.minimum.reduceat(permuted, starts[first:last] - starts[first], axis=0)
        first = last
    return signatures


# How many earlier members of a bucket, in other groups, a comment is compared with before giving up there.
# Each comment sits in one bucket per band, so a true near-duplicate has many chances to be found.
_TRIES_PER_BUCKET = 8


def _lsh_buckets(signatures: np.ndarray, settings: CampaignSettings) -> list[list[int]]:
    """Groups of documents whose signatures agree on a whole band: the LSH candidates.

    datasketch chooses the bands and rows that best separate similarity
    `lsh_threshold`; the bucketing is done for all signatures at once with
    numpy rather than one insert and one query per comment, which cost more
    than the rest of the engine together at 100,000 comments.
    """
    lsh = MinHashLSH(threshold=settings.lsh_threshold, num_perm=settings.num_perm)
    bands, rows = lsh.b, lsh.r
    rng = np.random.RandomState(7)
    weights = rng.randint(1, 1 << 62, size=rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    buckets: list[list[int]] = []
    for band in range(bands):
        values = signatures[:, band * rows:(band + 1) * rows].astype(np.uint64)
        keys = (values * weights[None, :]).sum(axis=1) + values[:, 0]
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        edges = np.flatnonzero(np.diff(ordered)) + 1
        for members in np.split(order, edges):
            if len(members) > 1:
                buckets.append(members.tolist())
    return buckets


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

    shingles, starts = _shingles([words[i] for i in unique], settings.shingle_size)
    ends = np.append(starts[1:], len(shingles))
    signatures = _minhashes(shingles, starts, settings.num_perm)
    say("signatures computed")

    finder = _UnionFind(len(keys))
    best_link: dict[int, float] = {}
    shingle_sets: dict[int, frozenset] = {}

    def shingles_of(position: int) -> frozenset:
        if position not in shingle_sets:
            shingle_sets[position] = frozenset(shingles[starts[position]:ends[position]].tolist())
        return shingle_sets[position]

    def link(position: int, other: int) -> bool:
        similarity = jaccard(shingles_of(position), shingles_of(other))
        if similarity < settings.jaccard_threshold:
            return False
        a, b = unique[position], unique[other]
        finder.union(a, b)
        best_link[a] = max(best_link.get(a, 0.0), similarity)
        best_link[b] = max(best_link.get(b, 0.0), similarity)
        return True

    for bucket in _lsh_buckets(signatures, settings):
        # One earlier member per group stands for its group in the bucket, so a campaign's
        # thousand copies in one bucket cost a thousand comparisons, not half a million.
        standing: list[int] = []
        for position in bucket:
            mine = finder.find(unique[position])
            failures = 0
            for other in reversed(standing):
                if finder.find(unique[other]) == mine:
                    continue
                if link(position, other):
                    mine = finder.find(unique[position])
                else:
                    failures += 1
                    if failures >= _TRIES_PER_BUCKET:
                        break
            if not any(finder.find(unique[other]) == mine for other in standing):
                standing.append(position)
    for twin, original in twin_of.items():
        finder.union(twin, original)
    say("near-duplicates linked")

    members: dict[int, list[int]] = {}
    for index in range(len(keys)):
        if words[index]:
            members.setdefault(finder.find(index), []).append(index)
    result: dict[Hashable, Membership] = {}
    with_copies = set(twin_of.values())  # the first of identical texts is as identical as its copies
    for root, indices in members.items():
        if len(indices) < settings.min_size:
            continue
        for index in indices:
            if index in best_link and index not in twin_of and index not in with_copies:
                result[keys[index]] = Membership(keys[root], NEAR_DUPLICATE,
                                                 {"jaccard": round(best_link[index], 3)})
            else:  # an identical copy, or the original its copies were collapsed onto
                result[keys[index]] = Membership(keys[root], IDENTICAL, {"jaccard": 1.0})

    cores = {root: indices for root, indices in members.items() if len(indices) >= settings.paraphrase_min_group}
    if cores:
        _attach_paraphrases(keys, words, cores, result, settings)
        # A pair whose one member joined a larger group as a paraphrase leaves the other alone.
        sizes = Counter(m.group for m in result.values())
        result = {key: m for key, m in result.items() if sizes[m.group] >= settings.min_size}
    say(f"{len({m.group for m in result.values()})} campaigns, {len(result)} comments in them")
    return result


def _attach_paraphrases(keys: list, words: list[list[str]], cores: dict[int, list[int]],
                        result: dict[Hashable, Membership], settings: CampaignSettings) -> None:
    """Add comments outside every group to the core group both signals point to (see the module docstring)."""
    grouped = {index for indices in cores.values() for index in indices}
    candidates = [i for i in range(len(keys)) if i not in grouped and words[i]]
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

    def signals(rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        cosine = np.asarray(weighted[rows] @ centroids.T)
        distinctive = present[rows].multiply(idf[None, :]).tocsr()
        overlap = np.asarray(distinctive @ group_vocab.T)
        overlap /= np.maximum(np.asarray(distinctive.sum(axis=1)), 1e-12)
        return cosine, overlap

    def agree(cosine, overlap):
        return (cosine >= settings.paraphrase_cosine) & (overlap >= settings.paraphrase_overlap)

    # Supporters who reworded alike can form a group of their own: it joins a larger group
    # when most of its members, one by one, pass both tests against that group.
    target = {}
    for j, root in enumerate(roots):
        cosine, overlap = signals(cores[root])
        passing = agree(cosine, overlap).mean(axis=0)
        larger = [i for i, other in enumerate(roots) if i != j and len(cores[other]) >= len(cores[root])
                  and (len(cores[other]), -other) > (len(cores[root]), -root)]
        best = max(larger, key=lambda i: passing[i], default=None)
        if best is not None and passing[best] > 0.5:
            target[j] = (best, cosine[:, best], overlap[:, best])
    for j, (i, cosine, overlap) in target.items():
        while i in target:
            i = target[i][0]
        for index, c, o in zip(cores[roots[j]], cosine, overlap):
            result[keys[index]] = Membership(keys[roots[i]], PARAPHRASE, {"cosine": round(float(c), 3),
                                                                          "overlap": round(float(o), 3)})

    if not candidates:
        return
    cosine, overlap = signals(candidates)
    for row, index in enumerate(candidates):
        best = int(np.argmax(cosine[row]))
        if agree(cosine[row, best], overlap[row, best]):
            i = best
            while i in target:
                i = target[i][0]
            result[keys[index]] = Membership(keys[roots[i]], PARAPHRASE, {
                "cosine": round(float(cosine[row, best]), 3), "overlap": round(float(overlap[row, best]), 3)})
