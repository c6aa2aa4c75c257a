"""The whole analysis of one free-text question, as typed records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from civicloop_engine.campaigns import Campaign, CampaignDetector
from civicloop_engine.signals import POSITIONS, evidence_rich, position, sentiment
from civicloop_engine.text import normalise
from civicloop_engine.themes import Theme, ThemeFinder


@dataclass(frozen=True)
class ResponseResult:
    response_id: str
    theme_ids: tuple[int, ...]  # primary first; empty means "other"
    position: str
    sentiment: float
    campaign_id: int | None
    evidence_rich: bool
    empty: bool


@dataclass(frozen=True)
class ThemeResult:
    theme: Theme
    positions: dict[str, int]
    sentiment: float
    quotes: tuple[str, ...]  # response ids


@dataclass
class Analysis:
    themes: list[ThemeResult]
    campaigns: list[Campaign]
    responses: list[ResponseResult]
    stance_source: str  # "closed question" or "sentiment"
    notes: list[str] = field(default_factory=list)


def analyse(
    texts: Sequence[str],
    ids: Sequence[str] | None = None,
    stances: Sequence[str | None] | None = None,
    *,
    n_themes: int | None = None,
    random_state: int = 0,
    progress: Callable[[int, str], None] | None = None,
) -> Analysis:
    """Themes, positions, sentiment, campaigns and evidence for ``texts``.

    Every input gives one ResponseResult, in input order; nothing is dropped."""
    report = progress or (lambda percent, message: None)
    ids = [str(i) for i in ids] if ids is not None else [str(n + 1) for n in range(len(texts))]
    if len(ids) != len(texts) or (stances is not None and len(stances) != len(texts)):
        raise ValueError("texts, ids and stances must be the same length")
    if len(set(ids)) != len(ids):
        raise ValueError("response ids must be unique")
    texts = [normalise(t or "") for t in texts]
    report(5, "Finding campaigns")
    campaigns = CampaignDetector(random_state=random_state).fit(texts)
    report(30, "Finding themes")
    finder = ThemeFinder(n_themes=n_themes, random_state=random_state).fit(texts)
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
            )
        )
    themes = []
    for theme in finder.themes_:
        members = [r for r in responses if r.theme_ids and r.theme_ids[0] == theme.id]
        counts = Counter(r.position for r in members)
        themes.append(
            ThemeResult(
                theme=theme,
                positions={p: counts.get(p, 0) for p in POSITIONS},
                sentiment=round(sum(r.sentiment for r in members) / max(len(members), 1), 4),
                quotes=tuple(ids[q] for q in theme.quotes),
            )
        )
    notes = []
    empty = sum(r.empty for r in responses)
    if empty:
        notes.append(f"{empty} empty responses are kept and counted as 'other'.")
    report(100, "Done")
    return Analysis(
        themes=themes,
        campaigns=campaigns.campaigns_,
        responses=responses,
        stance_source="closed question" if stances is not None else "sentiment",
        notes=notes,
    )
