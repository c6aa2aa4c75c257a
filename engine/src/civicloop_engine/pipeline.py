"""The whole analysis of one free-text question, as typed records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from civicloop_engine.campaigns import Campaign, CampaignDetector
from civicloop_engine.language import UNDETERMINED, detect_language
from civicloop_engine.signals import POSITIONS, evidence_rich, position, sentiment
from civicloop_engine.text import normalise, strip_markup
from civicloop_engine.themes import Theme, ThemeFinder

# Beyond this many characters a response is a document, not an answer: the rest is
# kept but not analysed, so one pasted report cannot slow the whole run.
MAX_CHARACTERS = 20_000
NON_ANSWERS = frozenset(
    ["n/a", "na", "n.a", "none", "nil", "nothing", "no comment", "no comments", "-", "--", "x", "?"]
)


@dataclass(frozen=True)
class ResponseResult:
    response_id: str
    theme_ids: tuple[int, ...]  # primary first; empty means "other"
    position: str
    sentiment: float
    campaign_id: int | None
    evidence_rich: bool
    empty: bool
    language: str = "en"


@dataclass(frozen=True)
class ThemeResult:
    theme: Theme
    positions: dict[str, int]
    sentiment: float
    quotes: tuple[str, ...]  # response ids
    # {group name: {group value: responses with this primary theme}}, e.g. by channel or age
    breakdowns: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Analysis:
    themes: list[ThemeResult]
    campaigns: list[Campaign]
    responses: list[ResponseResult]
    stance_source: str  # "closed question" or "sentiment"
    notes: list[str] = field(default_factory=list)
    languages: dict[str, int] = field(default_factory=dict)
    representation: str = "lexical"


def analyse(
    texts: Sequence[str],
    ids: Sequence[str] | None = None,
    stances: Sequence[str | None] | None = None,
    *,
    groups: Mapping[str, Sequence[str | None]] | None = None,
    n_themes: int | None = None,
    representation: str = "auto",
    random_state: int = 0,
    progress: Callable[[int, str], None] | None = None,
) -> Analysis:
    """Themes, positions, sentiment, campaigns and evidence for ``texts``.

    ``groups`` maps a name (a demographic question, "channel") to one value per
    response; each theme then reports its count per value. Every input gives one
    ResponseResult, in input order; nothing is dropped."""
    report = progress or (lambda percent, message: None)
    ids = [str(i) for i in ids] if ids is not None else [str(n + 1) for n in range(len(texts))]
    groups = dict(groups or {})
    if (
        len(ids) != len(texts)
        or (stances is not None and len(stances) != len(texts))
        or any(len(values) != len(texts) for values in groups.values())
    ):
        raise ValueError("texts, ids, stances and groups must be the same length")
    if len(set(ids)) != len(ids):
        raise ValueError("response ids must be unique")
    raw = [
        normalise(strip_markup(t if isinstance(t, str) else "" if t is None else str(t)))
        for t in texts
    ]
    long_texts = sum(len(t) > MAX_CHARACTERS for t in raw)
    # "N/A", "-" and the like say nothing: analysed as no answer, but counted.
    says_nothing = [t.casefold().strip(" .!") in NON_ANSWERS for t in raw]
    placeholders = sum(says_nothing)
    texts = [
        "" if empty else t[:MAX_CHARACTERS] for t, empty in zip(raw, says_nothing, strict=True)
    ]
    report(2, "Detecting languages")
    languages = [detect_language(t) for t in texts]
    report(5, "Finding campaigns")
    campaigns = CampaignDetector(random_state=random_state).fit(texts)
    report(30, "Finding themes")
    finder = ThemeFinder(
        n_themes=n_themes, representation=representation, random_state=random_state
    ).fit(texts)
    report(75, "Scoring sentiment and positions")
    responses = []
    for n, text in enumerate(texts):
        score = sentiment(text)
        campaign = int(campaigns.labels_[n])
        responses.append(
            ResponseResult(
                response_id=ids[n],
                theme_ids=finder.memberships_[n],
                position=position(stances[n] if stances is not None else None, score),
                sentiment=round(score, 4),
                campaign_id=campaign if campaign >= 0 else None,
                evidence_rich=evidence_rich(text),
                empty=not text,
                language=languages[n],
            )
        )
    themes = []
    rows_of: dict[int, list[int]] = {}
    for n, r in enumerate(responses):
        if r.theme_ids:
            rows_of.setdefault(r.theme_ids[0], []).append(n)
    for theme in finder.themes_:
        rows = rows_of.get(theme.id, [])
        members = [responses[n] for n in rows]
        counts = Counter(r.position for r in members)
        breakdowns = {
            name: dict(sorted(Counter(_group_value(values[n]) for n in rows).items()))
            for name, values in groups.items()
        }
        themes.append(
            ThemeResult(
                theme=theme,
                positions={p: counts.get(p, 0) for p in POSITIONS},
                sentiment=round(sum(r.sentiment for r in members) / max(len(members), 1), 4),
                quotes=tuple(ids[q] for q in theme.quotes),
                breakdowns=breakdowns,
            )
        )
    notes = []
    empty = sum(r.empty for r in responses)
    if empty:
        notes.append(
            f"{empty} responses have no text: they are kept, in no theme, and reported as 'no answer'."
        )
    if placeholders:
        notes.append(
            f"{placeholders} answers only say there is nothing to say (such as 'N/A' or '-'): "
            "they are kept and reported as 'no answer'."
        )
    if long_texts:
        notes.append(
            f"{long_texts} responses are longer than {MAX_CHARACTERS:,} characters: "
            f"themes and sentiment read their first {MAX_CHARACTERS:,}; the full text is kept."
        )
    language_counts = Counter(languages)
    other = {k: v for k, v in language_counts.items() if k not in ("en", UNDETERMINED)}
    if other:
        listed = ", ".join(f"{code} {count}" for code, count in sorted(other.items()))
        notes.append(
            f"{sum(other.values())} responses may not be in English ({listed}): "
            "check them by hand or with a translation before relying on their themes."
        )
    report(100, "Done")
    return Analysis(
        themes=themes,
        campaigns=campaigns.campaigns_,
        responses=responses,
        stance_source="closed question" if stances is not None else "sentiment",
        notes=notes,
        languages=dict(sorted(language_counts.items())),
        representation=finder.representation_,
    )


def _group_value(value: object) -> str:
    text = "" if value is None else str(value).strip()
    return text or "not given"
