"""Word documents (.docx) -> blocks.

python-docx opens the package and gives the styles, numbering and core properties;
the body is walked on the XML itself because python-docx has no API for the order of
paragraphs and tables, for text boxes, or for text inside tracked insertions and
content controls. Only the main story is read: headers and footers live in their own
parts and never enter the walk; footnotes are appended at the end.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..model import Block, Document, ExtractionError
from .markers import strip_list_marker, typed_list_kind
from .text import paragraph_blocks

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


W_VAL = _w("val")
# Subtrees whose text is not part of the paragraph's own text: text boxes are read
# separately at their anchor, the Fallback of an AlternateContent repeats its Choice,
# moved-away and deleted text is gone from the document.
_SKIP_IN_TEXT = {_w("txbxContent"), f"{{{MC_NS}}}Fallback", _w("moveFrom"), _w("del"),
                 _w("rPr"), _w("pPr"), _w("instrText")}
_BREAKS = {_w("br"), _w("cr")}

#: Zip-bomb limits (besides ``ExtractOptions.max_docx_uncompressed``).
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM = 10 * 1024 * 1024

#: A paragraph in a heading style that is longer than this is body text in the wrong style.
_MAX_STYLED_HEADING_WORDS = 40
#: A paragraph formatted like a heading is at most this long.
_MAX_HEADING_WORDS = 12
_MAX_HEADING_CHARS = 120
#: Font size (relative to body text) from which a paragraph counts as "larger".
_LARGER_FONT = 1.15
_DEFAULT_HALF_POINTS = 20  # Word's size when nothing is specified: 10 pt

_HEADING_NAME = re.compile(r"^(?:heading|kop)\s*([1-9])$")
_TITLE_NAMES = {"title", "titel"}
_TOC_NAME = re.compile(r"^(?:toc|inhopg|inhoudsopgave)\s*\d*$|^toc heading$|^kop van inhoudsopgave$")


@dataclass
class _Para:
    """A paragraph before heading-by-formatting is decided."""

    text: str  # the text as a heading would have it (a typed section number kept)
    fallback: list[Block]  # what the paragraph is when it is not a heading
    candidate: bool = False  # short, all bold or larger: maybe a heading
    size: float = 0.0  # largest font size in half points


# ------------------------------------------------------------------------ entry point

def extract_docx(path: Path, options) -> Document:
    """Read a .docx file into a Document with blocks."""
    check_zip_safety(path, options.max_docx_uncompressed, "DOCX")
    document = _open_docx(path)
    reader = _DocxReader(document)
    try:
        blocks = reader.read()
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise ExtractionError(path, "het DOCX-bestand is beschadigd",
                              "open het in Word of LibreOffice en sla het opnieuw op") from exc
    title = (document.core_properties.title or "").strip()
    if not title:
        title = next((b.text for b in blocks if b.kind in ("h1", "h2", "h3")), "")
    return Document(id=path.stem, format="docx", title=title, blocks=blocks)


def check_zip_safety(path: Path, max_uncompressed: int, label: str = "DOCX") -> None:
    """Refuse zip bombs before anything is unpacked; refuse non-zip files clearly.

    The declared sizes in the central directory are what ``zipfile`` will produce at
    most (it stops at the declared size), so checking them is enough.
    """
    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            if fh.read(4) == b"PK\x03\x04":
                raise ExtractionError(path, f"het {label}-bestand is beschadigd of onvolledig",
                                      "open het in Word of LibreOffice en sla het opnieuw op")
        raise ExtractionError(path, f"het bestand is geen geldig {label}-bestand (geen zip-archief)",
                              "sla het document opnieuw op vanuit Word of LibreOffice")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError(path, f"het {label}-bestand is beschadigd",
                              "sla het document opnieuw op vanuit Word of LibreOffice") from exc
    limit_mb = max_uncompressed / (1024 * 1024)
    refusal = f"{label} pakt uit tot meer dan {limit_mb:.0f} MB; geweigerd als mogelijke zip-bom"
    if sum(info.file_size for info in entries) > max_uncompressed:
        raise ExtractionError(path, refusal)
    for info in entries:
        if info.file_size > RATIO_CHECK_FROM and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise ExtractionError(
                path, f"{label} bevat een onderdeel dat meer dan {MAX_COMPRESSION_RATIO} keer "
                      "is samengeperst; geweigerd als mogelijke zip-bom")


def _open_docx(path: Path):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    with zipfile.ZipFile(path) as archive:
        if "[Content_Types].xml" not in archive.namelist():
            raise ExtractionError(path, "het zip-bestand is geen Word-document (DOCX)")
    try:
        return docx.Document(str(path))
    except PackageNotFoundError as exc:
        raise ExtractionError(path, "het bestand is geen Word-document (DOCX)") from exc
    except ValueError as exc:
        if "content type" in str(exc):  # .docm, .dotx and friends: python-docx refuses them
            raise ExtractionError(path, "dit is een Word-sjabloon of een document met macro's, geen gewoon DOCX",
                                  "sla het in Word op als 'Word-document (*.docx)'") from exc
        raise ExtractionError(path, "het DOCX-bestand is beschadigd of onvolledig",
                              "open het in Word of LibreOffice en sla het opnieuw op") from exc
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        # KeyError: a part named in the package is missing
        raise ExtractionError(path, "het DOCX-bestand is beschadigd of onvolledig",
                              "open het in Word of LibreOffice en sla het opnieuw op") from exc


# -------------------------------------------------------------------------- the reader

class _DocxReader:
    def __init__(self, document) -> None:
        self.document = document
        self.styles = _Styles(document.styles.element)
        self.numbering = _Numbering(_numbering_element(document), self.styles)
        self.body_size = self.styles.body_size()

    def read(self) -> list[Block]:
        items: list[_Para | Block] = []
        self._walk(self.document.element.body, items)
        blocks = self._decide_headings(items)
        blocks.extend(self._footnotes())
        return blocks

    # -- walking the story

    def _walk(self, container, items: list) -> None:
        """Block-level children in document order: paragraphs, tables, content controls."""
        for child in container:
            tag = child.tag
            if tag == _w("p"):
                self._paragraph(child, items)
            elif tag == _w("tbl"):
                self._table(child, items)
            elif tag == _w("sdt"):
                if not _is_toc_control(child):
                    content = child.find(_w("sdtContent"))
                    if content is not None:
                        self._walk(content, items)
            elif tag == _w("customXml"):
                self._walk(child, items)
            elif tag == f"{{{MC_NS}}}AlternateContent":
                self._walk(_alternate_choice(child), items)

    def _paragraph(self, p, items: list) -> None:
        style_id = _paragraph_style_id(p)
        if not self.styles.is_toc(style_id):
            text = paragraph_text(p)
            if text.strip():
                items.extend(self._classify(p, style_id, text))
        for box in text_boxes(p):
            self._walk(box, items)

    def _classify(self, p, style_id: str | None, text: str) -> list:
        level = _outline_level(p.find(_w("pPr")))
        if level is None:
            level = self.styles.heading_level(style_id)
        if level is not None and len(text.split()) <= _MAX_STYLED_HEADING_WORDS:
            return [Block(text=text.strip(), kind=f"h{min(level, 3)}")]
        kind = self._list_kind(p, style_id)
        if kind:
            if "\n" in text and typed_list_kind(text):
                return paragraph_blocks(text)
            stripped = strip_list_marker(text.strip()).strip()
            return [Block(text=stripped, kind=kind)] if stripped else []
        blocks = paragraph_blocks(text)
        # "3. Verlof" in bold is a numbered section title more often than a list item
        numbered = len(blocks) == 1 and blocks[0].kind == "ol" and text.strip()[:1].isdigit()
        if len(blocks) == 1 and (blocks[0].kind == "p" or numbered):
            candidate, size = self._heading_format(p, style_id, text)
            return [_Para(text=text.strip(), fallback=blocks, candidate=candidate, size=size)]
        return blocks

    def _list_kind(self, p, style_id: str | None) -> str | None:
        num_id, ilvl = _num_pr(p.find(_w("pPr")))
        if num_id is None:
            num_id, ilvl = self.styles.num_pr(style_id)
        if num_id == "0":
            return None
        if num_id is not None:
            fmt = self.numbering.format(num_id, ilvl or 0)
            if fmt == "none":
                return None
            if fmt is not None:
                return "li" if fmt == "bullet" else "ol"
        by_style = self.styles.list_kind(style_id)
        if by_style == "para":  # "List Paragraph" without numbering: trust a typed marker
            return typed_list_kind(paragraph_text(p)) or "li"
        return by_style

    def _heading_format(self, p, style_id: str | None, text: str) -> tuple[bool, float]:
        """Is the paragraph short and all bold or larger? And its largest font size."""
        stripped = text.strip()
        if (len(stripped.split()) > _MAX_HEADING_WORDS or len(stripped) > _MAX_HEADING_CHARS
                or stripped.endswith((".", ",", ";", ":")) or "\n" in stripped):
            return False, 0.0
        runs = [r for r in _text_runs(p) if _run_text(r).strip()]
        if not runs:
            return False, 0.0
        bold = all(self.styles.run_bold(r, style_id) for r in runs)
        size = max(self.styles.run_size(r, style_id) for r in runs)
        larger = size >= self.body_size * _LARGER_FONT
        return bold or larger, size

    def _table(self, tbl, items: list) -> None:
        rows = [row for row in tbl if row.tag == _w("tr")]
        rows_cells = [_row_cells(row) for row in rows]
        if rows_cells and all(len(cells) <= 1 for cells in rows_cells):
            # a one-column table is a frame around text: read its content as text
            for cells in rows_cells:
                for cell in cells:
                    self._walk(cell, items)
            return
        for cells in rows_cells:
            texts = [_cell_text(cell) for cell in cells]
            texts = [t for t in texts if t]
            if texts:
                items.append(Block(text=" | ".join(texts), kind="tr", cells=texts))

    # -- headings by formatting

    def _decide_headings(self, items: list) -> list[Block]:
        """Turn formatting candidates into headings when body text follows them.

        A run of candidates of the same size (an address block in bold, say) is not a
        series of headings; a candidate followed by a smaller candidate is (a chapter
        title above a section title).
        """
        confirmed: dict[int, float] = {}
        for index, item in enumerate(items):
            if not (isinstance(item, _Para) and item.candidate):
                continue
            following = items[index + 1] if index + 1 < len(items) else None
            if following is None:
                continue
            if isinstance(following, _Para) and following.candidate:
                if following.size < item.size:
                    confirmed[index] = item.size
            elif not (isinstance(following, Block) and following.kind in ("h1", "h2", "h3")):
                confirmed[index] = item.size
        levels = self._levels_by_size(sorted(set(confirmed.values()), reverse=True), items)
        blocks: list[Block] = []
        for index, item in enumerate(items):
            if isinstance(item, Block):
                blocks.append(item)
            elif index in confirmed:
                blocks.append(Block(text=item.text, kind=levels[confirmed[index]]))
            else:
                blocks.extend(item.fallback)
        return blocks

    @staticmethod
    def _levels_by_size(sizes: list[float], items: list) -> dict[float, str]:
        """Largest size -> h1 when there are several sizes; one size -> h2.

        When the document has styled h1 headings, formatted ones rank below them.
        """
        has_styled_h1 = any(isinstance(i, Block) and i.kind == "h1" for i in items)
        if len(sizes) <= 1 or has_styled_h1:
            kinds = ["h2", "h3"]
        else:
            kinds = ["h1", "h2", "h3"]
        return {size: kinds[min(rank, len(kinds) - 1)] for rank, size in enumerate(sizes)}

    # -- footnotes

    def _footnotes(self) -> list[Block]:
        blocks: list[Block] = []
        for rel in self.document.part.rels.values():
            if rel.is_external or not rel.reltype.endswith(("/footnotes", "/endnotes")):
                continue
            root = etree.fromstring(rel.target_part.blob, _safe_parser())
            for note in root:
                if note.get(_w("type")) in ("separator", "continuationSeparator", "continuationNotice"):
                    continue
                for p in note.iter(_w("p")):
                    text = paragraph_text(p).strip()
                    if text:
                        blocks.append(Block(text=text, kind="p"))
        return blocks


# ----------------------------------------------------------------------- XML helpers

def paragraph_text(p) -> str:
    """The paragraph's own text, without text boxes or duplicated alternate content."""
    parts: list[str] = []
    _collect_text(p, parts)
    return "".join(parts)


def _collect_text(element, parts: list[str]) -> None:
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP_IN_TEXT:
            continue
        if tag == _w("t"):
            parts.append(child.text or "")
        elif tag == _w("tab") or tag == _w("ptab"):
            parts.append("\t")
        elif tag in _BREAKS:
            parts.append("\n")
        elif tag == _w("noBreakHyphen"):
            parts.append("-")
        elif tag == _w("sym"):
            parts.append(_symbol(child))
        elif tag == _w("p"):  # a paragraph nested in an inline content control
            if parts:
                parts.append("\n")
            _collect_text(child, parts)
        else:
            _collect_text(child, parts)


def _symbol(sym) -> str:
    try:
        return chr(int(sym.get(_w("char"), ""), 16))
    except ValueError:
        return ""


def text_boxes(p) -> list:
    """The text-box contents anchored in a paragraph, each once.

    A text box is usually stored twice inside ``mc:AlternateContent`` (DrawingML in
    Choice, VML in Fallback); only the Choice is read. Boxes inside boxes are reached
    when the outer box is walked.
    """
    found: list = []

    def visit(element) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag == f"{{{MC_NS}}}Fallback":
                continue
            if tag == _w("txbxContent"):
                found.append(child)
            elif tag == f"{{{MC_NS}}}AlternateContent":
                visit(_alternate_choice(child))
            else:
                visit(child)

    visit(p)
    return found


def _alternate_choice(alternate):
    """The first Choice of an AlternateContent (the Fallback only if there is none)."""
    for tag in ("Choice", "Fallback"):
        branch = alternate.find(f"{{{MC_NS}}}{tag}")
        if branch is not None:
            return branch
    return alternate


def _text_runs(p) -> list:
    """Runs carrying the paragraph's own text (also inside hyperlinks, insertions)."""
    runs = []

    def visit(element) -> None:
        for child in element:
            if not isinstance(child.tag, str) or child.tag in _SKIP_IN_TEXT:
                continue
            if child.tag == _w("r"):
                runs.append(child)
            else:
                visit(child)

    visit(p)
    return runs


def _run_text(r) -> str:
    parts: list[str] = []
    _collect_text(r, parts)
    return "".join(parts)


def _row_cells(row) -> list:
    """The cells of a row, skipping the continuation of a vertical merge.

    A horizontally merged cell is one ``w:tc`` with ``gridSpan``, so it is never
    repeated; a vertically merged one repeats as empty ``vMerge`` cells below.
    """
    cells = []
    for child in row:
        if child.tag == _w("tc"):
            cells.append(child)
        elif child.tag in (_w("sdt"), _w("customXml")):
            content = child.find(_w("sdtContent")) if child.tag == _w("sdt") else child
            cells.extend(c for c in (content if content is not None else []) if c.tag == _w("tc"))
    return [c for c in cells if not _is_vmerge_continuation(c)]


def _is_vmerge_continuation(tc) -> bool:
    merge = tc.find(f"{_w('tcPr')}/{_w('vMerge')}")
    return merge is not None and merge.get(W_VAL, "continue") == "continue"


def _cell_text(tc) -> str:
    """All paragraphs of a cell on one line, nested tables and text boxes included."""
    texts = []
    for p in tc.iter(_w("p")):
        if any(a.tag in (_w("txbxContent"), f"{{{MC_NS}}}Fallback") for a in _ancestors_until(p, tc)):
            continue
        texts.append(paragraph_text(p).strip())
        for box in text_boxes(p):
            texts.extend(paragraph_text(q).strip() for q in box.iter(_w("p")))
    return " ".join(t for t in texts if t)


def _ancestors_until(element, stop):
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return
        yield ancestor


def _paragraph_style_id(p) -> str | None:
    style = p.find(f"{_w('pPr')}/{_w('pStyle')}")
    return style.get(W_VAL) if style is not None else None


def _outline_level(ppr) -> int | None:
    """1-based heading level from ``w:outlineLvl`` (9 = body text)."""
    if ppr is None:
        return None
    node = ppr.find(_w("outlineLvl"))
    if node is None:
        return None
    try:
        value = int(node.get(W_VAL, "9"))
    except ValueError:
        return None
    return value + 1 if 0 <= value < 9 else None


def _num_pr(ppr) -> tuple[str | None, int | None]:
    if ppr is None:
        return None, None
    num_pr = ppr.find(_w("numPr"))
    if num_pr is None:
        return None, None
    num_id = num_pr.find(_w("numId"))
    ilvl = num_pr.find(_w("ilvl"))
    level = None
    if ilvl is not None:
        try:
            level = int(ilvl.get(W_VAL, "0"))
        except ValueError:
            level = 0
    return (num_id.get(W_VAL) if num_id is not None else None), level


def _is_toc_control(sdt) -> bool:
    gallery = sdt.find(f"{_w('sdtPr')}/{_w('docPartObj')}/{_w('docPartGallery')}")
    return gallery is not None and "table of contents" in (gallery.get(W_VAL) or "").lower()


def _on(element) -> bool | None:
    """Value of an on/off property element (``<w:b/>`` is on, ``w:val="0"`` off)."""
    if element is None:
        return None
    return element.get(W_VAL, "true").lower() not in ("0", "false", "off", "none")


def _numbering_element(document):
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    for rel in document.part.rels.values():
        if rel.reltype == RT.NUMBERING and not rel.is_external:
            return etree.fromstring(rel.target_part.blob, _safe_parser())
    return None


def _safe_parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


# -------------------------------------------------------------------------- styles

class _Styles:
    """Style look-ups along the ``basedOn`` chain."""

    def __init__(self, styles_element) -> None:
        self.root = styles_element
        self.by_id: dict[str, object] = {}
        self.default_paragraph: str | None = None
        for style in styles_element.iter(_w("style")):
            style_id = style.get(_w("styleId"))
            if style_id:
                self.by_id[style_id] = style
                if style.get(_w("type")) == "paragraph" and style.get(_w("default")) in ("1", "true"):
                    self.default_paragraph = style_id

    def chain(self, style_id: str | None):
        """The style and the styles it is based on (the default style when None)."""
        seen = set()
        style_id = style_id or self.default_paragraph
        while style_id and style_id not in seen and style_id in self.by_id:
            seen.add(style_id)
            style = self.by_id[style_id]
            yield style
            based = style.find(_w("basedOn"))
            style_id = based.get(W_VAL) if based is not None else None

    @staticmethod
    def _names(style) -> list[str]:
        name = style.find(_w("name"))
        names = [style.get(_w("styleId"), "")]
        if name is not None:
            names.insert(0, name.get(W_VAL, ""))
        return [n.strip().lower() for n in names if n]

    def heading_level(self, style_id: str | None) -> int | None:
        for style in self.chain(style_id):
            for name in self._names(style):
                match = _HEADING_NAME.match(name)
                if match:
                    return int(match.group(1))
                if name in _TITLE_NAMES:
                    return 1
            level = _outline_level(style.find(_w("pPr")))
            if level is not None:
                return level
        return None

    def is_toc(self, style_id: str | None) -> bool:
        if not style_id:
            return False
        return any(_TOC_NAME.match(name) for style in self.chain(style_id) for name in self._names(style))

    def list_kind(self, style_id: str | None) -> str | None:
        """'li'/'ol' from a list style's name; 'para' for "List Paragraph"."""
        if not style_id:
            return None
        for style in self.chain(style_id):
            for name in self._names(style):
                compact = name.replace(" ", "")
                if compact.startswith(("listbullet", "lijstopsom")):
                    return "li"
                if compact.startswith(("listnumber", "lijstnummer")):
                    return "ol"
                if compact in ("listparagraph", "lijstalinea"):
                    return "para"
        return None

    def num_pr(self, style_id: str | None) -> tuple[str | None, int | None]:
        for style in self.chain(style_id):
            num_id, ilvl = _num_pr(style.find(_w("pPr")))
            if num_id is not None:
                return num_id, ilvl
        return None, None

    def _style_rpr(self, run_style: str | None, paragraph_style: str | None, tag: str):
        """A run property from the character style, else from the paragraph style."""
        chains = ([self.chain(run_style)] if run_style else []) + [self.chain(paragraph_style)]
        for chain in chains:
            for style in chain:
                node = style.find(f"{_w('rPr')}/{_w(tag)}")
                if node is not None:
                    return node
        return None

    def run_bold(self, r, paragraph_style: str | None) -> bool:
        direct = _on(r.find(f"{_w('rPr')}/{_w('b')}"))
        if direct is not None:
            return direct
        node = self._style_rpr(_run_style_id(r), paragraph_style, "b")
        return bool(_on(node))

    def run_size(self, r, paragraph_style: str | None) -> float:
        node = r.find(f"{_w('rPr')}/{_w('sz')}")
        if node is None:
            node = self._style_rpr(_run_style_id(r), paragraph_style, "sz")
        if node is None:
            return self.default_size()
        try:
            return float(node.get(W_VAL))
        except (TypeError, ValueError):
            return self.default_size()

    def default_size(self) -> float:
        node = self.root.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{_w('rPr')}/{_w('sz')}")
        try:
            return float(node.get(W_VAL)) if node is not None else _DEFAULT_HALF_POINTS
        except (TypeError, ValueError):
            return _DEFAULT_HALF_POINTS

    def body_size(self) -> float:
        """The size of body text: the default paragraph style's, else the document default."""
        for style in self.chain(None):
            node = style.find(f"{_w('rPr')}/{_w('sz')}")
            if node is not None:
                try:
                    return float(node.get(W_VAL))
                except (TypeError, ValueError):
                    break
        return self.default_size()


def _run_style_id(r) -> str | None:
    node = r.find(f"{_w('rPr')}/{_w('rStyle')}")
    return node.get(W_VAL) if node is not None else None


# ------------------------------------------------------------------------- numbering

class _Numbering:
    """numId + level -> numFmt ("bullet", "decimal", "lowerLetter", ...)."""

    def __init__(self, root, styles: _Styles) -> None:
        self.styles = styles
        self.nums: dict[str, object] = {}
        self.abstracts: dict[str, object] = {}
        if root is None:
            return
        for num in root.iter(_w("num")):
            self.nums[num.get(_w("numId"))] = num
        for abstract in root.iter(_w("abstractNum")):
            self.abstracts[abstract.get(_w("abstractNumId"))] = abstract

    def format(self, num_id: str, ilvl: int, _depth: int = 0) -> str | None:
        num = self.nums.get(num_id)
        if num is None or _depth > 3:
            return None
        for override in num.iter(_w("lvlOverride")):
            if override.get(_w("ilvl")) == str(ilvl):
                fmt = override.find(f"{_w('lvl')}/{_w('numFmt')}")
                if fmt is not None:
                    return fmt.get(W_VAL)
        abstract_ref = num.find(_w("abstractNumId"))
        abstract = self.abstracts.get(abstract_ref.get(W_VAL)) if abstract_ref is not None else None
        if abstract is None:
            return None
        for lvl in abstract.iter(_w("lvl")):
            if lvl.get(_w("ilvl")) == str(ilvl):
                fmt = lvl.find(_w("numFmt"))
                if fmt is not None:
                    return fmt.get(W_VAL)
        # a list defined through a numbering style: follow the style to its num
        link = abstract.find(_w("numStyleLink"))
        if link is not None:
            linked_num, _ = self.styles.num_pr(link.get(W_VAL))
            if linked_num and linked_num != num_id:
                return self.format(linked_num, ilvl, _depth + 1)
        return None
