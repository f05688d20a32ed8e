"""A school's web page saved to disk -> blocks.

Only the page's own content counts: navigation, cookie banners, headers, footers,
sidebars and share buttons are dropped before the walk, and ``<main>``/``<article>``
is preferred when the page has one. The walk turns the block structure into blocks:
headings, paragraphs (also a ``div`` with direct text), list items and table rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
from lxml import etree

from ..model import Block, Document, ExtractionError
from .text import paragraph_blocks

#: Elements that never hold the page's own text.
_DROP_TAGS = {
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "svg",
    "button", "select", "textarea", "input", "label", "object", "embed", "canvas",
    "audio", "video", "map", "dialog",
}
#: Dropped unless they are inside <main>/<article>, where they hold the article title.
_PAGE_CHROME_TAGS = {"header", "footer"}
#: class/id words of page furniture ("cookie-banner", "main-menu", "site-footer").
_CHROME_WORD = re.compile(
    r"(?:^|[\s_-])(cookie|consent|gdpr|menu|menubar|nav|navbar|navigation|breadcrumbs?|"
    r"footer|sidebar|share|sharing|social|skip-link|sr-only|screen-reader-text|visually-hidden)"
    r"(?=$|[\s_-])",
    re.IGNORECASE,
)
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog"}
_NEVER_DROP = {"html", "body", "main", "article"}
#: An element holding this share of the page's text is a wrapper, not furniture.
_WRAPPER_SHARE = 0.6

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
_HEADING_KIND = {"h1": "h1", "h2": "h2", "h3": "h3", "h4": "h3", "h5": "h3", "h6": "h3"}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACES = re.compile(r"[ \t\r\f\v\n]+")
_PARAGRAPH_BREAK = "\x00"  # marks <br><br> inside an inline run until it is split


def extract_html(path: Path, options=None) -> Document:
    """Read a saved web page into a Document with blocks."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(path, f"kon het bestand niet openen ({exc.strerror or exc})") from exc
    root = parse_html(data, path)
    title = _page_title(root)
    remove_page_chrome(root)
    blocks: list[Block] = []
    for container in content_roots(root):
        blocks.extend(_HtmlWalker().walk(container))
    if not title:
        title = next((b.text for b in blocks if b.kind == "h1"), "")
    return Document(id=path.stem, format="html", title=title, blocks=blocks)


def decode_html(data: bytes) -> str:
    """Decode by BOM, then the meta charset, then UTF-8, then Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    match = _META_CHARSET.search(data[:8192])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; fall through to detection
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_html(data: bytes, path: Path):
    text = _XML_DECLARATION.sub("", decode_html(data), count=1)
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(path, "de HTML-pagina kon niet gelezen worden", str(exc)) from exc


def _page_title(root) -> str:
    node = root.find("head/title")
    if node is None:
        node = root.find(".//title")
    if node is not None:
        return _SPACES.sub(" ", node.text_content()).strip()
    return ""


def remove_page_chrome(root) -> None:
    """Drop navigation, banners, footers and the like, keeping wrappers of the content."""
    for head in root.findall("head"):
        head.drop_tree()
    total = max(len(_SPACES.sub("", root.text_content())), 1)
    for element in list(root.iter(etree.Element)):
        if _is_detached(element, root) or not _is_chrome(element):
            continue
        if element.tag in _NEVER_DROP or _holds_content(element, total):
            continue
        element.drop_tree()


def _is_detached(element, root) -> bool:
    return element is not root and element.getroottree().getroot() is not root


def _is_chrome(element) -> bool:
    tag = element.tag
    if tag in _DROP_TAGS:
        return True
    if tag in _PAGE_CHROME_TAGS and not _inside(element, ("main", "article")):
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    if "display:none" in (element.get("style") or "").replace(" ", "").lower():
        return True
    if (element.get("role") or "").lower() in _CHROME_ROLES:
        return True
    words = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(_CHROME_WORD.search(words))


def _inside(element, tags: tuple[str, ...]) -> bool:
    return any(ancestor.tag in tags for ancestor in element.iterancestors())


def _holds_content(element, total_chars: int) -> bool:
    """A wrapper of the main content (body classes like "has-sidebar" are common)."""
    if element.find(".//main") is not None or element.find(".//article") is not None:
        return True
    chars = len(_SPACES.sub("", element.text_content()))
    return chars / total_chars >= _WRAPPER_SHARE


def content_roots(root) -> list:
    """<main> if present, else the outermost <article>s, else <body>."""
    main = root.find(".//main")
    if main is None:
        main = next(iter(root.xpath(".//*[@role='main']")), None)
    if main is not None:
        return [main]
    articles = [a for a in root.iter("article") if not _inside(a, ("article",))]
    if articles:
        return articles
    body = root.find(".//body")
    return [body if body is not None else root]


class _HtmlWalker:
    """Walks the block structure, gathering inline text between block elements."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buffer: list[str] = []

    def walk(self, element) -> list[Block]:
        self._flow(element)
        self._flush()
        return self.blocks

    # -- block level

    def _flow(self, element) -> None:
        """Children of a container: inline runs become paragraphs, blocks are handled."""
        self._inline_text(element.text)
        for child in element:
            if isinstance(child.tag, str):
                self._child(child)
            self._inline_text(child.tail)

    def _child(self, child) -> None:
        tag = child.tag
        if tag in _HEADING_KIND:
            self._flush()
            self._emit(_inline(child).strip(), _HEADING_KIND[tag])
        elif tag in ("ul", "ol"):
            self._flush()
            self._list(child, "li" if tag == "ul" else "ol")
        elif tag == "table":
            self._flush()
            self._table(child)
        elif tag == "br":
            self.buffer.append("\n")
        elif tag == "hr":
            self._flush()
        elif tag == "pre":
            self._flush()
            self.blocks.extend(paragraph_blocks(child.text_content()))
        elif tag in _BLOCK_TAGS or _has_block_descendant(child):
            self._flush()
            self._flow(child)
            self._flush()
        elif tag != "img":
            self.buffer.append(_inline(child))

    def _inline_text(self, text: str | None) -> None:
        if text:
            self.buffer.append(_SPACES.sub(" ", text))

    def _flush(self) -> None:
        """The gathered inline run as paragraphs (split at <br><br>)."""
        run = "".join(self.buffer)
        self.buffer = []
        run = re.sub(r"[ ]*\n[ ]*\n[\s]*", _PARAGRAPH_BREAK, run)
        for paragraph in run.split(_PARAGRAPH_BREAK):
            paragraph = re.sub(r"[ ]*\n[ ]*", "\n", paragraph).strip()
            self.blocks.extend(paragraph_blocks(paragraph))

    def _emit(self, text: str, kind: str) -> None:
        if text:
            self.blocks.append(Block(text=text, kind=kind))

    def _list(self, element, kind: str) -> None:
        for item in element:
            if not isinstance(item.tag, str):
                continue
            if item.tag != "li":
                self._child(item)  # invalid HTML: content directly in <ul>
                continue
            own, nested = _split_list_item(item)
            self._emit(own, kind)
            for sub in nested:
                self._child(sub)

    def _table(self, table) -> None:
        if _is_layout_table(table):
            for cell in table.iter("td", "th"):
                if _owning_table(cell) is table:
                    self._flow(cell)
                    self._flush()
            return
        for row in table.iter("tr"):
            if _owning_table(row) is not table:
                continue
            cells = [_cell_text(cell) for cell in row if cell.tag in ("td", "th")]
            cells = [cell for cell in cells if cell]
            if cells:
                self.blocks.append(Block(text=" | ".join(cells), kind="tr", cells=cells))


def _inline(element) -> str:
    """Text of an inline element: whitespace collapsed, <br> kept as a line break."""
    parts: list[str] = []
    if element.text:
        parts.append(_SPACES.sub(" ", element.text))
    for child in element:
        if isinstance(child.tag, str):
            if child.tag == "br":
                parts.append("\n")
            elif child.tag not in ("img",):
                parts.append(_inline(child))
        if child.tail:
            parts.append(_SPACES.sub(" ", child.tail))
    return "".join(parts)


def _has_block_descendant(element) -> bool:
    return any(isinstance(d.tag, str) and d.tag in _BLOCK_TAGS for d in element.iterdescendants())


def _split_list_item(item) -> tuple[str, list]:
    """An <li>'s own text, and the nested lists/tables to walk after it."""
    parts: list[str] = [_SPACES.sub(" ", item.text or "")]
    nested = []
    for child in item:
        if isinstance(child.tag, str) and child.tag in ("ul", "ol", "table"):
            nested.append(child)
        elif isinstance(child.tag, str):
            parts.append(" " if child.tag in _BLOCK_TAGS else "")
            parts.append(_inline(child) if child.tag != "br" else "\n")
        parts.append(_SPACES.sub(" ", child.tail or ""))
    text = re.sub(r"[ ]*\n[ ]*", "\n", "".join(parts)).strip()
    return text, nested


def _is_layout_table(table) -> bool:
    """Tables that lay out the page: one column, or headings/lists in their cells.

    Paragraphs alone do not count: tables pasted from Word wrap every cell in <p>.
    """
    if (table.get("role") or "").lower() in ("presentation", "none"):
        return True
    rows = [row for row in table.iter("tr") if _owning_table(row) is table]
    if rows and all(len([c for c in row if c.tag in ("td", "th")]) <= 1 for row in rows):
        return True
    for cell in table.iter("td", "th"):
        if _owning_table(cell) is not table:
            continue
        if any(isinstance(d.tag, str) and d.tag in ("h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol")
               for d in cell.iterdescendants()):
            return True
    return False


def _owning_table(element):
    return next(element.iterancestors("table"), None)


def _cell_text(cell) -> str:
    """Cell text on one line; nested tables and paragraphs are flattened into it."""
    return _SPACES.sub(" ", _flat_text(cell)).strip()


def _flat_text(element) -> str:
    parts: list[str] = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in ("img",):
            inner = _flat_text(child)
            parts.append(f" {inner} " if child.tag in _BLOCK_TAGS or child.tag == "br" else inner)
        parts.append(child.tail or "")
    return "".join(parts)
