"""Corpus tables from the store: B2.3 (topics per code), B2.1 (received vs analysed
per sector), verdicts per requirement, and the coded segments; rendered as Markdown,
CSV or XLSX (openpyxl, one sheet per table).

The codebook and the requirement titles come in as plain data (``info``, ``titles``)
from the composing module, so this stage only needs the store.

Definitions (as in the reference study, appendix B2):
- a school is *analysed* when at least one of its documents was read (status ok);
  n = the number of analysed schools;
- ``frequentie_codering``: number of coded passages (of ok documents) with the code;
  for the two level codes: the number of documents of that level;
- ``aantal_scholen``: analysed schools with at least one such passage (or document);
- ``percentage``: 100 * aantal_scholen / n, rounded half up to a whole percent.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..model import ProtocolscanError

B23_COLUMNS = ["hoofdcategorie", "code", "label", "frequentie_codering", "aantal_scholen", "percentage"]
B21_COLUMNS = ["sector", "documenten_ontvangen", "documenten_geanalyseerd", "scholen_ontvangen",
               "scholen_geanalyseerd"]
VERDICT_ORDER = ("voldaan", "deels", "onjuist", "ontbreekt", "nvt")  # best first
VERDICT_COLUMNS = ["eis", "titel", "scholen", *VERDICT_ORDER, "percentage_voldaan"]
SEGMENT_COLUMNS = ["school_id", "school_naam", "document", "pagina", "passage", "soort", "code", "label",
                   "zekerheid", "herkomst", "codeur", "tekst"]
TABLES = ("b23", "b21", "verdicts")
SHEET_NAMES = {"b23": "B2.3 topics", "b21": "B2.1 ontvangen", "verdicts": "Eisen per school"}
GROUPS = ("sector", "region")
LEVEL_CATEGORY = "Niveau"


class TableError(ProtocolscanError):
    """A table cannot be made (unknown table, format or grouping)."""


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    note: str = ""


def percent(part: int, whole: int) -> int | None:
    if not whole:
        return None
    return int((Decimal(100) * part / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ------------------------------------------------------------------------ building
def build_tables(conn: sqlite3.Connection, info: dict[str, Any], titles: dict[str, str], which: str = "b23",
                 by: str | None = None, coder: str = "protocolscan") -> list[Table]:
    names = TABLES if which == "all" else (which,)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise TableError(f"onbekende tabel '{which}' (kies b23, b21, verdicts of all)")
    if by is not None and by not in GROUPS:
        raise TableError(f"onbekende indeling '{by}' (kies sector of region)")
    out = []
    for name in names:
        if name == "b23":
            out.append(b23_table(conn, info, coder, by))
        elif name == "b21":
            out.append(Table("b21", "Tabel B2.1: ontvangen en geanalyseerde documenten en scholen per sector",
                             B21_COLUMNS, b21_rows(conn)))
        else:
            out.append(Table("verdicts", "Eisen: oordeel per school (beste oordeel over de documenten van de school)",
                             VERDICT_COLUMNS, verdict_rows(conn, titles)))
    return out


def school_groups(conn: sqlite3.Connection, by: str | None) -> dict[str, str]:
    """Analysed school -> its group (sector or region; '' when not grouping).

    A school without a sector in the manifest gets the sector detected in its
    documents (the most frequent one).
    """
    rows = conn.execute(
        "SELECT s.id, s.sector, s.region, d.sector AS doc_sector FROM documents d JOIN schools s ON s.id=d.school_id"
        " WHERE d.status='ok' ORDER BY s.id, d.path").fetchall()
    groups: dict[str, str] = {}
    detected: dict[str, list[str]] = {}
    for r in rows:
        detected.setdefault(r["id"], []).append(r["doc_sector"] or "")
        if by == "region":
            groups[r["id"]] = r["region"] or "onbekend"
        elif by == "sector":
            groups[r["id"]] = r["sector"] or ""
        else:
            groups[r["id"]] = ""
    if by == "sector":
        for school, group in groups.items():
            if not group:
                found = [s for s in detected[school] if s]
                groups[school] = max(sorted(set(found)), key=found.count) if found else "onbekend"
    return groups


def b23_table(conn: sqlite3.Connection, info: dict[str, Any], coder: str, by: str | None) -> Table:
    groups = school_groups(conn, by)
    code_schools = schools_per_code(conn, coder)
    level_schools = _level_schools(conn)
    columns = (["groep"] if by else []) + B23_COLUMNS
    rows = []
    for group in sorted(set(groups.values())):
        members = {s for s, g in groups.items() if g == group}
        n = len(members)
        for category, code, label, counts in b23_lines(info, code_schools, level_schools):
            freq = sum(c for s, c in counts.items() if s in members)
            schools = sum(1 for s, c in counts.items() if s in members and c)
            row = {"hoofdcategorie": category, "code": code, "label": label, "frequentie_codering": freq,
                   "aantal_scholen": schools, "percentage": percent(schools, n)}
            if by:
                row = {"groep": group, **row}
            rows.append(row)
    n_all = len(groups)
    note = f"n = {n_all} geanalyseerde scholen; codeur: {coder}"
    if by:
        note += "; per " + ("sector" if by == "sector" else "regio") + ": " + ", ".join(
            f"{g or 'onbekend'} n = {list(groups.values()).count(g)}" for g in sorted(set(groups.values())))
    return Table("b23", "Tabel B2.3: resultaten tekstanalyse (per code)", columns, rows, note)


def b23_lines(info, code_schools, level_schools):
    categories = {c["id"]: c["label"] for c in info["categories"]}
    for level in info["levels"]:
        yield LEVEL_CATEGORY, level["id"], level["label"], level_schools.get(level["id"], {})
    for category in info["categories"]:
        for code in info["codes"]:
            if code["category"] == category["id"]:
                yield categories[category["id"]], code["id"], code["label"], code_schools.get(code["id"], {})
    for code in info["codes"]:  # codes of a category the codebook does not list
        if code["category"] not in categories:
            yield code["category"], code["id"], code["label"], code_schools.get(code["id"], {})


def schools_per_code(conn, coder: str) -> dict[str, dict[str, int]]:
    """code -> school -> number of coded passages (ok documents only)."""
    out: dict[str, dict[str, int]] = {}
    for r in conn.execute(
            "SELECT c.code, d.school_id, COUNT(*) AS n FROM codings c JOIN passages p ON p.id=c.passage_id"
            " JOIN documents d ON d.id=p.document_id WHERE d.status='ok' AND c.coder=? AND d.school_id IS NOT NULL"
            " GROUP BY c.code, d.school_id", (coder,)):
        out.setdefault(r["code"], {})[r["school_id"]] = r["n"]
    return out


def _level_schools(conn) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in conn.execute("SELECT level, school_id, COUNT(*) AS n FROM documents WHERE status='ok' AND level IS NOT NULL"
                          " AND school_id IS NOT NULL GROUP BY level, school_id"):
        out.setdefault(r["level"], {})[r["school_id"]] = r["n"]
    return out


def b21_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT d.path, d.status, d.school_id, COALESCE(s.sector, d.sector, 'onbekend') AS sector"
        " FROM documents d LEFT JOIN schools s ON s.id=d.school_id").fetchall()
    order = ["po", "so", "vso", "vo", "regio"]
    sectors = sorted({r["sector"] for r in rows}, key=lambda s: (order.index(s) if s in order else len(order), s))
    out = []
    for sector in sectors + ["totaal"]:
        part = [r for r in rows if sector == "totaal" or r["sector"] == sector]
        out.append({"sector": sector, "documenten_ontvangen": len(part),
                    "documenten_geanalyseerd": sum(r["status"] == "ok" for r in part),
                    "scholen_ontvangen": len({r["school_id"] for r in part}),
                    "scholen_geanalyseerd": len({r["school_id"] for r in part if r["status"] == "ok"})})
    return out


def verdict_rows(conn: sqlite3.Connection, titles: dict[str, str]) -> list[dict[str, Any]]:
    """Per requirement the number of schools per verdict; a school with several
    documents gets the best verdict among them (protocol plus annexes)."""
    best: dict[tuple[str, str], str] = {}
    for r in conn.execute("SELECT v.requirement, v.verdict, d.school_id FROM verdicts v JOIN documents d"
                          " ON d.id=v.document_id WHERE d.status='ok'"):
        key = (r["requirement"], r["school_id"])
        rank = VERDICT_ORDER.index(r["verdict"]) if r["verdict"] in VERDICT_ORDER else len(VERDICT_ORDER)
        if key not in best or rank < VERDICT_ORDER.index(best[key]):
            best[key] = r["verdict"] if rank < len(VERDICT_ORDER) else "ontbreekt"
    requirements = list(titles) + sorted({req for req, _ in best} - set(titles))
    out = []
    for req in requirements:
        verdicts = [v for (r, _), v in best.items() if r == req]
        if not verdicts:
            continue
        row: dict[str, Any] = {"eis": req, "titel": titles.get(req, ""), "scholen": len(verdicts)}
        row.update({v: verdicts.count(v) for v in VERDICT_ORDER})
        row["percentage_voldaan"] = percent(row["voldaan"], len(verdicts) - row["nvt"])
        out.append(row)
    return out


def segment_rows(conn: sqlite3.Connection, info: dict[str, Any], coder: str | None = "protocolscan"
                 ) -> Table:
    labels = {c["id"]: c["label"] for c in info["codes"]}
    where, args = ("WHERE c.coder=?", (coder,)) if coder else ("", ())
    rows = []
    for r in conn.execute(
            "SELECT d.school_id, s.name, d.path, p.page, p.n, p.kind, c.code, c.confidence, c.provenance, c.coder,"
            " p.text FROM codings c JOIN passages p ON p.id=c.passage_id JOIN documents d ON d.id=p.document_id"
            f" LEFT JOIN schools s ON s.id=d.school_id {where} ORDER BY d.path, p.n, c.code, c.coder", args):
        rows.append(dict(zip(SEGMENT_COLUMNS, (r[0], r[1], r[2], r[3], r[4], r[5], r[6], labels.get(r[6], ""),
                                               r[7], r[8], r[9], r[10]))))
    return Table("segments", "Gecodeerde passages", SEGMENT_COLUMNS, rows)


# ----------------------------------------------------------------------- rendering
def render(built: list[Table], fmt: str) -> str | bytes:
    if fmt == "md":
        return "\n".join(markdown(t) for t in built)
    if fmt == "csv":
        if len(built) != 1:
            raise TableError("CSV bevat één tabel; kies b23, b21 of verdicts (of gebruik xlsx voor alle tabellen)")
        return to_csv(built[0])
    if fmt == "xlsx":
        return to_xlsx(built)
    raise TableError(f"onbekend formaat '{fmt}' (kies md, csv of xlsx)")


def render_rows(table: Table, fmt: str, sheet: str = "") -> str | bytes:
    if sheet:
        table.title = sheet
    return render([table], fmt)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(row.get(c)) for c in table.columns])
    return buf.getvalue()


def markdown(table: Table) -> str:
    """The study's layout: the hoofdcategorie shown once per group of rows."""
    lines = [f"## {table.title}", ""]
    if table.note:
        lines += [table.note, ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "|".join("---:" if _numeric(table, c) else "---" for c in table.columns) + "|")
    previous = None
    for row in table.rows:
        cells = [_cell(row.get(c)).replace("|", "\\|").replace("\n", " ") for c in table.columns]
        if "hoofdcategorie" in table.columns:
            i = table.columns.index("hoofdcategorie")
            key = (row.get("groep"), row["hoofdcategorie"])
            if key == previous:
                cells[i] = ""
            previous = key
        if "percentage" in table.columns and row.get("percentage") is not None:
            cells[table.columns.index("percentage")] += "%"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _numeric(table: Table, column: str) -> bool:
    values = [row.get(column) for row in table.rows if row.get(column) is not None]
    return bool(values) and all(isinstance(v, (int, float)) for v in values)


def to_xlsx(built: list[Table]) -> bytes:
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:
        raise TableError("XLSX vraagt het pakket openpyxl (pip install openpyxl)") from None
    book = Workbook()
    book.remove(book.active)
    for table in built:
        sheet = book.create_sheet(SHEET_NAMES.get(table.name, table.title)[:31])
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(row.get(c)) for c in table.columns])
        sheet.freeze_panes = "A2"
        if table.note:
            sheet.append([])
            sheet.append([table.note])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value
