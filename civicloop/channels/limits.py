"""Each network's limits, as data. The composer, the guidance rule pack and the
transports all read them from here, so a post is checked while it is written, not
refused at publish time.

Figures are each network's published limits in 2026 (characters as the network counts
them; images in bytes). Where a network publishes no alt-text limit, the figure is
civicloop's own cap and says so."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    name: str
    characters: int
    image_bytes: int
    images: int
    alt_characters: int
    image_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    image_required: bool = False
    video_bytes: int = 0  # 0: civicloop does not send video to this network yet
    note: str = ""


NETWORKS: dict[str, Limits] = {
    "bluesky": Limits(
        "Bluesky",
        characters=300,  # graphemes
        image_bytes=1_000_000,
        images=4,
        alt_characters=2000,
        image_types=("image/jpeg", "image/png", "image/webp"),
    ),
    "mastodon": Limits(
        "Mastodon",
        characters=500,  # the default; servers may allow more
        image_bytes=16 * MB,
        images=4,
        alt_characters=1500,
    ),
    "x": Limits(
        "X",
        characters=280,  # every link counts 23
        image_bytes=5 * MB,
        images=4,
        alt_characters=1000,
    ),
    "facebook": Limits(
        "Facebook",
        characters=63_206,
        image_bytes=10 * MB,
        images=1,
        alt_characters=1000,
        note="Alt-text cap is civicloop's own.",
    ),
    "instagram": Limits(
        "Instagram",
        characters=2200,
        image_bytes=8 * MB,
        images=1,
        alt_characters=1000,
        image_types=("image/jpeg",),
        image_required=True,
        note="Instagram fetches the image from civicloop's public address.",
    ),
    "linkedin": Limits(
        "LinkedIn",
        characters=3000,
        image_bytes=10 * MB,
        images=1,
        alt_characters=4086,
        image_types=("image/jpeg", "image/png", "image/gif"),
    ),
    "email": Limits(
        "Email newsletter",
        characters=100_000,
        image_bytes=10 * MB,
        images=1,
        alt_characters=2000,
        note="Alt-text cap is civicloop's own.",
    ),
}
TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WebP"}
