"""Extraction stage: a file on disk -> ``Document`` with ``blocks``.

The format is decided by the file's content (magic bytes), not by its extension;
the extension only breaks ties between plain-text formats. Every failure is raised
as ``ExtractionError`` naming the file and the reason in Dutch.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..model import Document, ExtractionError

#: Extensions we accept, by format.
SUPPORTED_EXTENSIONS = {
    ".pdf": "pdf", ".docx": "docx", ".doc": "doc", ".odt": "odt", ".rtf": "rtf",
    ".txt": "txt", ".md": "md", ".markdown": "md", ".htm": "html", ".html": "html",
}


@dataclass
class ExtractOptions:
    """Settings of the extraction stage.

    ocr: "auto" (OCR pages without a usable text layer when Tesseract is installed,
    otherwise raise ``NeedsOCRError``), "always", or "never" (skip such pages with a
    warning). max_pages: refuse longer PDFs. max_docx_uncompressed: refuse DOCX/ODT
    files that unpack to more than this many bytes (zip bombs).
    """

    ocr: str = "auto"
    ocr_language: str = "nld"
    ocr_dpi: int = 300
    ocr_workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    pdf_engine: str = "auto"  # auto | pdfium | pdfplumber
    max_pages: int = 5000
    max_docx_uncompressed: int = 200 * 1024 * 1024


def sniff_format(path: Path) -> str:
    """Decide the format from the first bytes; raise ExtractionError if unsupported."""
    ext = path.suffix.lower()
    if not path.exists():
        raise ExtractionError(path, "bestand bestaat niet")
    if path.is_dir():
        raise ExtractionError(path, "dit is een map, geen bestand")
    size = path.stat().st_size
    if size == 0:
        raise ExtractionError(path, "het bestand is leeg (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(2048)
    if head.lstrip()[:5] == b"%PDF-" or head[:1024].find(b"%PDF-") >= 0:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if ext not in SUPPORTED_EXTENSIONS:
        raise ExtractionError(path, f"bestandstype '{ext or '(geen extensie)'}' wordt niet ondersteund",
                              "gebruik PDF, DOCX, DOC, ODT, RTF, TXT, MD of HTML")
    if _looks_binary(head):
        expected = SUPPORTED_EXTENSIONS[ext].upper()
        raise ExtractionError(path, f"de inhoud is geen geldig {expected}-bestand")
    lowered = head.lower()
    if ext in (".htm", ".html") or b"<html" in lowered or b"<!doctype html" in lowered:
        return "html"
    if SUPPORTED_EXTENSIONS[ext] in ("txt", "md"):
        return SUPPORTED_EXTENSIONS[ext]
    raise ExtractionError(path, f"de inhoud is geen geldig {SUPPORTED_EXTENSIONS[ext].upper()}-bestand")


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and zf.read("mimetype").startswith(b"application/vnd.oasis.opendocument.text"):
                return "odt"
    except zipfile.BadZipFile as exc:
        raise ExtractionError(path, "beschadigd zip-bestand (DOCX/ODT)") from exc
    raise ExtractionError(path, "zip-bestand zonder Word- of OpenDocument-tekst")


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is fine
        if exc.start >= len(head) - 4:
            return False
    text_like = sum(32 <= b < 127 or b in (9, 10, 13) or b >= 160 for b in head)
    return text_like / max(len(head), 1) < 0.85


def extract(path: str | Path, options: ExtractOptions | None = None) -> Document:
    """Read one file into a Document with blocks (no passages yet)."""
    path = Path(path)
    options = options or ExtractOptions()
    fmt = sniff_format(path)
    try:
        if fmt == "pdf":
            from .pdf import extract_pdf
            doc = extract_pdf(path, options)
        elif fmt == "docx":
            from .docx import extract_docx
            doc = extract_docx(path, options)
        elif fmt in ("doc", "odt", "rtf"):
            from .office import extract_office
            doc = extract_office(path, fmt, options)
        elif fmt == "html":
            from .html import extract_html
            doc = extract_html(path, options)
        else:
            from .text import extract_text
            doc = extract_text(path, fmt, options)
    except ExtractionError:
        raise
    except MemoryError as exc:
        raise ExtractionError(path, "te groot om te verwerken") from exc
    except Exception as exc:  # an unexpected library failure still names the file
        raise ExtractionError(path, f"kon het bestand niet lezen ({type(exc).__name__}: {exc})") from exc
    doc.format = doc.format or fmt
    doc.source = str(path)
    doc.id = doc.id or path.stem
    if not any(b.text.strip() for b in doc.blocks):
        raise ExtractionError(path, "er staat geen tekst in het bestand")
    return doc
