"""Thresholds for campaign grouping, each overridable from the environment, and for similar comments.

Kept apart from the engine so that reading the configuration never imports
numpy or datasketch. The defaults are the ones bench/analysis.py justifies on
the evaluation set in bench/data/ (see the docstring of CampaignSettings).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

# Comments of one new topic are cut at this cosine distance of their sentence embeddings (average linkage):
# on the evaluation set, leaving each theme out in turn, 0.6 matched a topic to the missing theme best
# (bench/analysis.py).
TOPIC_DISTANCE = 0.6
# Two comments are called similar when they are at least as close as the comments of one topic are on
# average. The cosine runs from -1 to 1, and a comment's few nearest in a small consultation can be
# unrelated (near 0, or below it); on the evaluation set every one of a comment's five nearest reaches this.
SIMILAR_AT_LEAST = 1 - TOPIC_DISTANCE


@dataclass(frozen=True)
class CampaignSettings:
    """How alike two comments must be before they are called one campaign.

    - shingle_size: words per shingle. Three words survive reordered
      sentences and mail-merge slots while one typo breaks only three shingles.
    - num_perm / lsh_threshold: MinHash length and the similarity LSH looks
      for; LSH only proposes candidates, so it sits below the link threshold.
    - jaccard_threshold: exact shingle Jaccard that links two comments as
      near-duplicates. On the evaluation set every mail-merge copy links at
      0.4 (and at 0.6); at 0.3 independently written comments that share a
      sentence start to form groups (bench/analysis.py --sweep).
    - paraphrase_*: a comment "in their own words" joins a group only when
      both independent signals agree: TF-IDF cosine with the group's centroid
      and the share of its distinctive words found in the group's vocabulary.
      On the evaluation set supporters' rewordings score cosine 0.21-0.49 and
      overlap 0.39-0.83; no independent comment reaches cosine 0.18. Groups
      smaller than paraphrase_min_group attract no paraphrase.
    - min_size: the fewest comments that make a campaign.
    - mask_names: ignore capitalised words inside a sentence (names, towns),
      the slots a mail merge fills in.
    """

    shingle_size: int = 3
    num_perm: int = 64
    lsh_threshold: float = 0.3
    jaccard_threshold: float = 0.4
    paraphrase_cosine: float = 0.2
    paraphrase_overlap: float = 0.35
    paraphrase_min_group: int = 5
    min_size: int = 2
    mask_names: bool = True

    def with_overrides(self, values: Mapping[str, object]) -> "CampaignSettings":
        """A copy with the named fields changed; unknown names are refused."""
        known = {f.name: f.type for f in fields(self)}
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"Unknown campaign settings: {', '.join(sorted(unknown))}")
        return replace(self, **{name: _coerce(name, value, type(getattr(self, name)))
                                for name, value in values.items()})


def _coerce(name: str, value: object, kind: type) -> object:
    if isinstance(value, kind):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            return text.lower() in {"1", "true", "yes", "on"}
        return kind(text)
    except ValueError:
        raise ValueError(f"Campaign setting {name} must be a {kind.__name__}, not {text!r}.") from None


def campaign_settings_from_environment(environ: Mapping[str, str] | None = None) -> CampaignSettings:
    """The defaults, with CAMPAIGN_<FIELD> variables (CAMPAIGN_JACCARD_THRESHOLD, ...) applied."""
    environ = os.environ if environ is None else environ
    overrides = {}
    for field in fields(CampaignSettings):
        variable = f"CAMPAIGN_{field.name.upper()}"
        if variable in environ:
            overrides[field.name] = environ[variable]
    return CampaignSettings().with_overrides(overrides)
