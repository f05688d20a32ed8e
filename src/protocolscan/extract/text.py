"""Plain text and Markdown files -> blocks.

Markdown is parsed with markdown-it-py (CommonMark plus pipe tables), so setext
headings, emphasis and links are handled by a real parser. Plain text has no markup:
paragraphs are separated by blank lines and headings are only recognised when the
evidence is strong (a numbered section title, or a short standalone line followed by
longer text), because a wrong heading distorts every heading path after it.

The typed-marker helpers at the top are shared with the DOCX and HTML extractors.
"""

from __future__ import annotations

import re
from pathlib import Path

from .markers import strip_list_marker, typed_list_kind
from ..model import Block, Document, ExtractionError

# Bullet glyphs that may be glued to the text; Private Use Area characters are the
def split_typed_list(text: str) -> list[tuple[str, str]] | None:
    """Split a multi-line text whose lines are typed list items into (kind, text).

    A lead-in line before the first marker stays a paragraph; unmarked lines after an
    item are taken as its wrapped continuation. Returns None when fewer than two lines
    carry a marker, i.e. when the text is not a typed list.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if sum(typed_list_kind(line) is not None for line in lines) < 2:
        return None
    items: list[list[str]] = []
    for line in lines:
        kind = typed_list_kind(line)
        if kind:
            items.append([kind, strip_list_marker(line).strip()])
        elif items and items[-1][0] != "p":
            items[-1][1] += "\n" + line.strip()
        else:
            items.append(["p", line.strip()])
    return [(kind, body) for kind, body in items]


def paragraph_blocks(text: str, default_kind: str = "p") -> list[Block]:
    """Blocks for one paragraph of text: a typed list is split, a marker is stripped."""
    text = text.strip()
    if not text:
        return []
    items = split_typed_list(text)
    if items:
        return [Block(text=body, kind=kind) for kind, body in items if body]
    kind = typed_list_kind(text) if default_kind == "p" else None
    if kind:
        body = strip_list_marker(text).strip()
        return [Block(text=body, kind=kind)] if body else []
    return [Block(text=text, kind=default_kind)]


def read_text_file(path: Path) -> str:
    """Decode UTF-8 (with or without BOM), falling back to Windows-1252."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 accepts every byte
        return data.decode("latin-1")


def extract_text(path: Path, fmt: str, options=None) -> Document:
    """Read a .txt or .md file into a Document with blocks."""
    try:
        text = read_text_file(path)
    except OSError as exc:
        raise ExtractionError(path, f"kon het bestand niet openen ({exc.strerror or exc})") from exc
    # a form feed is the page break of text exported from PDF or a printer
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    blocks = markdown_blocks(text) if fmt == "md" else plain_text_blocks(text)
    title = next((b.text for b in blocks if b.kind == "h1"), "") or next(
        (b.text for b in blocks if b.kind in ("h2", "h3")), "")
    return Document(id=path.stem, format=fmt, title=title, blocks=blocks)


# --------------------------------------------------------------------------- Markdown

# YAML front matter of static-site pages ("---\ntitle: ...\n---"): metadata, not text.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:[A-Za-z_][\w-]*:.*\n|[ \t-].*\n|\s*\n)*?---[ \t]*\n")

def markdown_blocks(text: str) -> list[Block]:
    """Blocks of a Markdown text, in reading order."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(_FRONT_MATTER.sub("", text, count=1))
    blocks: list[Block] = []
    containers: list[str] = []  # open block tokens: bullet_list, ordered_list, list_item, ...
    item_has_text: list[bool] = []  # per open list item: was its first paragraph emitted?
    row: list[str] | None = None
    heading: str | None = None
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            containers.append(kind[:-5])
        elif kind in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            containers.pop()
        elif kind == "list_item_open":
            item_has_text.append(False)
        elif kind == "list_item_close":
            item_has_text.pop()
        elif kind == "heading_open":
            heading = "h" + str(min(int(token.tag[1]), 3))
        elif kind == "heading_close":
            heading = None
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            cells = [c for c in row or [] if c]
            if cells:
                blocks.append(Block(text=" | ".join(cells), kind="tr", cells=cells))
            row = None
        elif kind == "inline":
            content = _render_inline(token.children or [])
            if row is not None:
                row.append(content.strip())
            elif heading:
                if content.strip():
                    blocks.append(Block(text=content.strip(), kind=heading))
            else:
                blocks.extend(_markdown_paragraph(content, containers, item_has_text))
        elif kind in ("fence", "code_block"):
            blocks.extend(paragraph_blocks(token.content))
        elif kind == "html_block":
            blocks.extend(paragraph_blocks(_html_text(token.content)))
    return blocks


def _markdown_paragraph(content: str, containers: list[str], item_has_text: list[bool]) -> list[Block]:
    """A paragraph is a list item when it is the first paragraph of one."""
    lists = [c for c in containers if c in ("bullet_list", "ordered_list")]
    if lists and item_has_text and not item_has_text[-1]:
        item_has_text[-1] = True
        kind = "li" if lists[-1] == "bullet_list" else "ol"
        content = content.strip()
        return [Block(text=content, kind=kind)] if content else []
    return paragraph_blocks(content)


def _render_inline(children) -> str:
    """Plain text of inline tokens: emphasis markers and link targets dropped."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append("\n")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_render_inline(child.children or []))
        elif child.type == "html_inline" and child.content.lower().startswith("<br"):
            parts.append("\n")
    return "".join(parts)


def _html_text(fragment: str) -> str:
    """Text of a raw HTML block inside Markdown (comments give nothing)."""
    import lxml.html

    fragment = fragment.strip()
    if not fragment or fragment.startswith("<!--"):
        return ""
    try:
        return lxml.html.fragment_fromstring(fragment, create_parent="div").text_content()
    except Exception:  # malformed HTML in a Markdown file is not worth failing for
        return ""


# ------------------------------------------------------------------------- Plain text

# "3.2 Ziekmelding", "4. Verlof", "2.1.3 Melding bij leerplicht": at most two digits per
# component, so times ("8.30 uur") and years do not count; the title starts with a capital.
_SECTION_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?=[A-ZÀ-Ý])(\S.*)$")
_RULE_RE = re.compile(r"^\s*([=\-*_~#])\1{2,}\s*$")
_FINAL_PUNCTUATION = tuple(".,;:!")
_MAX_HEADING_WORDS = 10
_MAX_HEADING_CHARS = 80
# A line this long is a whole paragraph, not hard-wrapped text.
_UNWRAPPED_LINE = 120


def plain_text_blocks(text: str) -> list[Block]:
    """Blocks of a plain-text file: paragraphs separated by blank lines."""
    groups = _line_groups(text)
    blocks: list[Block] = []
    for index, lines in enumerate(groups):
        following = groups[index + 1] if index + 1 < len(groups) else None
        previous = groups[index - 1] if index else None
        blocks.extend(_group_blocks(lines, previous, following))
    return blocks


def _line_groups(text: str) -> list[list[str]]:
    """Runs of non-blank lines; a setext underline closes its heading as its own group."""
    groups: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            if current:
                groups.append(current)
            current = []
        elif _RULE_RE.match(line) and current and line.strip()[0] in "=-":
            # "Titel\n=====": the line above is a heading of its own
            title = current.pop()
            if current:
                groups.append(current)
            groups.append([title, line.strip()])
            current = []
        elif _RULE_RE.match(line):
            if current:
                groups.append(current)
            current = []
        else:
            current.append(line.rstrip())
    if current:
        groups.append(current)
    return groups


def _group_blocks(lines: list[str], previous: list[str] | None, following: list[str] | None) -> list[Block]:
    first = previous is None
    if len(lines) == 2 and _RULE_RE.match(lines[1]):
        return [Block(text=lines[0].strip(), kind="h1" if lines[1][0] == "=" else "h2")]
    blocks: list[Block] = []
    section = _section_heading(lines, previous, following)
    if section:
        blocks.append(section)
        lines = lines[1:]
    elif len(lines) == 1 and _is_heading_line(lines[0]) and (
            _is_followed_by_text(lines[0], following) or (first and following)):
        kind = "h1" if first else "h2"
        return [Block(text=lines[0].strip(), kind=kind)]
    if not lines:
        return blocks
    rows = [[cell.strip() for cell in line.split("\t") if cell.strip()] for line in lines]
    if all(len(cells) >= 2 for cells in rows):
        # tab-separated columns: a table pasted as text
        blocks.extend(Block(text=" | ".join(cells), kind="tr", cells=cells) for cells in rows)
        return blocks
    if max(len(line) for line in lines) > _UNWRAPPED_LINE:
        blocks.extend(_line_per_paragraph_blocks(lines, first))
    else:
        blocks.extend(paragraph_blocks("\n".join(lines)))
    return blocks


# Breadcrumbs and page banners ("Home › Ouders › Verlof", "Schoolgids | De Linde").
_TRAIL_SEPARATORS = re.compile(r"\s[›»>|·/]\s")


def _line_per_paragraph_blocks(lines: list[str], first: bool) -> list[Block]:
    """Text saved from a word processor: one paragraph per line.

    A short title-like line directly above a long one is that paragraph's heading (the
    document's title when it is the first line); a line of tab-separated columns is a
    table row.
    """
    blocks: list[Block] = []
    for index, line in enumerate(lines):
        following = lines[index + 1:index + 2]
        cells = [cell.strip() for cell in line.split("\t") if cell.strip()]
        if len(cells) >= 2:
            blocks.append(Block(text=" | ".join(cells), kind="tr", cells=cells))
        elif first and index == 0 and _is_heading_line(line) and following:
            blocks.append(Block(text=line.strip(), kind="h1"))
        elif section := _section_heading([line], lines[index - 1:index] or None, following):
            blocks.append(section)
        elif _is_heading_line(line) and following and len(following[0]) > _UNWRAPPED_LINE / 2:
            blocks.append(Block(text=line.strip(), kind="h2"))
        else:
            blocks.extend(paragraph_blocks(line))
    return blocks


def _is_heading_line(line: str) -> bool:
    line = line.strip()
    return (
        bool(line)
        and "\t" not in line  # tab-separated columns are a table row
        and len(_TRAIL_SEPARATORS.findall(line)) < 2
        and len(line) <= _MAX_HEADING_CHARS
        and len(line.split()) <= _MAX_HEADING_WORDS
        and not line.endswith(_FINAL_PUNCTUATION)
        and (line[0].isupper() or line[0].isdigit())
        and typed_list_kind(line) is None
    )


def _section_heading(lines: list[str], previous: list[str] | None,
                     following: list[str] | None) -> Block | None:
    """A numbered section title opening the group: "4 Verlof" -> h2, "3.2 Ziekmelding" -> h3.

    "1. Bel de school" may just as well be the first step of a numbered list, so a
    single-number title must stand alone between a non-list paragraph and body text.
    """
    line = lines[0].strip()
    match = _SECTION_RE.match(line)
    if not match or not _is_heading_line(match.group(2)):
        return None
    depth = len(match.group(1).split("."))
    if depth == 1:
        number = int(match.group(1))
        standalone = len(lines) == 1 and _is_followed_by_text(line, following)
        in_list = (previous and _list_number(previous[-1]) == number - 1) or (
            following and _list_number(following[0]) == number + 1)
        if not standalone or in_list:
            return None
    elif len(lines) == 1 and not _is_followed_by_text(line, following):
        return None
    return Block(text=line, kind="h2" if depth == 1 else "h3")


def _list_number(line: str) -> int | None:
    match = re.match(r"^\s*(\d{1,2})[.)]\s", line)
    return int(match.group(1)) if match else None


def _is_followed_by_text(line: str, following: list[str] | None) -> bool:
    """The next paragraph is body text, longer than the heading candidate."""
    if not following:
        return False
    body = " ".join(part.strip() for part in following)
    if len(following) == 1 and _is_heading_line(following[0]) and len(body) < 2 * len(line.strip()):
        return False
    return len(body) > len(line.strip())
