"""Tables B2.3, B2.1 and verdicts on a small store whose figures are worked out by
hand below (no extraction or tagging involved)."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from protocolscan.corpus import store, tables
from protocolscan.corpus.tables import TableError

INFO = {
    "version": "test",
    "categories": [{"id": "k", "label": "Categorie K"}, {"id": "l", "label": "Categorie L"}],
    "codes": [{"id": "k.x", "label": "Code X", "category": "k"}, {"id": "k.y", "label": "Code Y", "category": "k"},
              {"id": "l.z", "label": "Code Z", "category": "l"}],
    "levels": [{"id": "niveau.regionaal", "label": "Regionaal"}, {"id": "niveau.school", "label": "School"}],
}
TITLES = {"R1": "Eis een", "R2": "Eis twee"}

SCHOOLS = {
    "A": {"id": "A", "name": "School A", "sector": "po", "region": "Noord"},
    "B": {"id": "B", "name": "School B", "sector": "po", "region": "Zuid"},
    "C": {"id": "C", "name": "School C", "sector": "vo", "region": "Zuid"},
    "D": {"id": "D", "name": "School D", "sector": "so", "region": "Noord"},
}


def doc(path: str, codings: list[tuple[int, str]], level: str | None, verdicts: dict[str, str],
        status: str = "ok") -> dict:
    texts = [f"Passage {n} van {path}." for n in range(3)] if status == "ok" else []
    passages, offset = [], 0
    for n, text in enumerate(texts):
        passages.append({"n": n, "kind": "p", "text": text, "start": offset, "end": offset + len(text),
                         "heading_path": ["Kop"], "page": 1})
        offset += len(text) + 2
    return {"path": path, "status": status, "sha256": "0" * 64, "versions": "{}", "level": level,
            "error": None if status == "ok" else f"{path}: kapot", "text": "\n\n".join(texts),
            "passages": passages,
            "codings": [{"n": n, "code": c, "confidence": 0.9, "provenance": "rule"} for n, c in codings],
            "verdicts": [{"requirement": r, "verdict": v, "evidence": [0]} for r, v in verdicts.items()]}


def build_store(path) -> sqlite3.Connection:
    """School A: a1 (x on p0; x and y on p1), a2 (x on p0); school B: b1 (y on p0,
    regional); school C: c1 (no codes); school D: d1 (unreadable). A human coder
    codes z on a1 p0.

    By hand, n = 3 analysed schools (A, B, C):
      k.x: 3 coded passages, 1 school (A)     -> 33%
      k.y: 2 coded passages, 2 schools (A, B) -> 67% (66.7 rounded half up)
      l.z: 0 machine codings                 -> 0%
      niveau.school: 3 documents (a1, a2, c1), 2 schools (A, C) -> 67%
      niveau.regionaal: 1 document (b1), 1 school (B)           -> 33%
    """
    conn = store.connect(path)
    run = store.start_run(conn, {"protocolscan": "t"})
    store.write_document(conn, doc("a1.pdf", [(0, "k.x"), (1, "k.x"), (1, "k.y")], "niveau.school",
                                   {"R1": "ontbreekt", "R2": "voldaan"}), SCHOOLS["A"], run)
    store.write_document(conn, doc("a2.pdf", [(0, "k.x")], "niveau.school", {"R1": "voldaan", "R2": "onjuist"}),
                         SCHOOLS["A"], run)
    store.write_document(conn, doc("b1.pdf", [(0, "k.y")], "niveau.regionaal", {"R1": "deels", "R2": "ontbreekt"}),
                         SCHOOLS["B"], run)
    store.write_document(conn, doc("c1.pdf", [], "niveau.school", {"R1": "nvt", "R2": "ontbreekt"}),
                         SCHOOLS["C"], run)
    store.write_document(conn, doc("d1.pdf", [], None, {}, status="error"), SCHOOLS["D"], run)
    passage = conn.execute("SELECT p.id FROM passages p JOIN documents d ON d.id=p.document_id"
                           " WHERE d.path='a1.pdf' AND p.n=0").fetchone()[0]
    conn.execute("INSERT INTO codings(passage_id, code, coder, provenance) VALUES (?, 'l.z', 'Anna', 'import')",
                 (passage,))
    return conn


@pytest.fixture()
def conn(tmp_path):
    connection = build_store(tmp_path / "t.sqlite")
    yield connection
    connection.close()


def b23(conn, **kwargs):
    return tables.build_tables(conn, INFO, TITLES, "b23", **kwargs)[0]


def test_b23_arithmetic(conn):
    table = b23(conn)
    got = [(r["hoofdcategorie"], r["code"], r["frequentie_codering"], r["aantal_scholen"], r["percentage"])
           for r in table.rows]
    assert got == [
        ("Niveau", "niveau.regionaal", 1, 1, 33),
        ("Niveau", "niveau.school", 3, 2, 67),
        ("Categorie K", "k.x", 3, 1, 33),
        ("Categorie K", "k.y", 2, 2, 67),
        ("Categorie L", "l.z", 0, 0, 0),
    ]
    assert table.note.startswith("n = 3 geanalyseerde scholen")


def test_b23_for_a_human_coder_and_by_sector(conn):
    anna = {r["code"]: (r["frequentie_codering"], r["aantal_scholen"]) for r in b23(conn, coder="Anna").rows}
    assert anna["l.z"] == (1, 1) and anna["k.x"] == (0, 0)
    by_sector = {(r["groep"], r["code"]): (r["frequentie_codering"], r["aantal_scholen"], r["percentage"])
                 for r in b23(conn, by="sector").rows}
    # po: A and B (n = 2); vo: C (n = 1); D (so) has no analysed document.
    assert by_sector[("po", "k.x")] == (3, 1, 50)
    assert by_sector[("po", "k.y")] == (2, 2, 100)
    assert by_sector[("vo", "niveau.school")] == (1, 1, 100)
    assert {g for g, _ in by_sector} == {"po", "vo"}
    by_region = {(r["groep"], r["code"]): r["aantal_scholen"] for r in b23(conn, by="region").rows}
    assert by_region[("Zuid", "k.y")] == 1 and by_region[("Noord", "k.x")] == 1


def test_b23_csv_columns_exactly(conn):
    text = tables.render([b23(conn)], "csv")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["hoofdcategorie", "code", "label", "frequentie_codering", "aantal_scholen", "percentage"]
    assert lines[3] == ["Categorie K", "k.x", "Code X", "3", "1", "33"]


def test_b23_markdown_shows_category_once(conn):
    text = tables.render([b23(conn)], "md")
    assert "| Categorie K | k.x | Code X | 3 | 1 | 33% |" in text
    assert "|  | k.y | Code Y | 2 | 2 | 67% |" in text


def test_b21_received_vs_analysed(conn):
    table = tables.build_tables(conn, INFO, TITLES, "b21")[0]
    assert [tuple(r.values()) for r in table.rows] == [
        ("po", 3, 3, 2, 2), ("so", 1, 0, 1, 0), ("vo", 1, 1, 1, 1), ("totaal", 5, 4, 4, 3)]


def test_verdicts_best_per_school(conn):
    table = tables.build_tables(conn, INFO, TITLES, "verdicts")[0]
    by_req = {r["eis"]: r for r in table.rows}
    # R1: A voldaan (best of ontbreekt/voldaan), B deels, C nvt -> 1 of 2 applicable.
    assert [by_req["R1"][k] for k in ("scholen", "voldaan", "deels", "ontbreekt", "nvt", "percentage_voldaan")] \
        == [3, 1, 1, 0, 1, 50]
    # R2: A voldaan (voldaan beats onjuist), B and C ontbreekt.
    assert [by_req["R2"][k] for k in ("voldaan", "onjuist", "ontbreekt", "percentage_voldaan")] == [1, 0, 2, 33]
    assert by_req["R2"]["titel"] == "Eis twee"


def test_xlsx_has_one_sheet_per_table(conn):
    from openpyxl import load_workbook

    data = tables.render(tables.build_tables(conn, INFO, TITLES, "all"), "xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["B2.3 topics", "B2.1 ontvangen", "Eisen per school"]
    sheet = book["B2.3 topics"]
    assert [c.value for c in sheet[1]] == tables.B23_COLUMNS
    assert [c.value for c in sheet[4]] == ["Categorie K", "k.x", "Code X", 3, 1, 33]


def test_percent_rounds_half_up():
    assert tables.percent(1, 8) == 13 and tables.percent(1, 200) == 1 and tables.percent(2, 3) == 67
    assert tables.percent(1, 0) is None


def test_bad_table_requests(conn):
    with pytest.raises(TableError, match="onbekende tabel 'b99'"):
        tables.build_tables(conn, INFO, TITLES, "b99")
    with pytest.raises(TableError, match="onbekende indeling"):
        tables.build_tables(conn, INFO, TITLES, "b23", by="gemeente")
    with pytest.raises(TableError, match="CSV bevat één tabel"):
        tables.render(tables.build_tables(conn, INFO, TITLES, "all"), "csv")


def test_recoding_keeps_human_codings_of_unchanged_passages(conn):
    """A new machine coding of an unchanged document replaces only the machine codes."""
    store.write_document(conn, doc("a1.pdf", [(2, "k.y")], "niveau.school", {"R1": "voldaan"}), SCHOOLS["A"], None)
    coded = conn.execute("SELECT p.n, c.code, c.coder FROM codings c JOIN passages p ON p.id=c.passage_id"
                         " JOIN documents d ON d.id=p.document_id WHERE d.path='a1.pdf' ORDER BY c.coder").fetchall()
    assert [tuple(r) for r in coded] == [(0, "l.z", "Anna"), (2, "k.y", "protocolscan")]
    assert conn.execute("SELECT COUNT(*) FROM verdicts v JOIN documents d ON d.id=v.document_id"
                        " WHERE d.path='a1.pdf'").fetchone()[0] == 1
