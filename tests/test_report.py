"""Tests of the report stage and the scan composition: JSON schema, escaping, the four
formats for real DOCX and PDF files, and the order and content of the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from protocolscan import api, audit
from protocolscan.gold import load_gold
from protocolscan.model import Document, Passage, Tag
from protocolscan.report import SCHEMA_VERSION, load_schema

PROTOCOL = [
    ("h1", "Verzuimprotocol basisschool De Proef"),
    ("p", "Dit protocol beschrijft hoe wij met verzuim omgaan en is gebaseerd op de Leerplichtwet 1969."),
    ("h2", "Ziekmelden"),
    ("p", "Is uw kind ziek, meld het dan vóór 8.15 uur telefonisch bij de administratie."),
    ("h2", "Ongeoorloofd verzuim"),
    ("p", "<script>alert('protocol')</script> Volgens de Leerplichtwet is de school verplicht ongeoorloofd verzuim van 10 uur in vier weken te melden bij de leerplichtambtenaar via DUO."),
    ("p", "Neem bij vragen contact op met de directeur."),
    ("h2", "Vakantieverlof"),
    ("p", "Vakantieverlof krijgt u alleen als u door de aard van uw beroep in geen enkele schoolvakantie weg kunt."),
]


def scored(passages, codes=None, peildatum="2026-11-24") -> Document:
    ps = []
    path: list[str] = []
    for i, (kind, text) in enumerate(passages, 1):
        if kind.startswith("h"):
            path = [text]
        tags = [Tag(c, 1.0, "test") for c in (codes or {}).get(i, [])]
        ps.append(Passage(n=i, kind=kind, text=text, page=1 + i // 5, heading_path=[] if kind.startswith("h") else list(path), tags=tags))
    doc = Document(id="proef", title="Verzuimprotocol basisschool De Proef", source="proef.docx", format="docx",
                   pages=2, passages=ps, text="\n\n".join(p.text for p in ps))
    return audit.score_document(doc, peildatum=peildatum)


@pytest.fixture(scope="module")
def gold_report():
    g = next(g for g in load_gold() if g.id == "vo-04")
    audit._gold_tags(g.document.passages, g.codes)
    doc = audit.score_document(g.document, peildatum="2026-11-24")
    return doc, audit.report_dict(doc)


def test_json_report_validates_against_the_schema(gold_report):
    doc, report = gold_report
    jsonschema.validate(report, load_schema())
    assert report["schema_version"] == SCHEMA_VERSION
    parsed = json.loads(audit.render_report(doc, "json"))
    jsonschema.validate(parsed, load_schema())
    assert len(parsed["requirements"]) == 31


def test_schema_rejects_a_broken_report(gold_report):
    _, report = gold_report
    broken = json.loads(json.dumps(report))
    broken["requirements"][0]["verdict"] = "misschien"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, load_schema())
    broken = json.loads(json.dumps(report))
    del broken["schema_version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, load_schema())


def test_legal_problems_come_first_with_quotes(gold_report):
    _, report = gold_report
    reqs = {e["id"]: e for e in report["requirements"]}
    problems = report["problems"]
    layers = [reqs[p]["layer"] for p in problems]
    assert layers == sorted(layers, key=lambda l: {"wet": 0, "wts": 1, "mas": 2}[l])
    assert problems[0] in {"W01", "W06", "W08", "W11"} and reqs[problems[0]]["verdict"] == "onjuist"
    w01 = reqs["W01"]
    assert w01["verdict"] == "onjuist" and "10 uur" in w01["wrong"][0]["quote"]
    assert report["questions"][0]["question_nl"].startswith("Het protocol zegt:")
    assert {a["requirement"] for a in report["additions"]} == set(problems)


def test_topics_name_the_study_figures(gold_report):
    _, report = gold_report
    rows = {t["code"]: t for cat in report["topics"] for t in cat["codes"]}
    assert rows["type.geoorloofd"]["study"]["sentence_nl"].startswith("38% van de 45 scholen in het onderzoek definieerde geoorloofd verzuim")
    assert all(t["passages"] for t in rows.values() if t["present"])


def test_html_escapes_document_text_and_is_self_contained():
    doc = scored(PROTOCOL)
    html = audit.render_report(doc, "html")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not re.search(r"<(link|img|iframe|object)\b", html, re.I)
    assert "url(" not in html and "@import" not in html
    assert "<style>" in html and "@media print" in html
    assert "Wat kunt u toevoegen" in html and "Vragen voor het schoolbezoek" in html


def test_html_shows_the_wrong_threshold_with_quote():
    html = audit.render_report(scored(PROTOCOL), "html")
    wrong_at = html.index("10 uur in vier weken")
    missing_at = html.index("Wat kunt u toevoegen")
    assert wrong_at < missing_at
    assert "16 uur" in html


def test_markdown_and_text_escape_markup():
    doc = scored(PROTOCOL)
    md = audit.render_report(doc, "md")
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert md.startswith("# Verzuimprotocol-scan")
    text = audit.render_report(doc, "text")
    assert "wettelijke onderdelen:" in text and "\x1b[" not in text
    assert "<script>" in text  # shown literally in a terminal, where it cannot run


def test_link_only_when_http(tmp_path: Path):
    ext = tmp_path / "ext.yaml"
    ext.write_text("version: t\nrequirements:\n  - id: W01\n    link: \"javascript:alert(1)\"\n", encoding="utf-8")
    catalogue = audit.load_catalogue(extensions=[ext])
    doc = audit.score_document(scored(PROTOCOL), catalogue)
    html = audit.render_report(doc, "html", catalogue)
    assert 'href="javascript' not in html


def test_peildatum_changes_weights_in_the_report():
    early = audit.report_dict(scored(PROTOCOL, peildatum="2027-07-31"))
    late = audit.report_dict(scored(PROTOCOL, peildatum="2027-08-01"))
    weight = lambda r: next(l["weight"] for l in r["scores"]["layers"] if l["layer"] == "wts")
    assert (weight(early), weight(late)) == (1, 3)
    assert early["scan"]["peildatum"] == "2027-07-31"


# -- real files ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_files(tmp_path_factory) -> dict[str, Path]:
    """The test protocol as a real DOCX (python-docx) and PDF (reportlab)."""
    from docx import Document as Docx
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate
    from xml.sax.saxutils import escape

    out = tmp_path_factory.mktemp("scan")
    docx = Docx()
    for kind, text in PROTOCOL:
        if kind.startswith("h"):
            docx.add_heading(text, level=int(kind[1]))
        else:
            docx.add_paragraph(text)
    docx.save(out / "proef.docx")
    styles = getSampleStyleSheet()
    story = [Paragraph(escape(text), styles["Heading1" if kind == "h1" else "Heading2" if kind == "h2" else "BodyText"])
             for kind, text in PROTOCOL]
    SimpleDocTemplate(str(out / "proef.pdf"), pagesize=A4).build(story)
    annex = Docx()
    annex.add_heading("Bijlage: schorsing", level=1)
    annex.add_paragraph("Een schorsing duurt maximaal twee weken.")
    annex.save(out / "bijlage.docx")
    return {"docx": out / "proef.docx", "pdf": out / "proef.pdf", "annex": out / "bijlage.docx"}


@pytest.mark.parametrize("kind", ["docx", "pdf"])
@pytest.mark.parametrize("fmt", ["text", "json", "md", "html"])
def test_scan_real_files_in_all_formats(real_files, kind, fmt):
    doc, out = api.scan_report([real_files[kind]], fmt=fmt, peildatum="2026-11-24")
    assert len(doc.verdicts) == 31
    verdicts = {v.requirement: v.verdict for v in doc.verdicts}
    assert verdicts["W01"] == "onjuist" and verdicts["W03"] == "voldaan" and verdicts["W10"] != "nvt"
    if fmt == "json":
        jsonschema.validate(json.loads(out), load_schema())
    if fmt == "html":
        assert out.lstrip().startswith("<!DOCTYPE html>") and "&lt;script&gt;" in out and "<script" not in out.lower()
    if fmt in ("text", "md"):
        assert "10 uur in vier weken" in out


def test_protocol_with_annex_is_scanned_as_one(real_files):
    doc, out = api.scan_report([real_files["docx"], real_files["annex"]], fmt="json", peildatum="2026-11-24")
    report = json.loads(out)
    assert len(report["document"]["sources"]) == 2
    w11 = next(e for e in report["requirements"] if e["id"] == "W11")
    assert w11["verdict"] == "onjuist" and "twee weken" in w11["wrong"][0]["quote"]
