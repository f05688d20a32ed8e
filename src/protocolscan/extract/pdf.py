"""PDF extraction: pdfium fast path, pdfplumber layout path, OCR for image-only pages.

The fast path reads each page's text layer once with pdfium (a C library) and asks
it only a handful of questions per *line* (position, font size, weight), never per
character, which is what makes it many times faster than pdfplumber. Ruled tables
are found from the page's line drawings and their cells read with one bounded-text
call each. Pages are processed one at a time and closed, so memory stays flat for
long documents; only the lines (a few kilobytes per page) are kept for the layout
pass that needs the whole document (running headers, body font size).

``pdf_engine="pdfplumber"`` reads every page with pdfplumber instead (slower, but
its table finder also handles some tables that are not fully ruled), and ``auto``
falls back to it when pdfium cannot open a file.
"""

from __future__ import annotations

import ctypes
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..model import Document, ExtractionError, NeedsOCRError
from . import ocr as ocr_mod
from .layout import Line, PageContent, Row, cluster_tables, join_hyphenated, pages_to_blocks

#: A page whose text layer has fewer letters than this is treated as image-only.
MIN_TEXT_CHARS = 20
#: Share of suspicious characters above which a text layer counts as garbage.
GARBAGE_SHARE = 0.25

_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demibold|extrabold", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\n|\r|(?<=\ufffe)")
_CID = re.compile(r"\(cid:\d+\)")


def extract_pdf(path: Path, options) -> Document:
    """Read a PDF into a Document with blocks; OCR pages without usable text."""
    if options.pdf_engine == "pdfplumber":
        pages = list(_pages_pdfplumber(path, options))
    else:
        try:
            pages = list(_pages_pdfium(path, options))
        except _PdfiumOpenError as exc:
            if options.pdf_engine == "pdfium":
                raise ExtractionError(path, exc.reason) from exc
            pages = list(_pages_pdfplumber(path, options))
    doc = Document(id=path.stem, format="pdf", pages=len(pages))
    doc.ocr_pages = [p.number for p in pages if p.ocr]
    skipped = [p.number for p in pages if getattr(p, "skipped", False)]
    if skipped:
        doc.warnings.append(f"pagina's zonder leesbare tekst overgeslagen (geen OCR): {_page_list(skipped)}")
    doc.blocks = pages_to_blocks(pages)
    return doc


def _page_list(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


# ---------------------------------------------------------------- text quality

def text_is_garbage(text: str) -> bool:
    """True when a text layer cannot be trusted: (cid:..) glyphs, control or
    private-use characters, or hardly any letters (fonts without a Unicode map)."""
    text = text[:1500]  # a page's first lines tell; whole pages cost time
    size = len(text) - len(_WHITESPACE.findall(text))
    if size < MIN_TEXT_CHARS:
        return True
    odd = len(_SUSPICIOUS.findall(text)) + sum(len(m) for m in _CID.findall(text))
    letters = len(_NON_LETTERS.sub("", text))
    if odd / size > GARBAGE_SHARE or letters / size < 0.5:
        return True
    words = [w for w in text.lower().split() if len(w) > 1 and w.isalpha()]
    if not words:
        return True
    # Real Dutch text has vowels in nearly every word; shifted encodings do not.
    voweless = sum(1 for w in words if not _VOWELS.intersection(w))
    return voweless / len(words) > 0.4


_VOWELS = frozenset("aeiouyàáâäèéêëìíîïòóôöùúûü")
_WHITESPACE = re.compile(r"\s")
_SUSPICIOUS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x80-\x9f\ue000-\uf8ff\ufffd\u25a0-\u25ff]")
_NON_LETTERS = re.compile(r"[\W\d_]+")


# ---------------------------------------------------------------- pdfium fast path

class _PdfiumOpenError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _open_pdfium(path: Path):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ExtractionError(path, "het PDF-bestand is beveiligd met een wachtwoord",
                                  "vraag de school om een versie zonder wachtwoord") from exc
        raise _PdfiumOpenError("beschadigd of geen geldig PDF-bestand (pdfium kon het niet openen)") from exc


def _pages_pdfium(path: Path, options):
    """Yield the pages in order. Pages that need OCR are rendered here (pdfium is not
    thread-safe) and recognised by Tesseract processes in a small pool, so a scanned
    document keeps both cores busy; at most ``ocr_workers`` page images wait."""
    pdf = _open_pdfium(path)
    workers = max(1, options.ocr_workers)
    pending: deque = deque()
    try:
        count = len(pdf)
        if count == 0:
            raise ExtractionError(path, "het PDF-bestand heeft geen pagina's")
        if count > options.max_pages:
            raise ExtractionError(path, f"het PDF-bestand heeft {count} pagina's; de grens is {options.max_pages}",
                                  "splits het bestand of verhoog --max-pages")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for index in range(count):
                page = pdf[index]
                try:
                    content = _read_page_pdfium(page, index + 1)
                    if text_is_garbage(" ".join(ln.text for ln in content.lines) + " ".join(
                            " ".join(r.cells) for r in content.rows)):
                        content = _ocr_or_skip(path, page, index + 1, options, pool)
                finally:
                    page.close()
                pending.append(content)
                while pending and (not isinstance(pending[0], Future)
                                   or sum(isinstance(p, Future) for p in pending) > workers):
                    yield _resolved(pending.popleft())
            while pending:
                yield _resolved(pending.popleft())
    finally:
        for item in pending:
            if isinstance(item, Future):
                item.cancel()
        pdf.close()


def _resolved(item) -> PageContent:
    return item.result() if isinstance(item, Future) else item


def _ocr_or_skip(path: Path, page, number: int, options, pool=None):
    """OCR the page (a Future when a pool is given), or mark it skipped, or raise
    NeedsOCRError when OCR is wanted but Tesseract is missing."""
    width, height = page.get_size()
    if options.ocr == "never" or (options.ocr == "auto" and not ocr_mod.available(options.ocr_language)):
        if options.ocr == "auto":
            raise NeedsOCRError(path, f"pagina {number} heeft geen leesbare tekstlaag (gescande pagina) en OCR is niet beschikbaar",
                                ocr_mod.install_hint(options.ocr_language))
        content = PageContent(number=number, width=width, height=height)
        content.skipped = True  # type: ignore[attr-defined]
        return content
    image = page.render(scale=options.ocr_dpi / 72, grayscale=True).to_pil()

    def recognise() -> PageContent:
        lines, rows = ocr_mod.ocr_image(image, options.ocr_dpi, options.ocr_language, path, number)
        return PageContent(number=number, width=width, height=height, lines=lines, rows=rows, ocr=True)

    return pool.submit(recognise) if pool is not None else recognise()


def _read_page_pdfium(page, number: int) -> PageContent:
    import pypdfium2.raw as raw

    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        tables = _ruled_tables(page, height)
        rows = [row for table in tables for row in _table_rows(textpage, table, height)]
        lines = []
        text = textpage.get_text_range()
        # Text and character indices coincide unless pdfium expanded a character.
        identity = len(text) == textpage.count_chars()
        for start, end in _line_spans(text):
            line = _pdfium_line(raw, textpage, text, start, end, height, identity)
            if line is not None and not _inside_any(line, tables):
                lines.append(line)
        return PageContent(number=number, width=width, height=height, lines=lines, rows=rows)
    finally:
        textpage.close()


def _line_spans(text: str):
    """(start, end) of each visual line. pdfium marks a line-end hyphen with U+FFFE
    and runs the next line on without a break; we split there (keeping the mark)."""
    start = 0
    for match in _LINE_BREAK.finditer(text):
        if text[start:match.start()].strip():
            yield start, match.start()
        start = match.end()
    if text[start:].strip():
        yield start, len(text)


_FONT_BUF = ctypes.create_string_buffer(256)


def _pdfium_line(raw, textpage, text: str, start: int, end: int, height: float,
                 identity: bool = False) -> Line | None:
    segment = text[start:end]
    first = start + (len(segment) - len(segment.lstrip()))
    last = start + len(segment.rstrip()) - 1
    raw_tp = textpage.raw
    if identity:
        i_first, i_last = first, last
    else:
        i_first = raw.FPDFText_GetCharIndexFromTextIndex(raw_tp, first)
        i_last = raw.FPDFText_GetCharIndexFromTextIndex(raw_tp, last)
    if i_first < 0 or i_last < 0:
        return None
    left, bottom, _, top = textpage.get_charbox(i_first, loose=True)
    _, _, right, _ = textpage.get_charbox(i_last, loose=True)
    x = ctypes.c_double()
    y = ctypes.c_double()
    raw.FPDFText_GetCharOrigin(raw_tp, i_first, ctypes.byref(x), ctypes.byref(y))
    size = raw.FPDFText_GetFontSize(raw_tp, i_first)
    loose = top - bottom
    if size <= 1.01 and loose > 0:  # text drawn at 1 pt and scaled by a matrix
        size = loose / 1.15
    flags = ctypes.c_int()
    raw.FPDFText_GetFontInfo(raw_tp, i_first, _FONT_BUF, 256, ctypes.byref(flags))
    name = _FONT_BUF.value.decode("latin-1", "replace")
    bold = bool(_BOLD_NAME.search(name)) or bool(flags.value & (1 << 18)) or \
        raw.FPDFText_GetFontWeight(raw_tp, i_first) >= 600
    return Line(text=segment.strip().replace("\ufffe", "-"), x0=left, x1=right, top=height - top, bottom=height - y.value,
                size=round(size, 1), bold=bold)


# ---------------------------------------------------------------- ruled tables

def _ruled_tables(page, height: float) -> list[dict]:
    """Find tables drawn with ruling lines; each as its grid of x and y positions."""
    horizontal, vertical = [], []
    for left, bottom, right, top in _path_bounds(page):
        w, h = right - left, top - bottom
        if h <= 3 and w >= 8:
            horizontal.append((left, right, height - (top + bottom) / 2))
        elif w <= 3 and h >= 8:
            vertical.append(((left + right) / 2, height - top, height - bottom))
        elif w > 8 and h > 8:
            # a cell drawn as a rectangle: its four sides are rulings
            horizontal += [(left, right, height - top), (left, right, height - bottom)]
            vertical += [(left, height - top, height - bottom), (right, height - top, height - bottom)]
    if len(horizontal) < 2 or len(vertical) < 2:
        return []
    return cluster_tables(horizontal, vertical)


def _path_bounds(page):
    """Bounding boxes of the page's path objects (also inside form XObjects).

    Uses the raw pdfium calls: wrapping every text object of a page in a Python
    object only to skip it costs more than reading the page's text."""
    import pypdfium2.raw as raw

    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    stack = [(raw.FPDFPage_CountObjects(page.raw), lambda i: raw.FPDFPage_GetObject(page.raw, i), 0)]
    while stack:
        count, get, depth = stack.pop()
        for i in range(count):
            obj = get(i)
            kind = raw.FPDFPageObj_GetType(obj)
            if kind == raw.FPDF_PAGEOBJ_PATH:
                if raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
                    yield left.value, bottom.value, right.value, top.value
            elif kind == raw.FPDF_PAGEOBJ_FORM and depth < 3:
                stack.append((raw.FPDFFormObj_CountObjects(obj),
                              lambda j, form=obj: raw.FPDFFormObj_GetObject(form, j), depth + 1))


def _table_rows(textpage, table: dict, height: float):
    for top, bottom, xs in table["rows"]:
        cells = []
        for left, right in zip(xs, xs[1:]):
            raw_text = textpage.get_text_bounded(left + 0.5, height - bottom + 0.5, right - 0.5, height - top - 0.5)
            cells.append(_join_cell_lines(raw_text))
        if any(cells):
            yield Row(cells=cells, top=top, bottom=bottom)


def _join_cell_lines(raw_text: str) -> str:
    text = ""
    # pdfium marks a line-end hyphen as U+FFFE in page text and as U+0002 in
    # bounded text; either ends a line.
    for part in _LINE_BREAK.split(raw_text.replace("\x02", "\ufffe")):
        part = part.replace("\ufffe", "-").strip()
        if part:
            text = join_hyphenated(text, part) if text else part
    return text


def _inside_any(line: Line, tables: list[dict]) -> bool:
    middle_y = (line.top + line.bottom) / 2
    middle_x = (line.x0 + line.x1) / 2
    return any(t["top"] - 1 <= middle_y <= t["bottom"] + 1 and t["x0"] - 1 <= middle_x <= t["x1"] + 1
               for t in tables)


# ---------------------------------------------------------------- pdfplumber path

def _pages_pdfplumber(path: Path, options):
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        pdf = pdfplumber.open(str(path))
    except PDFPasswordIncorrect as exc:
        raise ExtractionError(path, "het PDF-bestand is beveiligd met een wachtwoord") from exc
    except (PDFSyntaxError, Exception) as exc:
        raise ExtractionError(path, "beschadigd of geen geldig PDF-bestand") from exc
    with pdf:
        if len(pdf.pages) > options.max_pages:
            raise ExtractionError(path, f"het PDF-bestand heeft {len(pdf.pages)} pagina's; de grens is {options.max_pages}")
        for index, page in enumerate(pdf.pages):
            content = _read_page_pdfplumber(page, index + 1)
            if text_is_garbage(" ".join(ln.text for ln in content.lines)):
                content = _ocr_page_via_pdfium(path, index, options)
            page.flush_cache()
            yield content


def _read_page_pdfplumber(page, number: int) -> PageContent:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]
    rows: list[Row] = []
    for table in tables:
        for cells, row in zip(table.extract(), table.rows):
            cells = [" ".join((c or "").split()) for c in cells]
            if any(cells):
                rows.append(Row(cells=cells, top=row.bbox[1], bottom=row.bbox[3]))
    lines = []
    for item in page.extract_text_lines(return_chars=True):
        mid_x, mid_y = (item["x0"] + item["x1"]) / 2, (item["top"] + item["bottom"]) / 2
        if any(b[0] <= mid_x <= b[2] and b[1] <= mid_y <= b[3] for b in boxes):
            continue
        first = item["chars"][0]
        lines.append(Line(text=item["text"], x0=item["x0"], x1=item["x1"], top=item["top"],
                          bottom=item["bottom"],
                          size=round(first["size"], 1), bold=bool(_BOLD_NAME.search(first["fontname"]))))
    return PageContent(number=number, width=page.width, height=page.height, lines=lines, rows=rows)


def _ocr_page_via_pdfium(path: Path, index: int, options) -> PageContent:
    pdf = _open_pdfium(path)
    try:
        page = pdf[index]
        try:
            return _ocr_or_skip(path, page, index + 1, options)
        finally:
            page.close()
    finally:
        pdf.close()
