"""Agreement between two codings: per code Cohen's kappa, Krippendorff's alpha
(nominal, two coders) and percent agreement, at passage and at document level.

Each code is judged as a binary decision per unit (passage or document): coded or
not. A ``Coding`` knows which passages it coded and, when it can, which passages it
looked at (its *universe*): a store or a .qdpx knows all passages, a CSV of coded
segments only the coded ones. The units compared are the passages both codings
know (the intersection of the known universes) plus every passage either coded.

With the 2x2 table of a unit-code decision (a: both coded, b: only A, c: only B,
d: neither, N = a+b+c+d):

    percent agreement  = (a + d) / N
    Cohen's kappa      = (po - pe) / (1 - pe),  po = (a+d)/N,
                         pe = pA*pB + (1-pA)(1-pB), pA = (a+b)/N, pB = (a+c)/N
    Krippendorff alpha = 1 - (2N - 1) (b + c) / (n1 * n0),
                         n1 = 2a + b + c, n0 = 2d + b + c (values pooled over coders)

kappa and alpha are undefined (None) when there is no variation (pe = 1, n1*n0 = 0).
"""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..model import ProtocolscanError

Unit = tuple[str, int]  # (document, passage number)


class AgreementError(ProtocolscanError):
    """A coding cannot be read or compared."""


@dataclass
class Coding:
    name: str
    codes: dict[Unit, set[str]] = field(default_factory=dict)
    universe: set[Unit] | None = None  # None: only the coded passages are known

    def coded(self, unit: Unit, code: str) -> bool:
        return code in self.codes.get(unit, ())


@dataclass
class CodeAgreement:
    level: str  # passage | document
    code: str
    label: str
    a: int
    b: int
    c: int
    d: int

    @property
    def n(self) -> int:
        return self.a + self.b + self.c + self.d

    @property
    def percent(self) -> float | None:
        return (self.a + self.d) / self.n if self.n else None

    @property
    def kappa(self) -> float | None:
        return cohen_kappa(self.a, self.b, self.c, self.d)

    @property
    def alpha(self) -> float | None:
        return krippendorff_alpha(self.a, self.b, self.c, self.d)

    def to_dict(self) -> dict[str, Any]:
        return {"niveau": self.level, "code": self.code, "label": self.label, "n": self.n,
                "beide": self.a, "alleen_a": self.b, "alleen_b": self.c, "geen": self.d,
                "percentage_overeenstemming": _round(self.percent and 100 * self.percent),
                "cohen_kappa": _round(self.kappa), "krippendorff_alpha": _round(self.alpha)}


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def cohen_kappa(a: int, b: int, c: int, d: int) -> float | None:
    n = a + b + c + d
    if not n:
        return None
    po = (a + d) / n
    pa, pb = (a + b) / n, (a + c) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe >= 1:
        return None
    return (po - pe) / (1 - pe)


def krippendorff_alpha(a: int, b: int, c: int, d: int) -> float | None:
    n_units = a + b + c + d
    n1, n0 = 2 * a + b + c, 2 * d + b + c
    if not n_units or not n1 or not n0:
        return None
    return 1 - (2 * n_units - 1) * (b + c) / (n1 * n0)


@dataclass
class AgreementReport:
    name_a: str
    name_b: str
    rows: list[CodeAgreement]
    n_passages: int
    n_documents: int

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rows]

    def to_csv(self) -> str:
        import io

        rows = self.to_dicts()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["niveau"], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return buf.getvalue()

    def to_text(self) -> str:
        """Dutch table for the terminal."""
        def fmt(x: float | None, pct: bool = False) -> str:
            if x is None:
                return "   –  "
            return f"{100 * x:5.1f}%" if pct else f"{x:6.3f}"

        lines = [f"Overeenstemming tussen A = {self.name_a} en B = {self.name_b}",
                 f"{self.n_passages} passages, {self.n_documents} documenten", ""]
        for level, title in (("passage", "Per passage"), ("document", "Per document")):
            lines += [title, f"{'code':<28} {'n':>6} {'beide':>6} {'alleen A':>8} {'alleen B':>8} "
                             f"{'overeenst.':>10} {'kappa':>7} {'alpha':>7}"]
            for r in (r for r in self.rows if r.level == level):
                lines.append(f"{r.code:<28} {r.n:>6} {r.a:>6} {r.b:>8} {r.c:>8} {fmt(r.percent, True):>10} "
                             f"{fmt(r.kappa):>7} {fmt(r.alpha):>7}")
            lines.append("")
        lines.append("kappa/alpha '–': niet te berekenen (geen variatie in deze code).")
        return "\n".join(lines) + "\n"


def compare(a: Coding, b: Coding, codes: Iterable[str], labels: dict[str, str] | None = None) -> AgreementReport:
    labels = labels or {}
    codes = list(codes)
    extra = sorted({c for cs in list(a.codes.values()) + list(b.codes.values()) for c in cs} - set(codes))
    codes += extra
    units = comparison_units(a, b)
    documents = sorted({doc for doc, _ in units})
    rows = []
    for code in codes:
        rows.append(_table("passage", code, labels.get(code, ""), units, a, b))
    doc_a = _document_coding(a, units)
    doc_b = _document_coding(b, units)
    doc_units = [(doc, 0) for doc in documents]
    for code in codes:
        rows.append(_table("document", code, labels.get(code, ""), doc_units, doc_a, doc_b))
    return AgreementReport(a.name, b.name, rows, len(units), len(documents))


def comparison_units(a: Coding, b: Coding) -> list[Unit]:
    known = [u for u in (a.universe, b.universe) if u is not None]
    base: set[Unit] = set.intersection(*known) if known else set()
    if known and not base:
        raise AgreementError("de twee coderingen gaan over verschillende documenten (geen gemeenschappelijke passages)")
    coded = {u for u, cs in a.codes.items() if cs} | {u for u, cs in b.codes.items() if cs}
    return sorted(base | coded)


def _table(level: str, code: str, label: str, units: list[Unit], a: Coding, b: Coding) -> CodeAgreement:
    counts = [0, 0, 0, 0]
    for unit in units:
        x, y = a.coded(unit, code), b.coded(unit, code)
        counts[0 if x and y else 1 if x else 2 if y else 3] += 1
    return CodeAgreement(level, code, label, *counts)


def _document_coding(coding: Coding, units: list[Unit]) -> Coding:
    keep = set(units)
    codes: dict[Unit, set[str]] = {}
    for (doc, n), cs in coding.codes.items():
        if (doc, n) in keep:
            codes.setdefault((doc, 0), set()).update(cs)
    return Coding(coding.name, codes)


# ------------------------------------------------------------------------- sources
def coding_from_store(conn: sqlite3.Connection, coder: str) -> Coding:
    """The coding of ``coder`` in a store; its universe is every non-heading passage
    of the ok documents."""
    universe = {(r[0], r[1]) for r in conn.execute(
        "SELECT d.path, p.n FROM passages p JOIN documents d ON d.id=p.document_id"
        " WHERE d.status='ok' AND p.kind NOT IN ('h1','h2','h3')")}
    codes: dict[Unit, set[str]] = {}
    for r in conn.execute("SELECT d.path, p.n, c.code FROM codings c JOIN passages p ON p.id=c.passage_id"
                          " JOIN documents d ON d.id=p.document_id WHERE c.coder=?", (coder,)):
        codes.setdefault((r[0], r[1]), set()).add(r[2])
    if not codes:
        known = [r[0] for r in conn.execute("SELECT DISTINCT coder FROM codings")]
        raise AgreementError(f"codeur '{coder}' heeft niets gecodeerd in deze database "
                             f"(aanwezig: {', '.join(known) or 'geen'})")
    return Coding(coder, codes, universe)


def coding_from_csv(path: str | Path) -> Coding:
    """Coded segments (the CSV of ``protocolscan export``): columns document, passage
    and code (other columns are ignored)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise AgreementError(f"{path}: kan niet gelezen worden ({err.strerror})") from None
    lines = text.splitlines()
    delimiter = ";" if lines and lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    missing = [c for c in ("document", "passage", "code") if c not in (reader.fieldnames or [])]
    if missing:
        raise AgreementError(f"{path}: kolom(men) ontbreken: {', '.join(missing)}")
    codes: dict[Unit, set[str]] = {}
    for line, row in enumerate(reader, start=2):
        try:
            n = int(row["passage"])
        except (TypeError, ValueError):
            raise AgreementError(f"{path}: rij {line}: passage '{row['passage']}' is geen getal") from None
        if row["code"]:
            codes.setdefault((row["document"], n), set()).add(row["code"].strip())
    return Coding(path.name, codes)
