"""Text normalisation shared by every analysis step."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
# Zero-width characters often pasted from web pages and phones; they split words invisibly.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6])\b[^>]*>", re.I)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<!--.*?-->", re.S)


def strip_markup(text: str) -> str:
    """Return ``text`` without HTML: scripts and styles dropped, tags removed (line
    and paragraph ends become spaces), entities such as ``&amp;`` decoded.

    Responses pasted from web forms and emails often carry markup; analysing the tag
    names as words would invent themes. Text with no ``<`` or ``&`` comes back as is."""
    if "<" not in text and "&" not in text:
        return text
    text = _SCRIPT.sub(" ", text)
    text = _BREAK.sub(" ", text)
    text = _TAG.sub("", text)
    return html.unescape(text)


def normalise(text: str) -> str:
    """Return ``text`` in Unicode NFKC form with invisible characters removed and
    runs of whitespace collapsed to one space, trimmed at both ends.

    Case and punctuation are kept: they carry meaning (shouting, quotations) that
    later steps may want.
    """
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _WHITESPACE.sub(" ", text).strip()


def fingerprint(text: str) -> str:
    """Return a stable hex digest identifying ``text`` up to case and spacing.

    Two responses with the same fingerprint say exactly the same thing once
    normalised and case-folded, which is how copy-and-paste campaign responses
    are first grouped.
    """
    key = normalise(text).casefold()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
