"""What a batch run reads: a folder of files or a manifest CSV.

Manifest: a CSV with a header row and the columns ``file`` (path relative to the
manifest), ``school_id``, ``school_name``, ``sector`` (po, so, vso, vo, regio) and
``region``; a school with two sectors is written as ``so/vso``. Other columns are
kept as metadata of the document. Several rows may share a school (a protocol plus
annexes, or several protocols). Comma or semicolon separated (Dutch Excel writes
semicolons), UTF-8 with or without BOM.

Folder: every supported file below it. A file directly in the folder is a school of
its own (school id = file name without extension); files in a sub-folder belong to
the school named after that sub-folder.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import ProtocolscanError

SECTORS = ("po", "so", "vso", "vo", "regio")
REQUIRED_COLUMNS = ("file", "school_id", "school_name", "sector", "region")
#: Extensions the extractors read (the dispatcher also sniffs content).
SUPPORTED_SUFFIXES = (".pdf", ".docx", ".doc", ".odt", ".rtf", ".txt", ".md", ".html", ".htm")


class ManifestError(ProtocolscanError):
    """A manifest (or folder) cannot be used; the message names file and row."""


@dataclass
class Entry:
    """One file to process and the school it belongs to."""

    file: Path  # absolute path
    key: str  # the path as stored: relative to manifest or folder, with /
    school_id: str
    school_name: str = ""
    sector: str | None = None
    region: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    row: int | None = None  # line number in the manifest (header = 1)

    def school(self) -> dict[str, Any]:
        return {"id": self.school_id, "name": self.school_name, "sector": self.sector, "region": self.region,
                "metadata": {}}


def load_entries(path: str | Path) -> list[Entry]:
    """Entries of a folder or of a manifest CSV (raises ManifestError)."""
    path = Path(path)
    if path.is_dir():
        return folder_entries(path)
    if path.is_file():
        return manifest_entries(path)
    raise ManifestError(f"{path}: map of manifest niet gevonden")


def folder_entries(folder: Path) -> list[Entry]:
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith((".", "~$")))
    if not files:
        raise ManifestError(f"{folder}: geen protocollen gevonden (PDF, DOCX, DOC, ODT, RTF, TXT, MD of HTML)")
    entries = []
    for f in files:
        rel = f.relative_to(folder)
        school = rel.parts[0] if len(rel.parts) > 1 else f.stem
        entries.append(Entry(file=f.resolve(), key=rel.as_posix(), school_id=school, school_name=school))
    return entries


def manifest_entries(manifest: Path) -> list[Entry]:
    rows = _read_rows(manifest)
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ManifestError(f"{manifest}: kolom(men) ontbreken in de kopregel: {', '.join(missing)} "
                            f"(nodig: {', '.join(REQUIRED_COLUMNS)})")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ManifestError(f"{manifest}: kolom(men) komen dubbel voor in de kopregel: {', '.join(duplicates)}")
    problems: list[str] = []
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    schools: dict[str, tuple[str, str | None, int]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            entry = _entry_of_row(manifest, header, row, line)
        except ManifestError as err:
            problems.append(str(err))
            continue
        if entry.key in seen:
            problems.append(f"rij {line}: bestand '{entry.key}' staat ook al in rij {seen[entry.key]}")
            continue
        known = schools.get(entry.school_id)
        if known and (known[0], known[1]) != (entry.school_name, entry.sector):
            problems.append(f"rij {line}: school '{entry.school_id}' heeft hier een andere naam of sector "
                            f"dan in rij {known[2]}")
            continue
        schools.setdefault(entry.school_id, (entry.school_name, entry.sector, line))
        seen[entry.key] = line
        entries.append(entry)
    if problems:
        shown = problems[:20] + ([f"... en nog {len(problems) - 20} fout(en)"] if len(problems) > 20 else [])
        raise ManifestError(f"{manifest}: {len(problems)} fout(en) in het manifest:\n  " + "\n  ".join(shown))
    if not entries:
        raise ManifestError(f"{manifest}: het manifest bevat geen bestanden")
    return entries


def _read_rows(manifest: Path) -> list[list[str]]:
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError(f"{manifest}: het manifest is geen UTF-8-tekst (sla het op als CSV UTF-8)") from None
    except OSError as err:
        raise ManifestError(f"{manifest}: manifest kan niet gelezen worden ({err.strerror})") from None
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise ManifestError(f"{manifest}: het manifest is leeg")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return [row for row in csv.reader(text.splitlines(), delimiter=delimiter)]
    except csv.Error as err:
        raise ManifestError(f"{manifest}: geen geldige CSV ({err})") from None


def normalize_sector(value: str) -> str | None:
    """'' -> None; 'VO' -> 'vo'; 'so/vso' or 'so,vso' -> 'so,vso'; unknown -> '?'."""
    parts = [p.strip().lower() for p in value.replace("/", ",").split(",") if p.strip()]
    if not parts:
        return None
    if any(p not in SECTORS for p in parts):
        return "?"
    return ",".join(parts)


def _entry_of_row(manifest: Path, header: list[str], row: list[str], line: int) -> Entry:
    if len(row) != len(header):
        raise ManifestError(f"rij {line}: {len(row)} kolommen, de kopregel heeft er {len(header)}")
    values = {h: cell.strip() for h, cell in zip(header, row)}
    for column in ("file", "school_id"):
        if not values[column]:
            raise ManifestError(f"rij {line}: kolom '{column}' is leeg")
    sector = normalize_sector(values["sector"])
    if sector == "?":
        raise ManifestError(f"rij {line}: onbekende sector '{values['sector']}' (kies uit {', '.join(SECTORS)}; "
                            "een school met twee sectoren als so/vso)")
    rel = Path(values["file"])
    if rel.is_absolute():
        raise ManifestError(f"rij {line}: gebruik een pad ten opzichte van het manifest, niet '{values['file']}'")
    file = (manifest.parent / rel).resolve()
    if not file.is_file():
        raise ManifestError(f"rij {line}: bestand '{values['file']}' niet gevonden")
    metadata = {h: v for h, v in values.items() if h not in REQUIRED_COLUMNS}
    return Entry(file=file, key=rel.as_posix(), school_id=values["school_id"], school_name=values["school_name"],
                 sector=sector, region=values["region"], metadata=metadata, row=line)
