"""Colour arithmetic for organisation branding (WCAG 2.2 contrast)."""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    if not HEX_COLOUR.match(hex_colour):
        raise ValueError(f"{hex_colour!r} is not a colour like #1d70b8")
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
