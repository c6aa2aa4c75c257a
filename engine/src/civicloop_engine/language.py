"""Which language each response is written in.

langdetect (profiles shipped in the package, no download) is accurate but takes about
6 ms a text, which is ten minutes for 100,000 responses. Most consultation responses
are plainly English, so a cheap test runs first: a text in which common English
function words make up a fair share of the words is English. Only the rest go to
langdetect, seeded so the same text always gets the same answer."""

from __future__ import annotations

import re
from functools import lru_cache

UNDETERMINED = "und"  # ISO 639-2 code for "cannot tell" (empty, emoji-only, numbers)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ENGLISH = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "don't",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "more",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "out",
        "please",
        "should",
        "so",
        "some",
        "than",
        "that",
        "the",
        "their",
        "them",
        "there",
        "they",
        "this",
        "to",
        "too",
        "up",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


@lru_cache(maxsize=1)
def _detector_ready() -> bool:
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0  # langdetect samples at random; a seed makes it repeatable
    return True


def detect_language(text: str) -> str:
    """An ISO 639-1 code such as "en" or "cy", or "und" when there are no words to go on."""
    words = _WORD.findall(text.lower())
    if not words:
        return UNDETERMINED
    english = sum(1 for w in words if w in _ENGLISH)
    if english >= 2 and english / len(words) >= 0.2:
        return "en"
    letters = sum(len(w) for w in words)
    if letters < 8:
        return UNDETERMINED  # "ok", "no 👍": too little to tell
    _detector_ready()
    from langdetect import detect
    from langdetect.lang_detect_exception import LangDetectException

    try:
        return str(detect(text[:2000]))
    except LangDetectException:
        return UNDETERMINED
