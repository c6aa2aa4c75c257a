"""Which language each response is written in.

langdetect (profiles shipped in the package, no download) is accurate but takes about
6 ms a text, which is ten minutes for 100,000 responses. Most consultation responses
are plainly English, so a cheap test runs first: a text in which common English
function words make up a fair share of the words is English. Only the rest go to
langdetect, seeded so the same text always gets the same answer."""

from __future__ import annotations

import re
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

UNDETERMINED = "und"  # ISO 639-2 code for "cannot tell" (empty, emoji-only, numbers)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ENGLISH = ENGLISH_STOP_WORDS | frozenset(
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


# Function words of languages UK public bodies commonly receive. A text with none of
# these, no English ones and only plain ASCII letters ("@united flight Cancelled
# Flightled") is "und" without asking langdetect, which is the slow step.
_OTHER = frozenset(
    [
        "mae",
        "yn",
        "yr",
        "ac",
        "wedi",
        "bod",
        "ddim",
        "gyda",
        "hefyd",
        "iawn",
        "ond",
        "ein",
        "eich",
        "nhw",
        "fy",
        "dy",
        "hi",
        "fe",
        "ni",
        "chi",
        "oes",
        "le",
        "la",
        "les",
        "des",
        "du",
        "un",
        "une",
        "est",
        "et",
        "pour",
        "pas",
        "que",
        "qui",
        "dans",
        "sur",
        "avec",
        "mais",
        "nous",
        "vous",
        "ils",
        "el",
        "los",
        "las",
        "del",
        "por",
        "con",
        "para",
        "una",
        "pero",
        "como",
        "muy",
        "esta",
        "este",
        "es",
        "lo",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "mit",
        "auf",
        "den",
        "dem",
        "zu",
        "von",
        "ich",
        "wir",
        "sie",
        "il",
        "di",
        "che",
        "non",
        "per",
        "gli",
        "della",
        "sono",
        "anche",
        "os",
        "um",
        "uma",
        "não",
        "com",
        "mais",
        "mas",
        "muito",
        "het",
        "een",
        "niet",
        "maar",
        "ook",
        "zijn",
        "wij",
        "nie",
        "jest",
        "się",
        "na",
        "że",
        "jak",
        "ale",
        "tak",
        "este",
        "sunt",
        "și",
        "nu",
        "cu",
        "pentru",
        "agus",
        "ar",
        "bhfuil",
        "ní",
        "tá",
        "sé",
        "ve",
        "bir",
        "bu",
        "için",
        "çok",
        "ama",
    ]
)
_PLAIN = re.compile(r"^[\x00-\x7f]*$")


@lru_cache(maxsize=1)
def _factory() -> object:
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)  # langdetect samples at random; a seed makes it repeatable
    return factory


def detect_language(text: str) -> str:
    """An ISO 639-1 code such as "en" or "cy", or "und" when there is too little to go on.

    English function words decide most answers at once. Fewer than six words with
    none of them is "und": langdetect guesses wildly on "Oracle SQL crash" (Catalan,
    Italian…). Longer texts go to langdetect only when they carry another language's
    function words or non-ASCII letters, and a guess it is under 80% sure of is
    "und" too."""
    words = _WORD.findall(text.lower())
    if not words:
        return UNDETERMINED
    english = sum(1 for w in words if w in _ENGLISH)
    if english and english / len(words) >= 0.2:
        return "en"
    if len(words) < 6:
        return UNDETERMINED
    foreign = sum(1 for w in words if w in _OTHER)
    if foreign / len(words) < 0.15 and _PLAIN.match(text):
        return UNDETERMINED
    from langdetect.lang_detect_exception import LangDetectException

    detector = _factory().create()  # type: ignore[attr-defined]
    detector.n_trial = 3  # the default 7 triples the time for little gain on answers this long
    detector.append(text[:1000])
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return UNDETERMINED
    return str(best.lang) if best.prob >= 0.8 else UNDETERMINED
