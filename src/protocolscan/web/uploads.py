"""Uploaded files: check them by content and store them in a private temp folder.

The browser's file name and content type are never trusted: the format is decided
from the first bytes (and, for zip containers, from the parts inside), and the file
is stored under a cleaned name with the extension of the detected format, so the
extraction stage sees a consistent file. Only PDF, DOCX, DOC, ODT and RTF are
accepted here; the extraction stage checks the content once more when it reads it.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: Formats the web page accepts, with the extension a stored file gets.
ACCEPTED_FORMATS = {"pdf": ".pdf", "docx": ".docx", "odt": ".odt", "doc": ".doc", "rtf": ".rtf"}
ACCEPTED_NL = "PDF, Word (DOCX of DOC), OpenDocument (ODT) of RTF"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Word .doc (and other Office files)
ZIP_MAGIC = b"PK\x03\x04"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
MAX_NAME_LENGTH = 80


class UploadError(Exception):
    """A request the user can fix; ``message`` is Dutch, ``status`` the HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class StoredUpload:
    """One uploaded file as stored in the request's temp folder."""

    display_name: str  # the user's own file name, cleaned, for messages and the report
    path: Path
    format: str
    size: int


def detect_format(path: Path) -> str | None:
    """The format of a file from its content, or None when it is not accepted."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    # PDF readers accept a little junk before the header, and so do we.
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        return _zip_format(path)
    if head.startswith(OLE_MAGIC):
        return "doc"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    return None


def _zip_format(path: Path) -> str | None:
    """DOCX or ODT, told apart by the parts of the zip container."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and zf.read("mimetype").startswith(ODT_MIMETYPE):
                return "odt"
    except (zipfile.BadZipFile, OSError, RuntimeError):
        return None
    return None


def clean_name(name: str | None, fallback: str = "document") -> str:
    """A file name that is safe to show and to store: no folders, no control or
    markup characters, limited length."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = re.sub(r"[^\w .,()+&'-]", "_", name, flags=re.UNICODE).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME_LENGTH - len(ext) - 1] + dot + ext) if dot and len(ext) <= 5 else name[:MAX_NAME_LENGTH]
    return name or fallback


def store_upload(source: BinaryIO, name: str | None, folder: Path, index: int) -> StoredUpload:
    """Copy one upload into ``folder/<index>/`` and check its content.

    Raises UploadError (415) when the content is not an accepted format.
    """
    display = clean_name(name, fallback=f"bestand-{index}")
    subdir = folder / str(index)  # one folder per file: equal names cannot collide
    subdir.mkdir()
    raw = subdir / "upload"
    source.seek(0)
    with raw.open("wb") as out:
        shutil.copyfileobj(source, out)
    size = raw.stat().st_size
    if size == 0:
        raise UploadError(f"'{display}' is leeg (0 bytes).", 400)
    fmt = detect_format(raw)
    if fmt is None:
        raise UploadError(
            f"'{display}' is geen PDF-, Word-, OpenDocument- of RTF-bestand: de inhoud is gecontroleerd, "
            "niet alleen de naam. Sla het document opnieuw op als PDF of DOCX en probeer het nog eens.", 415)
    stem = display.rsplit(".", 1)[0] if "." in display else display
    path = subdir / f"{stem or 'document'}{ACCEPTED_FORMATS[fmt]}"
    raw.rename(path)
    return StoredUpload(display_name=display, path=path, format=fmt, size=size)
