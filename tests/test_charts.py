"""Charts (heatmap, % of schools per sector) and the HTML corpus report, on small
stores whose figures are worked out by hand (no extraction or tagging involved)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import lxml.html
import pytest

from protocolscan import batch
from protocolscan.corpus import charts, store, tables
from test_corpus_tables import INFO, TITLES, build_store, doc

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL = "De <script>alert(1)</script> school"

# Real codebook codes (the batch functions use the shipped codebook).
REAL_SCHOOLS = {
    "P1": {"id": "P1", "name": "Basisschool De Linde", "sector": "po", "region": "Noord"},
    "P2": {"id": "P2", "name": EVIL, "sector": "po", "region": "Noord"},
    "V1": {"id": "V1", "name": "Lyceum Zuid", "sector": "vo", "region": "Zuid"},
    "X": {"id": "X", "name": "Kapotte school", "sector": "so", "region": "Zuid"},
}


def build_real_store(path):
    """P1: type.luxe on p0 and p1, rol.ouders on p1; P2 (po): rol.ouders on p0;
    V1 (vo): procedure.luxe on p2; X: unreadable file.

    By hand, n = 3 analysed schools:
      type.luxe:      2 passages, 1 school  -> 33% (po: 50%, vo: 0%)
      rol.ouders:     2 passages, 2 schools -> 67% (po: 100%, vo: 0%)
      procedure.luxe: 1 passage,  1 school  -> 33% (po: 0%, vo: 100%)
    """
    conn = store.connect(path)
    run = store.start_run(conn, {"protocolscan": "t", "codebook": "c", "model": "m", "catalogue": "k"}, "test")
    store.write_document(conn, doc("p1.pdf", [(0, "type.luxe"), (1, "type.luxe"), (1, "rol.ouders")],
                                   "niveau.school", {"W01": "voldaan", "W04": "deels"}), REAL_SCHOOLS["P1"], run)
    store.write_document(conn, doc("p2.pdf", [(0, "rol.ouders")], "niveau.school", {"W01": "ontbreekt"}),
                         REAL_SCHOOLS["P2"], run)
    store.write_document(conn, doc("v1.pdf", [(2, "procedure.luxe")], "niveau.regionaal", {"W01": "deels"}),
                         REAL_SCHOOLS["V1"], run)
    store.write_document(conn, doc("x1.pdf", [], None, {}, status="error"), REAL_SCHOOLS["X"], run)
    store.finish_run(conn, run, {"files": 4, "ok": 3, "error": 1})
    conn.close()
    return path


@pytest.fixture()
def conn(tmp_path):
    connection = build_store(tmp_path / "t.sqlite")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    return build_real_store(tmp_path_factory.mktemp("charts") / "real.sqlite")


@pytest.fixture(scope="module")
def chart_dir(real_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("chart-out")
    return out, batch.make_charts(real_db, out)


@pytest.fixture(scope="module")
def report(real_db, tmp_path_factory):
    path = batch.corpus_report(real_db, tmp_path_factory.mktemp("report") / "rapport.html")
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------- data
def test_heatmap_rows_are_the_analysed_schools_with_b23_counts(conn):
    data = charts.heatmap_data(conn, INFO)
    # D has no readable document; rows ordered by sector (po, so, vo, ...) then name.
    assert [s[:3] for s in data.schools] == [("A", "School A", "po"), ("B", "School B", "po"),
                                             ("C", "School C", "vo")]
    assert [c[0] for c in data.codes] == ["k.x", "k.y", "l.z"]  # level codes are not passage codes
    assert data.counts == [[3, 1, 0], [0, 1, 0], [0, 0, 0]]
    # Column sums are the frequencies of table B2.3, column presence its school counts.
    b23 = {r["code"]: r for r in tables.build_tables(conn, INFO, TITLES, "b23")[0].rows}
    for j, (code, _, _) in enumerate(data.codes):
        assert sum(row[j] for row in data.counts) == b23[code]["frequentie_codering"]
        assert sum(1 for row in data.counts if row[j]) == b23[code]["aantal_scholen"]


def test_heatmap_for_a_human_coder(conn):
    data = charts.heatmap_data(conn, INFO, coder="Anna")
    assert data.counts == [[0, 0, 1], [0, 0, 0], [0, 0, 0]]


def test_sector_percentages_are_those_of_b23_by_sector(conn):
    data = charts.sector_data(conn, INFO)
    assert data.groups == [("po", 2), ("vo", 1)]
    assert [c[0] for c in data.codes] == ["k.x", "k.y", "l.z"]
    assert data.percents == {"po": [50, 100, 0], "vo": [0, 0, 0]}


def test_heatmap_figure_has_one_row_per_school(conn):
    data = charts.heatmap_data(conn, INFO)
    fig = charts.heatmap_figure(data)
    ax = fig.axes[0]
    assert ax.get_images()[0].get_array().shape == (3, 3)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["School A (po)", "School B (po)", "School C (vo)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Code X", "Code Y", "Code Z"]
    charts.figure_bytes(fig, "png")  # closes it


def test_category_labels_do_not_overlap():
    spans = [("Een lange categorienaam", 0, 7), ("Smalle categorie", 8, 8), ("Nog een smalle", 9, 9),
             ("Brede categorie", 10, 18)]
    placed = charts._label_levels(spans, column_inches=0.3)
    levels = {name: level for (name, _, _), level in placed}
    # The long first label fills row 0 past column 8: the narrow one beside it goes up.
    assert levels["Een lange categorienaam"] == 0 and levels["Smalle categorie"] == 1
    by_level: dict[int, list[tuple[float, float]]] = {}
    for (name, first, last), level in placed:
        half = len(name) * 0.068 / 0.3 / 2
        by_level.setdefault(level, []).append(((first + last) / 2 - half, (first + last) / 2 + half))
    for intervals in by_level.values():
        assert all(a[1] < b[0] for a, b in zip(intervals, intervals[1:]))


# ----------------------------------------------------------------------- files
def test_make_charts_writes_valid_png_and_svg(chart_dir):
    out, written = chart_dir
    assert sorted(p.name for p in written) == ["heatmap.png", "heatmap.svg", "sectoren.png", "sectoren.svg"]
    for name in ("heatmap", "sectoren"):
        assert (out / f"{name}.png").read_bytes()[:8] == PNG_SIGNATURE
        root = ET.parse(out / f"{name}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
        assert "Luxe verzuim" in texts and "Procedure luxe verzuim" in texts and "Ouders" in texts
    heatmap_text = (out / "heatmap.svg").read_text(encoding="utf-8")
    assert "Basisschool De Linde (po)" in heatmap_text and "Lyceum Zuid (vo)" in heatmap_text
    assert "Kapotte school" not in heatmap_text  # no readable document: not analysed
    assert "&lt;script&gt;" in heatmap_text and "<script" not in heatmap_text
    sectors_text = (out / "sectoren.svg").read_text(encoding="utf-8")
    assert "po" in sectors_text and "(n = 2)" in sectors_text and "(n = 1)" in sectors_text


def test_make_charts_one_format_and_bad_format(real_db, tmp_path):
    assert [p.name for p in batch.make_charts(real_db, tmp_path, formats=["svg"])] == ["heatmap.svg",
                                                                                       "sectoren.svg"]
    with pytest.raises(charts.ChartError, match="onbekend grafiekformaat 'gif'"):
        batch.make_charts(real_db, tmp_path / "x", formats=["png", "gif"])
    assert not (tmp_path / "x").exists()


def test_charts_of_a_store_without_analysed_schools(tmp_path):
    db = tmp_path / "leeg.sqlite"
    conn = store.connect(db)
    store.write_document(conn, doc("x1.pdf", [], None, {}, status="error"), REAL_SCHOOLS["X"], None)
    conn.close()
    with pytest.raises(charts.ChartError, match="geen geanalyseerde scholen"):
        batch.make_charts(db, tmp_path / "out")
    html = batch.corpus_report(db, tmp_path / "leeg.html").read_text(encoding="utf-8")
    assert "Geen grafieken: geen geanalyseerde scholen" in html and "<svg" not in html


def test_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(store.StoreError, match="database niet gevonden"):
        batch.make_charts(tmp_path / "nergens.sqlite", tmp_path)


# ---------------------------------------------------------------------- report
def _row(page, label: str) -> list[str]:
    """The cells of the table row whose first cell starts with ``label``."""
    for tr in page.iter("tr"):
        cells = [" ".join(td.text_content().split()) for td in tr.findall("td")]
        if cells and (cells[0] == label or cells[0].startswith(label + " ")):
            return cells
    raise AssertionError(f"no row {label!r}")


def test_report_has_b23_beside_the_study_and_b21(report):
    page = lxml.html.fromstring(report)
    # ours: 2 passages, 1 school, 33%; the study printed 6 schools, 13%.
    assert _row(page, "Luxe verzuim")[1:] == ["2", "1", "33%", "6", "13%", "+20"]
    assert _row(page, "Ouders")[1:4] == ["2", "2", "67%"]
    assert _row(page, "Procedure luxe verzuim")[1:6] == ["1", "1", "33%", "6", "13%*"]  # flagged as printed
    # B2.1: po 2 documents 2 analysed 2 schools; so: the unreadable one.
    assert _row(page, "so") == ["so", "1", "0", "1", "0"]
    assert "n = 3 geanalyseerde scholen" in report


def test_report_has_verdicts_and_run_info(report):
    page = lxml.html.fromstring(report)
    w01 = _row(page, "W01")
    # best verdict per school: P1 voldaan, P2 ontbreekt, V1 deels -> 1 of 3.
    assert w01[2:9] == ["3", "1", "1", "0", "1", "0", "33%"]
    assert "Melding van 16 uur" in w01[1]
    assert "afgerond" in report and "1 met fout" in report
    assert "x1.pdf" in report  # listed as not analysed


def test_report_is_self_contained_and_escaped(report):
    assert report.count("<svg") == 2  # both charts inline
    lowered = report.lower()
    assert "<script" not in lowered and "<link" not in lowered and "<img" not in lowered
    for attribute in ('src="http', "href=\"http", "url(http", "@import"):
        assert attribute not in lowered
    assert "De &lt;script&gt;alert(1)&lt;/script&gt; school" in report
    page = lxml.html.fromstring(report)
    assert page.xpath("//html/@lang") == ["nl"]
    assert "Basisschool De Linde (po)" in report  # the heatmap labels are text, not paths


def test_report_for_a_human_coder(real_db, tmp_path):
    html = batch.corpus_report(real_db, tmp_path / "r.html", coder="Anna").read_text(encoding="utf-8")
    assert "Codeur: <strong>Anna</strong>" in html
    assert _row(lxml.html.fromstring(html), "Luxe verzuim")[1:4] == ["0", "0", "0%"]
