"""Per-response signals: sentiment, position and evidence."""

from __future__ import annotations

import re
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIONS = ("support", "oppose", "neutral")
_SUPPORT = {"strongly_agree", "agree", "yes", "support", "strongly agree", "for", "in favour"}
_OPPOSE = {"strongly_disagree", "disagree", "no", "oppose", "strongly disagree", "against"}

# Facts, figures and lived experience make a response worth reading first.
_EVIDENCE = [
    re.compile(
        r"\b\d+(?:[.,]\d+)?\s*(?:%|per ?cent|pounds?|£|minutes?|hours?|days?|weeks?|months?|years?|miles?|km|times)\b",
        re.I,
    ),
    re.compile(r"[£$€]\s?\d"),
    re.compile(r"\b(?:19|20)\d{2}\b"),
    re.compile(
        r"\b(?:I|we|my|our) (?:have|had|was|were|waited|lived|live|use|used|work|worked|saw|called|rang|reported)\b",
        re.I,
    ),
    re.compile(r"\b(?:because|for example|for instance|evidence|data|survey|study|report)\b", re.I),
]


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # reads the lexicon shipped in the package


def sentiment(text: str) -> float:
    """Compound sentiment from -1 (negative) to 1 (positive); 0 for empty text."""
    if not text.strip():
        return 0.0
    return float(_vader().polarity_scores(text[:5000])["compound"])


def position(stance: str | None, sentiment_score: float) -> str:
    """support / oppose / neutral: from the paired closed answer when there is one,
    otherwise from sentiment (weaker, and reported as such)."""
    if stance is not None and str(stance).strip():
        value = str(stance).strip().lower()
        if value in _SUPPORT:
            return "support"
        if value in _OPPOSE:
            return "oppose"
        return "neutral"
    if sentiment_score >= 0.3:
        return "support"
    if sentiment_score <= -0.3:
        return "oppose"
    return "neutral"


def evidence_rich(text: str) -> bool:
    """At least two kinds of evidence: a figure, a date, lived experience, a reason."""
    return sum(1 for pattern in _EVIDENCE if pattern.search(text)) >= 2
