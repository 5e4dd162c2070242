"""The grouping engine on plain text: what it joins, what it never joins, and its thresholds."""

import json
import random
from pathlib import Path

from bench import make_eval_set
from bench.analysis import score
from consult.analysis.campaigns import IDENTICAL, NEAR_DUPLICATE, PARAPHRASE, group_comments, tokens
from consult.analysis.settings import CampaignSettings, campaign_settings_from_environment

LETTER = [
    "My name is {name} and I live in {town}.",
    "I have lived with a painful neuroma for {years} years and I am asking the committee to change its draft.",
    "Cryoablation freezes the damaged nerve and for many patients it is the first thing that has given them their life back.",
    "Restricting it to research means a postcode lottery, because only a handful of hospitals run studies.",
    "Patients like me cannot wait years for a trial that may never come while we live in constant pain.",
    "Please recommend that cryoablation is offered in routine NHS care now, with audit.",
]
PEOPLE = [("Sarah Jones", "Leeds", "five"), ("Tom Okafor", "Swansea", "three"), ("Priya Patel", "Derby", "ten"),
          ("Gareth Hughes", "Bangor", "two"), ("Megan Clarke", "Hull", "eight"), ("Olu Mensah", "Luton", "six")]

# Written independently: the same topic and the same position as the letter, in other words.
INDEPENDENT = [
    "I disagree with recommendation 1.1. My consultant offered me cryoablation last year and it halved my foot pain.",
    "As a carer I think it is unfair to hold back a low-risk option when the alternative is surgery.",
    "The case series are small but consistent, so specialist centres should be allowed to offer it with audit.",
    "I paid for the procedure privately in the end because it was not available near me. It should be on the NHS.",
    "Several people in my support group had good results. Please let experienced units use it now.",
    "Surgery for a neuroma can leave a stump neuroma, so a less invasive treatment really matters to patients.",
]


def letter(name: str, town: str, years: str, drop: int | None = None, typo: bool = False) -> str:
    sentences = [s.format(name=name, town=town, years=years) for s in LETTER]
    if drop is not None:
        del sentences[drop]
    text = " ".join(sentences)
    return text.replace("research", "reserch") if typo else text


def mail_merge_batch() -> dict[str, str]:
    texts = {}
    for number, (name, town, years) in enumerate(PEOPLE):
        texts[f"m{number}"] = letter(name, town, years, drop=3 if number == 2 else None, typo=number == 4)
    return texts


def test_names_and_towns_inside_a_sentence_are_left_out():
    assert tokens("My name is Sarah Jones and I live in Leeds. NHS care, please.") == [
        "my", "name", "is", "and", "i", "live", "in", "nhs", "care", "please"]
    assert tokens("I waited 14 weeks.") == tokens("I waited 9 weeks.")


def test_common_words_capitalised_for_emphasis_are_kept_not_taken_for_names():
    """'Please Do Not restrict it' was read as 'please restrict it': its opposite, and an identical copy."""
    assert tokens("Please Do Not restrict cryoablation to research.") == [
        "please", "do", "not", "restrict", "cryoablation", "to", "research"]
    assert tokens("Please restrict cryoablation to research.") != tokens(
        "Please Do Not restrict cryoablation to research.")


def test_mail_merge_variants_are_one_campaign():
    found = group_comments(mail_merge_batch())

    assert set(found) == {f"m{n}" for n in range(len(PEOPLE))}
    assert len({m.group for m in found.values()}) == 1
    assert found["m0"].group == "m0"  # named by its earliest member
    assert found["m2"].method == NEAR_DUPLICATE and found["m2"].score["jaccard"] < 1.0


def test_identical_copies_are_marked_identical():
    text = letter("Sarah Jones", "Leeds", "five")
    found = group_comments({"a": text, "b": "  " + text.replace(".", "!").replace(" ", "  "), "c": "Something else entirely."})

    assert {k: m.method for k, m in found.items()} == {"a": IDENTICAL, "b": IDENTICAL}


def test_the_first_of_identical_copies_is_identical_too_when_reworded_copies_join_it():
    """It was labelled a near-duplicate with its best link to a reworded copy, so a campaign of three
    word-for-word copies and three reworded ones said it held two identical."""
    batch = mail_merge_batch()
    same = batch["m0"]
    found = group_comments({"c0": same, "c1": same, "c2": same, **{k: v for k, v in batch.items() if k != "m0"}})

    assert [found[key].method for key in ("c0", "c1", "c2")] == [IDENTICAL] * 3
    assert found["c0"].group == "c0" and found["m2"].method == NEAR_DUPLICATE


def test_independent_comments_on_the_same_topic_are_never_grouped():
    texts = {**mail_merge_batch(), **{f"i{n}": text for n, text in enumerate(INDEPENDENT)}}
    found = group_comments(texts)

    assert not any(key.startswith("i") for key in found)
    assert group_comments({f"i{n}": text for n, text in enumerate(INDEPENDENT)}) == {}


def reworded(settings: CampaignSettings) -> dict:
    rng = random.Random(3)
    campaign = make_eval_set.CAMPAIGNS["A"]
    texts = {f"m{n}": make_eval_set.mail_merge(rng, campaign) for n in range(8)}
    texts["own"] = ("After ten years of neuroma pain I am exhausted by treatments that wear off. "
                    "A research-only recommendation turns access into a postcode lottery. "
                    "People in constant pain should not have to wait for a trial that may never be run.")
    texts |= {f"i{n}": text for n, text in enumerate(INDEPENDENT)}
    return group_comments(texts, settings)


def test_a_reworded_letter_joins_when_both_signals_agree():
    found = reworded(CampaignSettings())

    assert found["own"].method == PARAPHRASE
    assert found["own"].group == found["m0"].group
    assert set(found["own"].score) == {"cosine", "overlap"}
    assert not any(key.startswith("i") for key in found)


def test_a_reworded_letter_stays_out_when_either_signal_disagrees():
    assert "own" not in reworded(CampaignSettings(paraphrase_overlap=0.99))
    assert "own" not in reworded(CampaignSettings(paraphrase_cosine=0.99))
    assert "own" not in reworded(CampaignSettings(paraphrase_min_group=50))


def test_thresholds_are_respected():
    strict = group_comments(mail_merge_batch(), CampaignSettings(jaccard_threshold=0.95))
    assert "m2" not in strict and "m4" not in strict  # the dropped sentence and the typo

    pair = {"a": letter("Sarah Jones", "Leeds", "five"), "b": letter("Tom Okafor", "Hull", "five"),
            "c": "An unrelated comment about imaging."}
    assert set(group_comments(pair)) == {"a", "b"}
    assert group_comments(pair, CampaignSettings(min_size=3)) == {}


def test_settings_come_from_the_environment():
    settings = campaign_settings_from_environment({"CAMPAIGN_JACCARD_THRESHOLD": "0.55", "CAMPAIGN_MIN_SIZE": "3",
                                                   "CAMPAIGN_MASK_NAMES": "no"})
    assert (settings.jaccard_threshold, settings.min_size, settings.mask_names) == (0.55, 3, False)


def test_grouping_is_deterministic():
    texts = mail_merge_batch() | {f"i{n}": text for n, text in enumerate(INDEPENDENT)}
    assert group_comments(texts) == group_comments(dict(texts))


def test_the_evaluation_set_meets_the_targets():
    rows = [json.loads(line) for line in
            (Path(make_eval_set.__file__).parent / "data" / "analysis_eval.jsonl").read_text().splitlines()]
    texts = {row["id"]: row["body"] for row in rows}
    found = group_comments(texts)
    figures = score({row["id"]: row["campaign"] for row in rows},
                    {key: (found[key].group if key in found else None) for key in texts})

    assert len(rows) >= 400
    assert figures["precision"] >= 0.98 and figures["recall"] >= 0.95
    assert figures["organic_in_campaigns"] == 0


def test_the_evaluation_set_is_reproducible():
    rows = [json.loads(line) for line in
            (Path(make_eval_set.__file__).parent / "data" / "analysis_eval.jsonl").read_text().splitlines()]
    assert make_eval_set.build(2026) == rows


def test_supporters_who_reworded_alike_end_up_in_the_letters_campaign():
    rng = random.Random(11)
    campaign = make_eval_set.CAMPAIGNS["B"]
    texts = {f"m{n}": make_eval_set.mail_merge(rng, campaign) for n in range(12)}
    texts |= {f"own{n}": make_eval_set.own_words_member(rng, campaign) for n in range(12)}
    texts |= {f"i{n}": text for n, text in enumerate(INDEPENDENT)}

    found = group_comments(texts)

    assert {found[key].group for key in texts if not key.startswith("i")} == {"m0"}
    assert not any(key.startswith("i") for key in found)
