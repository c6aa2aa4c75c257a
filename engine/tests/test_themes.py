from __future__ import annotations

import numpy as np

from civicloop_engine import ThemeFinder

REPAIRS = [
    "The boiler repair took three weeks and the plumber never called back.",
    "Repairs are slow, my boiler was broken for weeks before the plumber came.",
    "I waited a month for the plumber to repair the leaking boiler.",
    "Boiler repairs need to be quicker, the plumber missed two appointments.",
]
PARKING = [
    "Parking charges in the town centre car park are far too high.",
    "Make the car park free on Sundays, parking charges keep shoppers away.",
    "The car park machines are broken and parking fines are unfair.",
    "Cheaper parking in the car park would help the town centre shops.",
]
LIBRARY = [
    "Please keep the library open on Saturdays for children's homework.",
    "The library is the only quiet place for homework, do not cut its hours.",
    "Library opening hours should include evenings for students doing homework.",
    "Our children need the library computers for homework after school.",
]


def corpus() -> list[str]:
    texts: list[str] = []
    for group in zip(REPAIRS, PARKING, LIBRARY, strict=True):
        texts.extend(group)
    return [*texts, "", "   "]


def test_finds_the_three_topics_and_keeps_every_row():
    finder = ThemeFinder(n_themes=3, random_state=0).fit(corpus())
    labels = finder.labels_
    assert len(labels) == 14
    assert list(labels[-2:]) == [-1, -1]  # empty answers are "other", not dropped
    by_topic = [set(labels[i:12:3]) for i in range(3)]  # repairs, parking, library
    assert all(len(ids) == 1 for ids in by_topic), by_topic
    assert len(set.union(*by_topic)) == 3
    assert sorted(t.count for t in finder.themes_) == [4, 4, 4]
    keywords = {
        word for theme in finder.themes_ for phrase in theme.keywords for word in phrase.split()
    }
    assert {"boiler", "parking", "library"} <= keywords
    for theme in finder.themes_:  # no phrase repeats a word another phrase already has
        phrases = [set(p.split()) for p in theme.keywords]
        assert not any(a < b for a in phrases for b in phrases)
        assert theme.label[0].isupper() and "Typically: “" in theme.description
    for theme in finder.themes_:
        assert 1 <= len(theme.quotes) <= 5
        assert all(labels[q] == theme.id for q in theme.quotes)
        assert abs(theme.share - 1 / 3) < 1e-9
    for index, members in enumerate(finder.memberships_):
        if labels[index] != -1:
            assert members[0] == labels[index]  # primary first


def test_same_input_same_output_and_sizes_are_automatic():
    first = ThemeFinder(random_state=1).fit(corpus())
    second = ThemeFinder(random_state=1).fit(corpus())
    assert np.array_equal(first.labels_, second.labels_)
    assert first.themes_ == second.themes_
    assert first.n_themes_ >= 1


def test_degenerate_inputs_give_a_clear_result():
    assert list(ThemeFinder().fit([]).labels_) == []
    one = ThemeFinder().fit(["Only one response here."])
    assert list(one.labels_) == [-1] and one.themes_ == []
    same = ThemeFinder().fit(["Fix the roads please."] * 20)
    assert len(set(same.labels_)) == 1 and same.themes_[0].count == 20
    stop = ThemeFinder().fit(["the and of", "it is to", "😀"])
    assert list(stop.labels_) == [-1, -1, -1]


def test_contractions_and_filler_are_not_keywords():
    texts = [
        f"I didn't think the {topic} was good, actually it's really {word} and things don't work"
        for topic, word in [
            ("bus", "late"),
            ("bus", "slow"),
            ("bus", "late"),
            ("park", "dirty"),
            ("park", "unsafe"),
            ("park", "dirty"),
            ("library", "closed"),
            ("library", "shut"),
        ]
    ]
    finder = ThemeFinder(n_themes=3, representation="lexical").fit(texts)
    words = {w for t in finder.themes_ for p in t.keywords for w in p.split()}
    assert words and not words & {"didn't", "don't", "it's", "actually", "really", "things"}


def test_large_inputs_learn_from_a_sample_and_project_everyone(monkeypatch):
    import civicloop_engine.themes as themes

    monkeypatch.setattr(themes, "FIT_SAMPLE", 20)
    monkeypatch.setattr(themes, "CHUNK", 7)
    monkeypatch.setattr(themes, "MINI_BATCH_ABOVE", 10)
    texts = corpus()[:12] * 5  # 60 answers, three topics
    first = ThemeFinder(n_themes=3, representation="lexical").fit(texts)
    second = ThemeFinder(n_themes=3, representation="lexical").fit(texts)
    assert np.array_equal(first.labels_, second.labels_)
    assert (first.labels_ >= 0).all() and len(first.memberships_) == 60
    by_topic = [set(first.labels_[i::3]) for i in range(3)]  # repairs, parking, library
    assert all(len(ids) == 1 for ids in by_topic) and len(set.union(*by_topic)) == 3
