"""From positioned text lines to blocks: the layout logic shared by every page source.

The PDF text layer (pdfium or pdfplumber) and OCR both produce ``Line`` and ``Row``
objects per page, in page coordinates with y growing downwards (points). This module
turns the pages of one document into ``Block`` objects:

1. drop running headers, footers and page numbers (text in the page margins that
   repeats on many pages, or that is only a page number);
2. find the body font size and decide which line groups are headings (larger or
   bold short lines) and at which level;
3. join lines into paragraphs and list items (vertical gaps, bullets, hanging
   indents, short last lines, page breaks), undoing end-of-line hyphenation.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..model import Block
from .markers import marker_match, strip_list_marker, typed_list_kind

PAGE_NUMBER_RE = re.compile(
    r"^\s*(pagina|page|blz\.?|p\.)?\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*((van|of|/)\s*\d{1,4})?\s*$",
    re.IGNORECASE)
SENTENCE_END = ".!?:;"
_DIGITS = re.compile(r"\d+")
_VOCABULARY_WORD = re.compile(r"[^\W\d_][\w'’-]{3,}(?<!-)(?!\w)(?!-)")
_LAST_WORD = re.compile(r"(\S+)-$")
_FIRST_WORD = re.compile(r"[^\s.,;:!?)]+")
_NON_WORD = re.compile(r"[^\w]")
_HAS_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")
VOWELS = set("aeiouyáéíóúàèëïöüAEIOUY")

#: Share of the page height at the top and bottom where running headers live.
MARGIN_ZONE = 0.09


@dataclass
class Line:
    """One line of text on a page. Coordinates in points, y downwards."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float  # baseline (or box bottom for OCR)
    size: float
    bold: bool = False
    ocr: bool = False
    para: tuple | None = None  # OCR engine's own paragraph id, when it has one


@dataclass
class Row:
    """One table row on a page."""

    cells: list[str]
    top: float
    bottom: float


@dataclass
class PageContent:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    ocr: bool = False


# ---------------------------------------------------------------- headers/footers

def _margin_key(line: Line, page: PageContent) -> str | None:
    in_margin = line.bottom < page.height * MARGIN_ZONE or line.top > page.height * (1 - MARGIN_ZONE)
    if not in_margin:
        return None
    return _DIGITS.sub("#", " ".join(line.text.lower().split()))


def remove_running_text(pages: list[PageContent]) -> None:
    """Drop repeated header/footer lines and bare page numbers, in place."""
    seen: Counter[str] = Counter()
    for page in pages:
        keys = {k for k in (_margin_key(ln, page) for ln in page.lines) if k}
        seen.update(keys)
    threshold = max(2, 0.5 * len(pages))
    for page in pages:
        kept = []
        for line in page.lines:
            key = _margin_key(line, page)
            if key is not None and (seen[key] >= threshold or PAGE_NUMBER_RE.match(line.text)):
                continue
            kept.append(line)
        page.lines = kept


# ---------------------------------------------------------------- font statistics

def body_size(pages: list[PageContent]) -> float:
    """The font size that carries most characters."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def typical_leading(pages: list[PageContent]) -> dict[float, float]:
    """Baseline-to-baseline distance within paragraphs, per font size."""
    gaps: dict[float, list[float]] = {}
    for page in pages:
        for a, b in zip(page.lines, page.lines[1:]):
            if abs(a.size - b.size) > (max(1.2, 0.18 * a.size) if a.ocr else 0.3):
                continue
            d = b.bottom - a.bottom
            if 0 < d < 3 * a.size:
                gaps.setdefault(_size_key(a), []).append(d)
    # Most line pairs lie inside paragraphs, so the lower quartile of the gaps is
    # the in-paragraph leading even when paragraph spacing is frequent.
    return {size: sorted(ds)[len(ds) // 4] for size, ds in gaps.items()}


def _size_key(line: Line) -> float:
    return round(line.size) if line.ocr else round(line.size * 2) / 2


# ---------------------------------------------------------------- grouping

@dataclass
class _Group:
    lines: list[Line]
    page: int
    kind: str = "p"  # p, li, ol
    text_x0: float = 0.0  # x where the text (after a list marker) starts

    @property
    def last(self) -> Line:
        return self.lines[-1]


def _starts_item(text: str) -> str | None:
    return typed_list_kind(text)


def _style_changes(a: Line, b: Line, body: float) -> bool:
    # OCR sizes come from word boxes and wobble from line to line.
    tolerance = max(1.2, 0.18 * a.size) if a.ocr else 0.6
    if abs(a.size - b.size) > tolerance:
        return True
    emphasised = a.size > body * 1.1 or b.size > body * 1.1
    return a.bold != b.bold and (emphasised or len(a.text) < 90 or len(b.text) < 90)


def _breaks_paragraph(group: _Group, line: Line, page_no: int, leading: dict[float, float],
                      right_edge: float, body: float) -> bool:
    prev = group.last
    if _starts_item(line.text) and not _wrapped_separator(group, prev, line, right_edge):
        return True
    if prev.para is not None and line.para is not None and page_no == group.page and prev.para != line.para:
        return True  # the OCR engine's own paragraph split; it misses some, so go on checking
    if _style_changes(prev, line, body):
        return True
    if page_no != group.page:
        # Across a page break a paragraph goes on only mid-sentence.
        return prev.text.rstrip()[-1:] in SENTENCE_END or not (line.text[:1].islower() or prev.text.endswith("-"))
    expected = leading.get(_size_key(prev), prev.size * 1.2)
    gap = line.bottom - prev.bottom
    if gap > expected * (1.4 if prev.ocr else 1.3) or gap < -1:
        return True
    if group.kind in ("li", "ol") and line.x0 < group.text_x0 - 4:
        return True
    width = right_edge - min(prev.x0, line.x0)
    if prev.x1 < right_edge - 0.15 * width and prev.text.rstrip()[-1:] in ".!?":
        return True
    return False


def _wrapped_separator(group: _Group, prev: Line, line: Line, right_edge: float) -> bool:
    """A line that starts like an item ("·", "-", "a.") right after a full line of
    running text that does not end a sentence is the rest of that sentence."""
    if group.kind != "p":
        return False
    full = prev.x1 >= right_edge - 0.08 * (right_edge - prev.x0)
    return full and prev.text.rstrip()[-1:] not in SENTENCE_END and abs(line.x0 - group.lines[0].x0) < 3


def _new_group(line: Line, page_no: int) -> _Group:
    kind = _starts_item(line.text) or "p"
    group = _Group(lines=[line], page=page_no, kind=kind, text_x0=line.x0)
    if kind != "p":
        # Continuation lines of an item hang under its text, right of the marker.
        share = marker_match(line.text)[1].end() / max(len(line.text), 1)
        group.text_x0 = line.x0 + share * (line.x1 - line.x0)
    return group


# ---------------------------------------------------------------- joining text

def join_hyphenated(left: str, right: str, vocabulary: set[str] | None = None) -> str:
    """Join two lines, undoing end-of-line hyphenation but keeping real hyphens."""
    left = left.rstrip()
    right = right.lstrip()
    if left.endswith("\u00ad"):
        return left[:-1] + right
    if not left.endswith("-") or len(left) < 2 or not right:
        return f"{left} {right}" if left else right
    head_match = _LAST_WORD.search(left)
    head = head_match.group(1) if head_match else ""
    tail_match = _FIRST_WORD.match(right)
    tail = tail_match.group(0) if tail_match else ""
    if _keeps_hyphen(head, tail, vocabulary or set()):
        return left + right
    return left[:-1] + right


def _keeps_hyphen(head: str, tail: str, vocabulary: set[str]) -> bool:
    """Is the hyphen at the end of ``head-`` part of the word ("vo-school", "3-6-9-12")?"""
    letters = _NON_WORD.sub("", head)
    if not letters or not tail:
        return True
    joined, hyphened = (letters + tail).lower(), f"{head}-{tail}".lower()
    if hyphened in vocabulary:
        return True
    if joined in vocabulary:
        return False
    if any(ch.isdigit() for ch in head[-1:] + tail[:1]):
        return True  # 3-6-9-12, groep 1-2
    if not tail[0].islower():
        return True  # Halt-Bureau, e-mail-Adres: a capital after a hyphen is a real compound
    if len(letters) <= 2 or letters.isupper() or "-" in head:
        return True  # vo-school, ICT-, e-mail-
    if head[-1] in VOWELS and tail[0] in VOWELS:
        return True  # klinkerbotsing: zee-egel, Parro-app
    return False


def _group_text(group: _Group, vocabulary: set[str], strip_marker: bool = True) -> str:
    text = ""
    for line in group.lines:
        text = join_hyphenated(text, line.text, vocabulary) if text else line.text.strip()
    if strip_marker and group.kind in ("li", "ol"):
        text = strip_list_marker(text)
    return " ".join(text.split())


def _document_vocabulary(pages: list[PageContent]) -> set[str]:
    """Words as the document spells them elsewhere, to decide hyphens at line ends.
    A line-end fragment ("verzuimaan-") keeps its hyphen here, so it never poses as
    a whole word."""
    text = "\n".join(line.text for page in pages for line in page.lines).lower()
    return set(_VOCABULARY_WORD.findall(text))


# ---------------------------------------------------------------- headings

def _heading_levels(candidates: list[tuple[float, bool]], body: float) -> dict[tuple[float, bool], str]:
    """Map (size, bold) styles of heading groups to h1/h2/h3, largest first."""
    styles = sorted(set(candidates), key=lambda s: (-s[0], not s[1]))
    return {style: f"h{min(i + 1, 3)}" for i, style in enumerate(styles)}


def _is_heading(group: _Group, body: float) -> bool:
    if group.kind == "li":
        return False
    text = " ".join(ln.text for ln in group.lines).strip()
    if len(group.lines) > 3 or len(text) > 160 or not _HAS_LETTER.search(text):
        return False
    size = group.lines[0].size
    larger = size >= body * 1.12
    bold = all(ln.bold for ln in group.lines)
    if not (larger or bold):
        return False
    if text.endswith((".", ",", ";")) or (bold and not larger and len(text) > 100):
        return False
    return True


# ---------------------------------------------------------------- ruled tables

def cluster_tables(horizontal, vertical) -> list[dict]:
    """Group rulings into tables (y downwards; horizontal as (x0, x1, y), vertical
    as (x, y0, y1)). Returns dicts with ``rows`` [(top, bottom, xs)] and the box.

    Two horizontal rulings of the same width belong to
    one table when vertical rulings join them; each row keeps its own column
    positions (merged cells, or two stacked tables with other columns)."""
    horizontal.sort(key=lambda h: h[2])
    tables: list[dict] = []
    for x0, x1, y in horizontal:
        for table in tables:
            if abs(table["x0"] - x0) < 3 and abs(table["x1"] - x1) < 3 and \
                    _joined(vertical, table, table["ys"][-1], y):
                if y - table["ys"][-1] > 0.5:
                    table["ys"].append(y)
                break
        else:
            tables.append({"x0": x0, "x1": x1, "ys": [y]})
    found = []
    for table in tables:
        rows = []
        for top, bottom in zip(table["ys"], table["ys"][1:]):
            xs = _dedupe(sorted(x for x, y0, y1 in vertical
                                if table["x0"] - 3 <= x <= table["x1"] + 3 and y0 <= top + 2 and y1 >= bottom - 2))
            if len(xs) >= 2:
                rows.append((top, bottom, xs))
        if rows:
            found.append({"rows": rows, "top": rows[0][0], "bottom": rows[-1][1],
                          "x0": table["x0"], "x1": table["x1"]})
    return found


def _joined(vertical, table: dict, top: float, bottom: float) -> bool:
    return any(table["x0"] - 3 <= x <= table["x1"] + 3 and y0 <= top + 2 and y1 >= bottom - 2
               for x, y0, y1 in vertical)


def _dedupe(values: list[float], tolerance: float = 2.0) -> list[float]:
    out: list[float] = []
    for v in values:
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


# ---------------------------------------------------------------- main entry

def pages_to_blocks(pages: list[PageContent]) -> list[Block]:
    """Turn positioned lines and table rows into blocks in reading order."""
    remove_running_text(pages)
    body = body_size(pages)
    leading = typical_leading(pages)
    vocabulary = _document_vocabulary(pages)
    items: list[tuple[str, int, object]] = []  # ("group"|"row", page, obj)
    group: _Group | None = None
    for page in pages:
        right_edge = max((ln.x1 for ln in page.lines), default=page.width)
        for kind, obj in _reading_order(page):
            if kind == "row":
                group = None
                items.append(("row", page.number, obj))
                continue
            line = obj
            if group is not None and not _breaks_paragraph(group, line, page.number, leading, right_edge, body):
                group.lines.append(line)
                continue
            group = _new_group(line, page.number)
            items.append(("group", page.number, group))
    ocr_pages = {page.number for page in pages if page.ocr}
    groups = [obj for kind, _, obj in items if kind == "group"]
    styles = [(round(g.lines[0].size * 2) / 2, all(ln.bold for ln in g.lines))
              for g in groups if _is_heading(g, body)]
    levels = _heading_levels(styles, body)
    blocks: list[Block] = []
    for kind, page_no, obj in items:
        if kind == "row":
            cells = [" ".join(c.split()) for c in obj.cells]
            if any(cells):
                blocks.append(Block(text=" | ".join(cells), kind="tr", page=page_no, cells=cells,
                                    ocr=page_no in ocr_pages))
            continue
        g = obj
        heading = _is_heading(g, body)
        text = _group_text(g, vocabulary, strip_marker=not heading)
        if not text:
            continue
        block_kind = g.kind
        if heading:
            block_kind = levels[(round(g.lines[0].size * 2) / 2, all(ln.bold for ln in g.lines))]
        blocks.append(Block(text=text, kind=block_kind, page=page_no,
                            ocr=any(ln.ocr for ln in g.lines)))
    return blocks


def _reading_order(page: PageContent):
    """Lines and rows of a page top to bottom; lines on one baseline merged left to right."""
    entries = [(ln.bottom, ln.x0, "line", ln) for ln in page.lines]
    entries += [(row.bottom, 0.0, "row", row) for row in page.rows]
    entries.sort(key=lambda e: (e[0], e[1]))
    merged: list[tuple[str, object]] = []
    for bottom, _, kind, obj in entries:
        if kind == "line" and merged and merged[-1][0] == "line":
            prev: Line = merged[-1][1]  # type: ignore[assignment]
            if abs(prev.bottom - obj.bottom) < 1.5 and obj.x0 >= prev.x1 - 1 and abs(prev.size - obj.size) < 0.6:
                merged[-1] = ("line", Line(text=f"{prev.text} {obj.text}", x0=prev.x0, x1=obj.x1,
                                           top=min(prev.top, obj.top), bottom=prev.bottom,
                                           size=prev.size, bold=prev.bold and obj.bold, ocr=prev.ocr))
                continue
        merged.append((kind, obj))
    return merged
