from __future__ import annotations

import numpy as np

from civicloop_engine import CampaignDetector, pairwise_scores

TEMPLATE = (
    "As a tenant of Riverside Homes I demand that every repair is completed within ten working days "
    "with no exceptions, and that tenants are told the date of every appointment in advance."
)
ORGANIC = [
    "The plumber came twice and the boiler still does not work properly in the cold mornings.",
    "I would like evening appointments because I work shifts at the hospital most weeks.",
    "Damp in the back bedroom keeps coming back every winter even after it was painted over.",
    "Nobody called me to say the electrician was not coming, so I lost a day of wages.",
    "Twenty days is fine for small jobs like a dripping tap but not for a broken front door lock.",
]


def corpus() -> list[str]:
    texts = list(ORGANIC)
    texts += [TEMPLATE] * 3  # exact copies
    texts.append(TEMPLATE.upper())  # shouting, still a copy
    texts.append("My name is Jo Bloggs. " + TEMPLATE)  # fill-in-the-blank
    texts.append(TEMPLATE.replace("demand", "insist").replace("completed", "finished"))  # reworded
    texts += ["I agree"] * 6  # many short agreements: not a campaign
    texts += ["", "", ""]  # empty answers are kept, not grouped
    return texts


def test_copies_variants_and_rewordings_form_one_campaign():
    detector = CampaignDetector().fit(corpus())
    assert len(detector.campaigns_) == 1
    campaign = detector.campaigns_[0]
    assert campaign.members == (5, 6, 7, 8, 9, 10)
    assert campaign.exact_copies == 4
    assert campaign.template == TEMPLATE
    labels = detector.labels_
    assert list(labels[:5]) == [-1] * 5  # organic responses stay individual
    assert list(labels[11:]) == [-1] * 9  # "I agree" and empty answers too
    assert len(labels) == len(corpus())  # nothing dropped


def test_same_input_same_output():
    first = CampaignDetector(random_state=3).fit(corpus())
    second = CampaignDetector(random_state=3).fit(corpus())
    assert first.campaigns_ == second.campaigns_
    assert np.array_equal(first.labels_, second.labels_)


def test_odd_inputs_do_not_break_it():
    texts = ["😀😀😀"] * 4 + [
        "<b>Hello</b> " * 5,
        "x" * 100_000,
        "Écrivez-nous en français, s'il vous plaît.",
    ]
    detector = CampaignDetector().fit(texts)
    assert len(detector.labels_) == len(texts)
    assert CampaignDetector().fit([]).campaigns_ == []
    assert list(CampaignDetector().fit(["one lonely answer"]).labels_) == [-1]


def test_pairwise_scores():
    truth = ["a", "a", "a", None, "b", "b"]
    perfect = pairwise_scores(truth, [0, 0, 0, -1, 1, 1])
    assert perfect == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    merged = pairwise_scores(truth, [0, 0, 0, -1, 0, 0])  # a and b wrongly merged
    assert merged["recall"] == 1.0
    assert merged["precision"] == 4 / 10
    missed = pairwise_scores(truth, [0, 0, -1, -1, -1, -1])
    assert missed["precision"] == 1.0 and missed["recall"] == 1 / 4


SPUN_A = (
    "With respect to net neutrality. I urge the commission to overturn the order to control "
    "the Internet. Internet users, rather than unelected bureaucrats, deserve to choose the services we want."
)
SPUN_B = (
    "With respect to Internet regulation. I ask the regulator to reverse the scheme to manage "
    "broadband. Web customers, rather than distant officials, deserve to pick the products we like."
)
OTHER = (
    "Please keep the library open on Saturdays because it is the only quiet place where my children "
    "can do their homework and use a computer for free."
)


def test_spun_form_letters_are_one_campaign_but_different_letters_are_not():
    texts = [SPUN_A] * 3 + [SPUN_B] * 3 + [OTHER] * 3
    detector = CampaignDetector().fit(texts)
    assert [c.members for c in detector.campaigns_] == [(0, 1, 2, 3, 4, 5), (6, 7, 8)]
    without = CampaignDetector(skeleton_threshold=None).fit(texts)
    assert len(without.campaigns_) == 3
