#!/usr/bin/env python3
"""Render the labelled corpus (``corpora/<set>/<id>.json``) to real DOCX, PDF and
image-only ("scanned") PDF files, so the extractors are tested on files that look
like what schools publish.

Developer tool, also imported by the tests:

    python tools/render_corpus.py corpora/seed OUTDIR --formats docx,pdf,scan [--ids po-01,vo-02]
    python tools/render_corpus.py corpora/seed examples --formats docx,pdf --ids po-01 --stem voorbeeldprotocol

What the renderers do on purpose, because real protocols do it too:

DOCX (python-docx)
    built-in heading styles (or, with ``variant="bold"``, bold "Normal" paragraphs),
    "List Bullet"/"List Number" items, one Word table per run of ``tr`` passages, a
    page header (the title) and a footer with a PAGE field, neither of which is a
    passage; ``variant="textbox"`` moves one or two paragraphs into a VML text box.
PDF (reportlab platypus)
    A4, larger bold headings, justified paragraphs, hanging-indent list items, ruled
    tables with wrapped cells, a running header (the title) and a "Pagina N van M"
    footer on every page, a forced page break inside the first list of four or more
    items, and long words hyphenated at line end.
Scan (pypdfium2 + Pillow)
    every page rasterised, greyed with a little noise, saved as an image-only PDF.

The title is never added to the body as an extra paragraph when the document has an
``h1`` passage (all seed documents do): an unlabelled extra block would shift the
alignment between extracted blocks and labelled passages. It goes into the file
metadata and the page header instead.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from itertools import groupby
from pathlib import Path
from xml.sax.saxutils import escape

FORMATS = ("docx", "pdf", "scan")
DOCX_VARIANTS = ("styles", "bold", "textbox")


# --------------------------------------------------------------------------- helpers


def load_corpus_doc(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def passage_runs(doc: dict) -> list[tuple[str, list[dict]]]:
    """Group consecutive passages of the same kind, e.g. one table or one list."""
    return [(kind, list(group)) for kind, group in groupby(doc["passages"], key=lambda p: p["kind"])]


def needs_title_paragraph(doc: dict) -> bool:
    """True when the body has no h1, so the title must be shown as the first line."""
    return not any(p["kind"] == "h1" for p in doc["passages"])


def first_long_list(doc: dict, min_items: int = 4) -> list[dict] | None:
    """The first bullet or numbered list with at least ``min_items`` items."""
    for kind, items in passage_runs(doc):
        if kind in ("li", "ol") and len(items) >= min_items:
            return items
    return None


def forced_break_passage(doc: dict) -> int | None:
    """Passage number before which the PDF gets a page break (3rd item of a long list)."""
    items = first_long_list(doc)
    return items[2]["n"] if items else None


def textbox_passages(doc: dict) -> list[int]:
    """Passage numbers the ``textbox`` DOCX variant puts in a text box.

    The first ``p`` after the second heading, plus the next passage when it is a
    ``p`` too; deterministic so tests can look for exactly these texts.
    """
    passages = doc["passages"]
    headings_seen = 0
    for i, p in enumerate(passages):
        if p["kind"] in ("h1", "h2", "h3"):
            headings_seen += 1
            continue
        if headings_seen >= 2 and p["kind"] == "p":
            chosen = [p["n"]]
            if i + 1 < len(passages) and passages[i + 1]["kind"] == "p":
                chosen.append(passages[i + 1]["n"])
            return chosen
    return [p["n"] for p in passages if p["kind"] == "p"][:1]


# --------------------------------------------------------------------------- DOCX

HEADING_STYLES = {"h1": "Heading 1", "h2": "Heading 2", "h3": "Heading 3"}
BOLD_HEADING_SIZES = {"h1": 16, "h2": 13, "h3": 11}


def render_docx(doc: dict, path: str | Path, variant: str = "styles") -> None:
    """Write ``doc`` as a Word document; ``variant`` is styles, bold or textbox."""
    from docx import Document as DocxDocument

    if variant not in DOCX_VARIANTS:
        raise ValueError(f"unknown DOCX variant {variant!r}, expected one of {DOCX_VARIANTS}")
    word = DocxDocument()
    word.core_properties.title = doc["title"]
    word.core_properties.language = "nl-NL"
    _add_docx_header_footer(word, doc["title"])
    if needs_title_paragraph(doc):
        word.add_paragraph(doc["title"], style="Title")
    boxed = set(textbox_passages(doc)) if variant == "textbox" else set()
    for kind, items in passage_runs(doc):
        if kind == "tr":
            _add_docx_table(word, items)
        elif kind == "ol":
            _add_docx_numbered_list(word, items)
        else:
            for p in items:
                _add_docx_passage(word, p, variant, boxed)
    word.save(str(path))


def _add_docx_passage(word, p: dict, variant: str, boxed: set[int]) -> None:
    kind, text = p["kind"], p["text"]
    if kind in HEADING_STYLES:
        if variant == "bold":
            _add_bold_heading(word, kind, text)
        else:
            word.add_paragraph(text, style=HEADING_STYLES[kind])
    elif kind == "li":
        word.add_paragraph(text, style="List Bullet")
    elif p["n"] in boxed:
        _add_textbox_paragraph(word, text)
    else:
        word.add_paragraph(text)


def _add_bold_heading(word, kind: str, text: str) -> None:
    # Many schools never use heading styles: they make "Normal" text bold and bigger.
    from docx.shared import Pt

    run = word.add_paragraph(style="Normal").add_run(text)
    run.bold = True
    run.font.size = Pt(BOLD_HEADING_SIZES[kind])


def _add_docx_table(word, rows: list[dict]) -> None:
    ncols = max(len(r.get("cells") or [r["text"]]) for r in rows)
    table = word.add_table(rows=len(rows), cols=ncols)
    table.style = "Table Grid"
    for row, p in zip(table.rows, rows):
        cells = p.get("cells") or [p["text"]]
        for cell, value in zip(row.cells, cells):
            cell.text = value
    # Word always writes a paragraph after a table (it cannot end a body or touch the
    # next table); the extractors must skip such empty paragraphs anyway.
    word.add_paragraph()


def _add_docx_numbered_list(word, items: list[dict]) -> None:
    paragraphs = [word.add_paragraph(p["text"], style="List Number") for p in items]
    _restart_numbering(word, paragraphs)


def _restart_numbering(word, paragraphs) -> None:
    """Give this list its own w:num so it starts at 1 instead of continuing the last."""
    style_numpr = word.styles["List Number"].element.pPr.numPr
    numbering = word.part.numbering_part.element
    style_num = numbering.num_having_numId(style_numpr.numId.val)
    num = numbering.add_num(style_num.abstractNumId.val)
    num.add_lvlOverride(ilvl=0).add_startOverride(1)
    for para in paragraphs:
        numpr = para._p.get_or_add_pPr().get_or_add_numPr()
        numpr.get_or_add_ilvl().val = 0
        numpr.get_or_add_numId().val = num.numId


def _add_docx_header_footer(word, title: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    section = word.sections[0]
    section.header.paragraphs[0].text = title
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Pagina ")
    _add_page_field(footer)


def _add_page_field(paragraph) -> None:
    """Append a complex PAGE field (what Word itself writes for page numbers)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld_char(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    paragraph.add_run()._r.append(fld_char("begin"))
    paragraph.add_run()._r.append(instr)
    paragraph.add_run()._r.append(fld_char("separate"))
    paragraph.add_run("1")
    paragraph.add_run()._r.append(fld_char("end"))


_VML_TEXTBOX = """
<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
     xmlns:v="urn:schemas-microsoft-com:vml"
     xmlns:o="urn:schemas-microsoft-com:office:office">
  <w:pict>
    <v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202"
                 path="m,l,21600r21600,l21600,xe">
      <v:stroke joinstyle="miter"/>
      <v:path gradientshapeok="t" o:connecttype="rect"/>
    </v:shapetype>
    <v:shape id="Tekstvak{n}" type="#_x0000_t202"
             style="width:420pt;height:90pt;mso-wrap-style:square"
             strokecolor="#4f81bd" strokeweight="1pt" fillcolor="#eef3fa">
      <v:textbox style="mso-fit-shape-to-text:t">
        <w:txbxContent>{paragraphs}</w:txbxContent>
      </v:textbox>
    </v:shape>
  </w:pict>
</w:r>
"""


def _add_textbox_paragraph(word, text: str) -> None:
    """Put ``text`` in a VML text box (w:txbxContent), as Word 2007-style files have.

    Consecutive boxed passages share one box, like an info block on a school page.
    """
    from lxml import etree

    body = word.element.body
    last = body[-2] if len(body) > 1 else None  # body[-1] is sectPr
    inner = f'<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
    box = _last_textbox_content(last) if last is not None else None
    if box is not None:
        box.append(etree.fromstring(inner))
        return
    holder = word.add_paragraph()
    run_xml = _VML_TEXTBOX.replace("{n}", str(len(body))).replace("{paragraphs}", inner)
    holder._p.append(etree.fromstring(run_xml))


def _last_textbox_content(p_element):
    found = p_element.findall(".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}txbxContent")
    return found[-1] if found else None


# --------------------------------------------------------------------------- PDF

_FONT_CANDIDATES = {
    "regular": ["DejaVuSans.ttf", "LiberationSans-Regular.ttf"],
    "bold": ["DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"],
}
_FONT_DIRS = [
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/truetype/liberation2",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/dejavu",
    "/Library/Fonts",
    "C:/Windows/Fonts",
]
_fonts: tuple[str, str] | None = None


def pdf_fonts() -> tuple[str, str]:
    """(regular, bold) font names; an embedded TrueType font when the system has one.

    The corpus has characters outside WinAnsi (e.g. dotless i, arrows) that the
    built-in Helvetica cannot show; Helvetica stays the fallback.
    """
    global _fonts
    if _fonts is None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        found = {}
        for weight, names in _FONT_CANDIDATES.items():
            for name in names:
                hits = [Path(d) / name for d in _FONT_DIRS if (Path(d) / name).is_file()]
                if hits:
                    found[weight] = hits[0]
                    break
        if len(found) == 2:
            pdfmetrics.registerFont(TTFont("CorpusSans", str(found["regular"])))
            pdfmetrics.registerFont(TTFont("CorpusSans-Bold", str(found["bold"])))
            pdfmetrics.registerFontFamily("CorpusSans", normal="CorpusSans", bold="CorpusSans-Bold")
            _fonts = ("CorpusSans", "CorpusSans-Bold")
        else:
            _fonts = ("Helvetica", "Helvetica-Bold")
    return _fonts


def _printable(text: str) -> str:
    """Escape for reportlab markup; drop characters Helvetica cannot encode."""
    if pdf_fonts()[0] == "Helvetica":
        text = text.encode("cp1252", "replace").decode("cp1252")
    return escape(text)


_VOWELS = set("aeiouyáàäâéèëêíìïîóòöôúùüû")
HYPHENATE_MIN_LETTERS = 12


_DIGRAPHS = ("ch", "ij", "ph", "th", "sj")
# Consonant pairs that begin a Dutch syllable together: leer-plicht, ver-brui-ken.
_ONSETS = ("bl", "br", "dr", "fl", "fr", "gl", "gr", "kl", "kn", "kr", "pl", "pr", "tr", "vl", "vr", "wr")


def _starts_syllable(lower: str, i: int) -> bool:
    """A single consonant before a vowel (ver-zuim), not the second of an onset pair."""
    if lower[i] in _VOWELS or lower[i + 1] not in _VOWELS:
        return False
    return lower[i - 1 : i + 1] not in _ONSETS


def _starts_onset(lower: str, i: int) -> bool:
    return i + 2 < len(lower) and lower[i : i + 2] in _ONSETS and lower[i + 2] in _VOWELS and lower[i - 1] not in "cs"


def split_points(word: str) -> list[tuple[str, str]]:
    """Deterministic Dutch-ish hyphenation: (head, tail) pairs, longest head first.

    Splits before a consonant followed by a vowel (ver-zuim, regis-tra-tie), never
    inside ch/ij/sch, and keeps at least three letters on each side. Only words of
    ``HYPHENATE_MIN_LETTERS`` letters or more; reportlab only passes plain-letter
    words, so words with a real hyphen (vo-school) are never split here.
    """
    if len(word) < HYPHENATE_MIN_LETTERS or not word.isalpha():
        return []
    lower = word.lower()
    pairs = []
    for i in range(len(word) - 3, 2, -1):
        if not (_starts_syllable(lower, i) or _starts_onset(lower, i)):
            continue
        if lower[i - 1 : i + 1] in _DIGRAPHS or lower[i - 2 : i + 1] == "sch":
            continue
        if not (_VOWELS & set(lower[:i])):
            continue
        pairs.append((word[:i], word[i:]))
    return pairs


def _pdf_styles(hyphenate: bool) -> dict:
    from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = pdf_fonts()
    hyphen = split_points if hyphenate else ""
    base = ParagraphStyle(
        "corpus-body",
        fontName=regular,
        bulletFontName=regular,  # Helvetica's bullet comes out as (cid:127) in pdfminer
        fontSize=10.5,
        leading=14,
        alignment=TA_JUSTIFY,
        spaceAfter=6,
        hyphenationLang=hyphen,
        hyphenationMinWordLength=HYPHENATE_MIN_LETTERS,
        embeddedHyphenation=0,  # never break at a real hyphen: "vo-school" stays one word
    )
    heading = dict(fontName=bold, alignment=TA_LEFT, keepWithNext=1, hyphenationLang="")
    return {
        "title": ParagraphStyle("corpus-title", base, fontSize=18, leading=23, spaceBefore=0, spaceAfter=12, **heading),
        "h1": ParagraphStyle("corpus-h1", base, fontSize=18, leading=23, spaceBefore=4, spaceAfter=12, **heading),
        "h2": ParagraphStyle("corpus-h2", base, fontSize=14, leading=18, spaceBefore=12, spaceAfter=6, **heading),
        "h3": ParagraphStyle("corpus-h3", base, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4, **heading),
        "p": base,
        "li": ParagraphStyle("corpus-li", base, alignment=TA_LEFT, leftIndent=18, bulletIndent=6, spaceAfter=3),
        "ol": ParagraphStyle("corpus-ol", base, alignment=TA_LEFT, leftIndent=20, bulletIndent=2, spaceAfter=3),
        "cell": ParagraphStyle("corpus-cell", base, alignment=TA_LEFT, fontSize=9.5, leading=12, spaceAfter=0),
        "cell-head": ParagraphStyle("corpus-cell-head", base, alignment=TA_LEFT, fontName=bold, fontSize=9.5, leading=12, spaceAfter=0),
    }


def _marker(n: int) -> str:
    # A zero-width callback at the start of the passage: it fires on the page where
    # the passage's first line is actually drawn, even after a split or a move.
    return f'<onDraw name="passage" label="{n}"/>'


def _pdf_flowables(doc: dict, styles: dict, frame_width: float) -> list:
    from reportlab.platypus import PageBreak, Paragraph

    story = []
    if needs_title_paragraph(doc):
        story.append(Paragraph(_printable(doc["title"]), styles["title"]))
    break_before = forced_break_passage(doc)
    for kind, items in passage_runs(doc):
        if kind == "tr":
            story.append(_pdf_table(items, styles, frame_width))
            continue
        for number, p in enumerate(items, start=1):
            if p["n"] == break_before:
                story.append(PageBreak())
            text = _marker(p["n"]) + _printable(p["text"])
            if kind == "li":
                story.append(Paragraph(text, styles["li"], bulletText="•"))
            elif kind == "ol":
                story.append(Paragraph(text, styles["ol"], bulletText=f"{number}."))
            else:
                story.append(Paragraph(text, styles[kind]))
    return story


def _pdf_table(rows: list[dict], styles: dict, frame_width: float):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    ncols = max(len(r.get("cells") or [r["text"]]) for r in rows)
    data = []
    for i, p in enumerate(rows):
        cells = list(p.get("cells") or [p["text"]])
        cells += [""] * (ncols - len(cells))
        style = styles["cell-head"] if i == 0 else styles["cell"]
        row = [Paragraph((_marker(p["n"]) if j == 0 else "") + _printable(c), style) for j, c in enumerate(cells)]
        data.append(row)
    table = Table(data, colWidths=_column_widths(rows, ncols, frame_width), repeatRows=0, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    # A table may split over pages between rows, like in Word; rows are never split.
    table.spaceAfter = 8
    return table


def _column_widths(rows: list[dict], ncols: int, frame_width: float) -> list[float]:
    """Share the width by the average cell length per column, no column too narrow."""
    weights = []
    for j in range(ncols):
        lengths = [len((r.get("cells") or [r["text"]])[j]) for r in rows if j < len(r.get("cells") or [r["text"]])]
        weights.append(max(8.0, sum(lengths) / max(1, len(lengths))))
    total = sum(weights)
    widths = [frame_width * w / total for w in weights]
    minimum = min(70.0, frame_width / ncols)
    short = [i for i, w in enumerate(widths) if w < minimum]
    if short:
        spare = sum(minimum - widths[i] for i in short)
        rest = [i for i in range(ncols) if i not in short]
        rest_total = sum(widths[i] for i in rest)
        for i in short:
            widths[i] = minimum
        for i in rest:
            widths[i] -= spare * widths[i] / rest_total
    return widths


def _numbered_canvas_class(title: str):
    """A canvas that knows the page total when it writes header and footer."""
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    regular, _ = pdf_fonts()
    header_text = title if regular != "Helvetica" else title.encode("cp1252", "replace").decode("cp1252")

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved_pages = []

        def showPage(self):
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved_pages)
            for number, state in enumerate(self._saved_pages, start=1):
                self.__dict__.update(state)
                self._draw_running_texts(number, total)
                super().showPage()
            super().save()

        def _draw_running_texts(self, number: int, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            size = 8.5
            while size > 6 and stringWidth(header_text, regular, size) > width - 2 * 56.7:
                size -= 0.5  # long titles: smaller, never wrapped or cut
            self.setFont(regular, size)
            self.setFillColor(colors.HexColor("#555555"))
            self.drawString(56.7, height - 36, header_text)
            self.setFont(regular, 8.5)
            self.setStrokeColor(colors.HexColor("#999999"))
            self.setLineWidth(0.5)
            self.line(56.7, height - 41, width - 56.7, height - 41)
            self.drawCentredString(width / 2, 28, f"Pagina {number} van {total}")
            self.restoreState()

    return NumberedCanvas


def render_pdf(doc: dict, path: str | Path, *, hyphenate: bool = True) -> list[int]:
    """Write ``doc`` as an A4 PDF; return the 1-based page of every passage, in order."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import Frame, PageTemplate
    from reportlab.platypus.doctemplate import BaseDocTemplate

    pages: dict[int, int] = {}
    template_doc = BaseDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2.2 * cm,
        bottomMargin=2 * cm,
        title=doc["title"],
        author="protocolscan testcorpus",
        lang="nl-NL",
        invariant=1,  # same bytes every run: no creation date or random file id
    )
    frame = Frame(template_doc.leftMargin, template_doc.bottomMargin, template_doc.width, template_doc.height, id="body")

    def register_callback(canvas, _doc):
        canvas.setNamedCB("passage", lambda _c, _kind, label: pages.setdefault(int(label), template_doc.page))

    template_doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=register_callback)])
    story = _pdf_flowables(doc, _pdf_styles(hyphenate), template_doc.width)
    template_doc.build(story, canvasmaker=_numbered_canvas_class(doc["title"]))
    missing = [p["n"] for p in doc["passages"] if p["n"] not in pages]
    if missing:
        raise RuntimeError(f"{doc['id']}: no page recorded for passages {missing}")
    return [pages[p["n"]] for p in doc["passages"]]


# --------------------------------------------------------------------------- scan


def render_scanned_pdf(pdf_path: str | Path, out_path: str | Path, dpi: int = 200) -> None:
    """Rasterise every page of ``pdf_path`` and save the images as a PDF without text."""
    import pypdfium2 as pdfium

    rng = random.Random(str(Path(pdf_path).name))
    source = pdfium.PdfDocument(str(pdf_path))
    try:
        images = [_scan_look(page.render(scale=dpi / 72).to_pil(), rng) for page in source]
    finally:
        source.close()
    images[0].save(str(out_path), "PDF", save_all=True, append_images=images[1:], resolution=dpi, quality=75)


def _scan_look(image, rng: random.Random):
    """Grey paper, a little sensor noise: enough to look scanned, easy to OCR."""
    from PIL import Image, ImageChops

    grey = image.convert("L")
    width, height = grey.size
    # Uniform noise of +-4 grey levels from a seeded generator: same file every run.
    noise = Image.frombytes("L", grey.size, rng.randbytes(width * height)).point(lambda v: 124 + v % 9)
    shifted = ImageChops.add(grey, noise, scale=1.0, offset=-128)
    paper = 236 + rng.randint(0, 8)
    return shifted.point(lambda v: min(v, paper))


# --------------------------------------------------------------------------- corpus


def render_corpus(src_dir: str | Path, out_dir: str | Path, formats=FORMATS, ids=None, stem: str | None = None) -> dict:
    """Render every (or every listed) corpus document; return {id: {format: path}}.

    Files are ``<id>.docx``, ``<id>.pdf``, ``<id>.pages.json`` (page of every
    passage) and ``<id>.scan.pdf``; ``stem`` replaces ``<id>`` when exactly one
    document is rendered (for the examples). ``scan`` needs the PDF, so the PDF is
    rendered too when only ``scan`` is asked for.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}, expected some of {FORMATS}")
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = set(ids) if ids else None
    result: dict[str, dict[str, Path]] = {}
    docs = [load_corpus_doc(src) for src in sorted(src_dir.glob("*.json"))]
    docs = [doc for doc in docs if wanted is None or doc["id"] in wanted]
    if wanted is not None and wanted - {doc["id"] for doc in docs}:
        raise FileNotFoundError(f"not in {src_dir}: {sorted(wanted - {doc['id'] for doc in docs})}")
    if stem is not None and len(docs) != 1:
        raise ValueError("a file name stem needs exactly one document")
    for doc in docs:
        result[doc["id"]] = render_document(doc, out_dir, formats, stem=stem)
    return result


def render_document(doc: dict, out_dir: Path, formats=FORMATS, stem: str | None = None) -> dict[str, Path]:
    stem = stem or doc["id"]
    paths: dict[str, Path] = {}
    if "docx" in formats:
        paths["docx"] = out_dir / f"{stem}.docx"
        render_docx(doc, paths["docx"])
    if "pdf" in formats or "scan" in formats:
        paths["pdf"] = out_dir / f"{stem}.pdf"
        pages = render_pdf(doc, paths["pdf"])
        paths["pages"] = out_dir / f"{stem}.pages.json"
        paths["pages"].write_text(json.dumps(pages) + "\n", encoding="utf-8")
    if "scan" in formats:
        paths["scan"] = out_dir / f"{stem}.scan.pdf"
        render_scanned_pdf(paths["pdf"], paths["scan"])
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src_dir", type=Path, help="corpus folder with <id>.json files")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--formats", default="docx,pdf,scan", help="comma-separated: docx,pdf,scan")
    parser.add_argument("--ids", default="", help="comma-separated document ids (default: all)")
    parser.add_argument("--stem", default=None, help="output file name without extension (one document only)")
    args = parser.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    ids = [i.strip() for i in args.ids.split(",") if i.strip()] or None
    started = time.perf_counter()
    result = render_corpus(args.src_dir, args.out_dir, formats, ids, stem=args.stem)
    seconds = time.perf_counter() - started
    print(f"rendered {len(result)} documents ({','.join(formats)}) to {args.out_dir} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
