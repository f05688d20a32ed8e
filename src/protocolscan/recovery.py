"""How well extraction recovers a document's known passages.

Used by the extraction tests and ``benchmarks/extract.py``: the labelled corpus is
rendered to DOCX/PDF, read back, and every gold passage is looked for in the
extracted passages, in order.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

#: How far ahead of the last match an extracted passage may be (extra passages
#: such as a repeated table header or a split paragraph are skipped).
LOOKAHEAD = 12


def comparable(text: str) -> str:
    """Text as compared: NFC, whitespace folded, quotes unified, case kept."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.split())


def similarity(a: str, b: str) -> float:
    a, b = comparable(a), comparable(b)
    if a == b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass
class Recovery:
    """Result of matching gold passages against extracted ones."""

    total: int = 0
    recovered: int = 0
    kind_matches: int = 0
    misses: list[tuple[int, str, str]] = field(default_factory=list)  # (gold n, gold text, best candidate)

    @property
    def rate(self) -> float:
        return self.recovered / self.total if self.total else 1.0

    def add(self, other: "Recovery") -> None:
        self.total += other.total
        self.recovered += other.recovered
        self.kind_matches += other.kind_matches
        self.misses += other.misses


def recover(gold: list[tuple[str, str]], got: list[tuple[str, str]], threshold: float = 0.95) -> Recovery:
    """Match gold (kind, text) passages in order against extracted (kind, text).

    A gold passage is recovered when an extracted passage after the previous match
    (within ``LOOKAHEAD``) has similarity >= ``threshold``. ``kind_matches`` counts
    recovered passages whose kind agrees (headings as any heading level).
    """
    result = Recovery(total=len(gold))
    position = 0
    for n, (kind, text) in enumerate(gold):
        best, best_j = 0.0, -1
        for j in range(position, min(len(got), position + LOOKAHEAD)):
            if abs(len(got[j][1]) - len(text)) > 0.3 * max(len(text), 20):
                continue
            s = similarity(text, got[j][1])
            if s > best:
                best, best_j = s, j
            if s >= 0.999:
                break
        if best >= threshold:
            result.recovered += 1
            if _same_kind(kind, got[best_j][0]):
                result.kind_matches += 1
            position = best_j + 1
        else:
            candidate = got[best_j][1] if best_j >= 0 else ""
            result.misses.append((n, text, candidate))
    return result


def _same_kind(a: str, b: str) -> bool:
    if a == b:
        return True
    return a[0] == "h" and b[0] == "h" or {a, b} == {"li", "ol"}


def squash(text: str) -> str:
    """Whitespace-free lowercase form, to compare whole-document texts."""
    return re.sub(r"\s+", "", text).lower()
