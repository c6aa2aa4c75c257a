"""Shared test texts for the engine tests."""

from __future__ import annotations

from test_themes import LIBRARY, PARKING, REPAIRS  # type: ignore[import-not-found]

CORPUS_TEXTS = [*REPAIRS, *PARKING, *LIBRARY, ""]
CORPUS_STANCES = (
    ["disagree"] * 4 + ["agree"] * 4 + ["agree", "disagree", "agree", "disagree"] + [None]
)
