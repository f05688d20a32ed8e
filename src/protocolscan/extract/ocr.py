"""OCR of page images with the Tesseract command-line program.

We call the ``tesseract`` binary directly (TSV output: words with boxes and
confidence) instead of adding a Python wrapper: the binary is the dependency
either way, and TSV gives the line geometry that the layout pass needs.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from ..model import ExtractionError
from .layout import Line

#: Words below this Tesseract confidence (0-100) are dropped as noise.
MIN_CONFIDENCE = 30
TIMEOUT_SECONDS = 180


@lru_cache(maxsize=None)
def available(language: str = "nld") -> bool:
    """Is Tesseract installed with the data for ``language``?"""
    binary = shutil.which("tesseract")
    if not binary:
        return False
    try:
        out = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return language in out.stdout.split()


def install_hint(language: str = "nld") -> str:
    package = {"nld": "tesseract-ocr-nld", "eng": "tesseract-ocr-eng"}.get(language, f"tesseract-ocr-{language}")
    return f"installeer Tesseract met Nederlandse taaldata: apt-get install tesseract-ocr {package}"


def ocr_image(image, dpi: int, language: str, path: Path, page_number: int) -> list[Line]:
    """OCR one page image (PIL) into lines in PDF points (y downwards)."""
    with tempfile.TemporaryDirectory(prefix="protocolscan-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        image.convert("L").save(png)
        try:
            result = subprocess.run(
                ["tesseract", str(png), "stdout", "-l", language, "--psm", "3", "tsv"],
                capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except FileNotFoundError as exc:
            raise ExtractionError(path, "OCR nodig maar Tesseract is niet geïnstalleerd", install_hint(language)) from exc
        except subprocess.TimeoutExpired as exc:
            raise ExtractionError(path, f"OCR van pagina {page_number} duurde langer dan {TIMEOUT_SECONDS} s") from exc
    if result.returncode != 0:
        raise ExtractionError(path, f"OCR van pagina {page_number} mislukt: {result.stderr.strip()[:200]}")
    return tsv_to_lines(result.stdout, 72.0 / dpi)


def tsv_to_lines(tsv: str, scale: float) -> list[Line]:
    """Group Tesseract's word rows by (block, paragraph, line) into Lines."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5" or not (row.get("text") or "").strip():
            continue
        try:
            if float(row["conf"]) < MIN_CONFIDENCE:
                continue
        except (TypeError, ValueError):
            continue
        groups.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(row)
    lines = []
    for words in groups.values():
        left = min(int(w["left"]) for w in words)
        right = max(int(w["left"]) + int(w["width"]) for w in words)
        top = min(int(w["top"]) for w in words)
        bottom = max(int(w["top"]) + int(w["height"]) for w in words)
        heights = sorted(int(w["height"]) for w in words)
        size = heights[len(heights) // 2] * scale / 0.95  # word boxes hug the glyphs
        lines.append(Line(text=" ".join(w["text"] for w in words), x0=left * scale, x1=right * scale,
                          top=top * scale, bottom=bottom * scale, size=round(size, 1), ocr=True))
    lines.sort(key=lambda ln: (ln.bottom, ln.x0))
    return lines
