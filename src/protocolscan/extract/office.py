"""DOC, ODT and RTF -> DOCX with LibreOffice, then the DOCX extractor.

LibreOffice reads these formats far better than any Python library, and converting
to DOCX keeps headings, lists and tables. Every conversion gets its own temporary
profile directory: two LibreOffice processes sharing a profile block each other,
and batch runs convert in parallel.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..model import Document, ExtractionError
from .docx import check_zip_safety, extract_docx

CONVERSION_TIMEOUT = 120  # seconds
_LABELS = {"doc": "DOC", "odt": "ODT", "rtf": "RTF"}


def find_soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def extract_office(path: Path, fmt: str, options) -> Document:
    """Convert a .doc/.odt/.rtf file to DOCX and read that; format stays ``fmt``."""
    soffice = find_soffice()
    if soffice is None:
        raise ExtractionError(path, "DOC/ODT/RTF kan alleen gelezen worden als LibreOffice is geïnstalleerd",
                              "installeer het Debian-pakket libreoffice-writer-nogui")
    if fmt == "odt":  # ODT is a zip archive too: refuse bombs before LibreOffice unpacks it
        check_zip_safety(path, options.max_docx_uncompressed, "ODT")
    with tempfile.TemporaryDirectory(prefix="protocolscan-office-") as tmp:
        converted = convert_to_docx(soffice, path, fmt, Path(tmp))
        try:
            document = extract_docx(converted, options)
        except ExtractionError as exc:
            raise ExtractionError(path, exc.reason, exc.hint) from exc
    document.id = path.stem
    document.format = fmt
    return document


def convert_to_docx(soffice: str, path: Path, fmt: str, workdir: Path) -> Path:
    """Run LibreOffice headless on a copy of ``path``; return the DOCX it wrote."""
    label = _LABELS.get(fmt, fmt.upper())
    # A copy with a plain name and the right extension: LibreOffice picks its import
    # filter by extension, and odd names (leading dashes, quotes) cannot confuse it.
    source = workdir / f"invoer.{fmt}"
    shutil.copyfile(path, source)
    outdir = workdir / "uit"
    profile = workdir / "profiel"
    command = [
        soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
        "--nologo", "--norestore", "--nolockcheck", "--nodefault",
        "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(outdir), str(source),
    ]
    env = dict(os.environ, HOME=str(workdir))
    try:
        result = _run_with_timeout(command, env, CONVERSION_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(path, f"LibreOffice kon het {label}-bestand niet binnen "
                                    f"{CONVERSION_TIMEOUT} seconden omzetten",
                              "is het bestand beschadigd of met een wachtwoord beveiligd?") from exc
    except OSError as exc:
        raise ExtractionError(path, f"LibreOffice kon niet gestart worden ({exc})",
                              "controleer de installatie van libreoffice-writer-nogui") from exc
    converted = outdir / "invoer.docx"
    if result.returncode != 0 or not converted.exists() or converted.stat().st_size == 0:
        detail = (result.stderr or result.stdout or b"").decode("utf-8", "replace").strip()
        hint = "is het bestand beschadigd of met een wachtwoord beveiligd?"
        if detail:
            hint += f" Melding van LibreOffice: {detail[-300:]}"
        raise ExtractionError(path, f"LibreOffice kon het {label}-bestand niet omzetten", hint)
    return converted


def _run_with_timeout(command: list[str], env: dict, timeout: int) -> subprocess.CompletedProcess:
    """Run in a new process group so a hung conversion is stopped with all its children."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise
    except BaseException:
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
