"""OCR of page images with the Tesseract command-line program.

We call the ``tesseract`` binary directly (TSV output: words with boxes and
confidence) instead of adding a Python wrapper: the binary is the dependency
either way, and TSV gives the line geometry that the layout pass needs.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from ..model import ExtractionError
from .layout import Line, Row, cluster_tables

#: Words below this Tesseract confidence (0-100) are dropped as noise.
MIN_CONFIDENCE = 30
TIMEOUT_SECONDS = 180
#: Tesseract reads a bullet glyph as one of these; at the start of a line it is a bullet.
OCR_BULLET = re.compile(r"^[e©«°®¢»]\s(?=\S)")


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


def ocr_image(image, dpi: int, language: str, path: Path, page_number: int) -> tuple[list[Line], list[Row]]:
    """OCR one page image (PIL) into lines and ruled-table rows, in PDF points
    (y downwards)."""
    with tempfile.TemporaryDirectory(prefix="protocolscan-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        image.convert("L").save(png)
        try:
            result = subprocess.run(
                ["tesseract", str(png), "stdout", "-l", language, "--psm", "3", "tsv"],
                capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                # Tesseract's own threads fight each other on small machines: one
                # thread is ~2.5x faster here; parallelism belongs to the caller.
                env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except FileNotFoundError as exc:
            raise ExtractionError(path, "OCR nodig maar Tesseract is niet geïnstalleerd", install_hint(language)) from exc
        except subprocess.TimeoutExpired as exc:
            raise ExtractionError(path, f"OCR van pagina {page_number} duurde langer dan {TIMEOUT_SECONDS} s") from exc
    if result.returncode != 0:
        raise ExtractionError(path, f"OCR van pagina {page_number} mislukt: {result.stderr.strip()[:200]}")
    scale = 72.0 / dpi
    words = tsv_words(result.stdout)
    tables = cluster_tables(*image_rulings(image, scale))
    rows = [row for table in tables for row in _table_rows(table, words, scale)]
    outside = [w for w in words if not _in_table(w, tables, scale)]
    return words_to_lines(outside, scale), rows


def tsv_words(tsv: str) -> list[dict]:
    """Word rows of Tesseract's TSV output above the confidence floor."""
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5" or not (row.get("text") or "").strip():
            continue
        try:
            if float(row["conf"]) < MIN_CONFIDENCE:
                continue
        except (TypeError, ValueError):
            continue
        words.append(row)
    return words


def words_to_lines(words: list[dict], scale: float) -> list[Line]:
    """Group words by Tesseract's (block, paragraph, line) into Lines."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in words:
        groups.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(row)
    lines = []
    for key, words in groups.items():
        left = min(int(w["left"]) for w in words)
        right = max(int(w["left"]) + int(w["width"]) for w in words)
        top = min(int(w["top"]) for w in words)
        bottom = max(int(w["top"]) + int(w["height"]) for w in words)
        # The tallest word box spans ascender to descender, about one em; medians
        # would shrink lines full of x-height words and make short lines look larger.
        size = max(int(w["height"]) for w in words) * scale
        text = OCR_BULLET.sub("• ", " ".join(w["text"] for w in words), count=1)
        lines.append(Line(text=text, x0=left * scale, x1=right * scale,
                          top=top * scale, bottom=bottom * scale, size=round(size, 1), ocr=True,
                          para=key[:2]))
    lines.sort(key=lambda ln: (ln.bottom, ln.x0))
    return lines


# ---------------------------------------------------------------- ruled tables in images

def image_rulings(image, scale: float, dark: int = 140):
    """Long straight dark runs in a page image: table rulings, in points.

    Horizontal runs must be at least an eighth of the page wide, vertical ones
    taller than any glyph of body text (about 14 pt), so letters never count.
    """
    import numpy as np

    mask = np.asarray(image.convert("L")) < dark
    height, width = mask.shape
    horizontal = _merge_adjacent((y * scale, x0 * scale, x1 * scale)
                                 for y, x0, x1 in _runs(mask, min_length=width // 8))
    vertical = _merge_adjacent((x * scale, y0 * scale, y1 * scale)
                               for x, y0, y1 in _runs(mask.T, min_length=int(14 / scale)))
    return [(x0, x1, y) for y, x0, x1 in horizontal], list(vertical)


def _runs(mask, min_length: int):
    """(line index, start, end) of dark runs of at least min_length along axis 1."""
    import numpy as np

    candidates = np.flatnonzero(mask.sum(axis=1) >= min_length)
    for index in candidates:
        padded = np.concatenate(([0], mask[index].astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(padded))
        for start, end in zip(edges[::2], edges[1::2]):
            if end - start >= min_length:
                yield int(index), int(start), int(end)


def _merge_adjacent(segments, tolerance: float = 1.5):
    """A ruling a few pixels thick is found once per pixel line; keep one.
    Segments are (position, start, end) along one axis."""
    merged: list[list[float]] = []
    for pos, a, b in sorted(segments, key=lambda s: (round(s[1] / 3), round(s[2] / 3), s[0])):
        if merged:
            ppos, pa, pb = merged[-1]
            if abs(pa - a) < 3 and abs(pb - b) < 3 and 0 <= pos - ppos <= tolerance:
                merged[-1][0] = pos
                continue
        merged.append([pos, a, b])
    return [tuple(m) for m in merged]


def _center(word: dict, scale: float) -> tuple[float, float]:
    return ((int(word["left"]) + int(word["width"]) / 2) * scale,
            (int(word["top"]) + int(word["height"]) / 2) * scale)


def _in_table(word: dict, tables: list[dict], scale: float) -> bool:
    x, y = _center(word, scale)
    return any(t["x0"] - 1 <= x <= t["x1"] + 1 and t["top"] - 1 <= y <= t["bottom"] + 1 for t in tables)


def _table_rows(table: dict, words: list[dict], scale: float):
    for top, bottom, xs in table["rows"]:
        cells = []
        for left, right in zip(xs, xs[1:]):
            inside = [w for w in words if left <= _center(w, scale)[0] <= right and top <= _center(w, scale)[1] <= bottom]
            inside.sort(key=lambda w: (int(w["block_num"]), int(w["par_num"]), int(w["line_num"]), int(w["left"])))
            cells.append(" ".join(w["text"] for w in inside))
        if any(cells):
            yield Row(cells=cells, top=top, bottom=bottom)
