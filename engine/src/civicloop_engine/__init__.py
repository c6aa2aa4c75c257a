"""civicloop_engine: offline analysis of consultation and social-media text.

The engine is pure computation on in-memory data. It never imports Django, so it
can be tested, benchmarked and reused on its own.
"""

from __future__ import annotations

from civicloop_engine.campaigns import Campaign, CampaignDetector, pairwise_scores
from civicloop_engine.text import fingerprint, normalise
from civicloop_engine.themes import Theme, ThemeFinder

__all__ = [
    "Campaign",
    "CampaignDetector",
    "Theme",
    "ThemeFinder",
    "fingerprint",
    "normalise",
    "pairwise_scores",
]
__version__ = "0.1.0"
