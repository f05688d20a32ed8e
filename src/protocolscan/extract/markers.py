"""List markers typed into text: bullets and item numbers, shared by all extractors."""

from __future__ import annotations

import re

# Symbol/Wingdings bullets of Word documents that lost their font come out as
# private-use characters (U+F0xx).
_GLYPH_BULLET = r"[•·▪■□◦●○‣⁃∙◼➢➤►▸✓✔→\uf000-\uf0ff]"
# Characters that only count as a bullet when followed by whitespace.
_SPACED_BULLET = r"(?:[-–—*+]|o(?=\s))"
BULLET_RE = re.compile(rf"^\s*(?:{_GLYPH_BULLET}\s*|{_SPACED_BULLET}\s+)(?=\S)")
# "1.", "12)", "a.", "b)", "B)", "iv.", "(2)", "(c)"; not "A. Verbeek", an initial.
NUMBER_RE = re.compile(r"^\s*(?:\d{1,2}[.)]|[a-z][.)]|[A-Z]\)|[ivx]{2,4}[.)]|\((?:\d{1,2}|[a-z])\))\s+(?=\S)")


def marker_match(text: str) -> tuple[str, re.Match] | None:
    """('li' or 'ol', the marker match) when the text starts with a list marker."""
    match = BULLET_RE.match(text)
    if match:
        return "li", match
    match = NUMBER_RE.match(text)
    if match:
        return "ol", match
    return None


def typed_list_kind(text: str) -> str | None:
    """'li' or 'ol' when the text starts with a typed bullet or number marker."""
    found = marker_match(text)
    return found[0] if found else None


def strip_list_marker(text: str) -> str:
    """The text without its leading bullet or number marker (unchanged if none)."""
    found = marker_match(text)
    return text[found[1].end():] if found else text
