"""Segmentation stage: ``Document.blocks`` -> ``Document.passages``.

Normalises text (Unicode, ligatures, quotes, bullets left in the text, whitespace),
gives every passage its heading path and page, and builds ``Document.text`` with
character offsets so a quote can be traced back to its place in the document.
"""

from __future__ import annotations

import re
import unicodedata

from ..model import HEADING_KINDS, Block, Document, Passage

#: Characters that extraction leaves behind and that carry no meaning.
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
              "\ufb05": "st", "\ufb06": "st", "\u00ad": "", "\u200b": "", "\ufeff": ""}
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
_LEADING_BULLET = re.compile(r"^[•●▪■◦○·‣⁃∙◼►➢✓✔]\s*")
_SEPARATOR = "\n\n"


def normalize_text(text: str) -> str:
    """Canonical form of passage text: NFC, no ligatures or soft hyphens, single spaces."""
    text = unicodedata.normalize("NFC", text)
    for src, dst in _LIGATURES.items():
        text = text.replace(src, dst)
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text)
    return text.strip()


def segment(doc: Document) -> Document:
    """Fill ``doc.passages`` and ``doc.text`` from ``doc.blocks`` (in place, returned)."""
    passages: list[Passage] = []
    headings: list[str] = []
    offset = 0
    parts: list[str] = []
    for block in doc.blocks:
        passage = _passage_from_block(block, len(passages))
        if passage is None:
            continue
        if passage.kind in HEADING_KINDS:
            depth = int(passage.kind[1])
            headings = headings[: depth - 1] + [passage.text]
            passage.heading_path = headings[:-1]
        else:
            passage.heading_path = list(headings)
        passage.start = offset
        passage.end = offset + len(passage.text)
        offset = passage.end + len(_SEPARATOR)
        parts.append(passage.text)
        passages.append(passage)
    doc.passages = passages
    doc.text = _SEPARATOR.join(parts)
    if not doc.title:
        doc.title = next((p.text for p in passages if p.kind in HEADING_KINDS), passages[0].text if passages else "")
    return doc


def _passage_from_block(block: Block, n: int) -> Passage | None:
    cells = None
    if block.kind == "tr" and block.cells is not None:
        cells = [normalize_text(c) for c in block.cells]
        text = " | ".join(cells)
        if not any(cells):
            return None
    else:
        text = normalize_text(block.text)
        if block.kind in ("li", "ol", "p"):
            stripped = _LEADING_BULLET.sub("", text)
            kind = "li" if stripped != text and block.kind == "p" else block.kind
            text = stripped
        else:
            kind = block.kind
        if not text:
            return None
        return Passage(n=n, kind=kind, text=text, page=block.page, ocr=block.ocr)
    return Passage(n=n, kind="tr", text=text, page=block.page, cells=cells, ocr=block.ocr)
