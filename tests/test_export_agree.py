"""Exports (coded segments, REFI-QDA .qdpx/.qdc), the import of reviewed human
coding, and the agreement figures (against a hand-computed example)."""

from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from protocolscan import batch
from protocolscan.corpus import agreement, qda, store
from protocolscan.corpus.agreement import Coding, cohen_kappa, compare, krippendorff_alpha
from protocolscan.corpus.qda import QdaError

# The part of the REFI-QDA 1.0 schemas (Project.xsd, Codebook.xsd) that covers the
# elements protocolscan writes: element order, required attributes, GUID and colour
# patterns, xsd:dateTime and xsd:integer positions, as in the published schema.
COMMON_TYPES = """
  <xsd:simpleType name="GUIDType"><xsd:restriction base="xsd:token">
    <xsd:pattern value="([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})|(\\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\})"/>
  </xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="RGBType"><xsd:restriction base="xsd:token">
    <xsd:pattern value="#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})"/>
  </xsd:restriction></xsd:simpleType>
  <xsd:complexType name="CodesType"><xsd:sequence>
    <xsd:element name="Code" type="CodeType" maxOccurs="unbounded"/>
  </xsd:sequence></xsd:complexType>
"""
PROJECT_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns="urn:QDA-XML:project:1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    targetNamespace="urn:QDA-XML:project:1.0" elementFormDefault="qualified">
  <xsd:element name="Project" type="ProjectType"/>
  <xsd:complexType name="ProjectType"><xsd:sequence>
    <xsd:element name="Users" type="UsersType" minOccurs="0"/>
    <xsd:element name="CodeBook" type="CodeBookType" minOccurs="0"/>
    <xsd:element name="Cases" type="CasesType" minOccurs="0"/>
    <xsd:element name="Sources" type="SourcesType" minOccurs="0"/>
    <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
  </xsd:sequence>
    <xsd:attribute name="name" type="xsd:string" use="required"/>
    <xsd:attribute name="origin" type="xsd:string"/>
    <xsd:attribute name="creatingUserGUID" type="GUIDType"/>
    <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
  </xsd:complexType>
  <xsd:complexType name="UsersType"><xsd:sequence>
    <xsd:element name="User" type="UserType" maxOccurs="unbounded"/>
  </xsd:sequence></xsd:complexType>
  <xsd:complexType name="UserType">
    <xsd:attribute name="guid" type="GUIDType" use="required"/>
    <xsd:attribute name="name" type="xsd:string"/>
  </xsd:complexType>
  <xsd:complexType name="CodeBookType"><xsd:sequence>
    <xsd:element name="Codes" type="CodesType"/>
  </xsd:sequence></xsd:complexType>
  <xsd:complexType name="CodeType"><xsd:sequence>
    <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
    <xsd:element name="Code" type="CodeType" minOccurs="0" maxOccurs="unbounded"/>
  </xsd:sequence>
    <xsd:attribute name="guid" type="GUIDType" use="required"/>
    <xsd:attribute name="name" type="xsd:string" use="required"/>
    <xsd:attribute name="isCodable" type="xsd:boolean" use="required"/>
    <xsd:attribute name="color" type="RGBType"/>
  </xsd:complexType>
  <xsd:complexType name="CasesType"><xsd:sequence>
    <xsd:element name="Case" type="CaseType" maxOccurs="unbounded"/>
  </xsd:sequence></xsd:complexType>
  <xsd:complexType name="CaseType"><xsd:sequence>
    <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
    <xsd:element name="CodeRef" type="RefType" minOccurs="0" maxOccurs="unbounded"/>
    <xsd:element name="SourceRef" type="RefType" minOccurs="0" maxOccurs="unbounded"/>
  </xsd:sequence>
    <xsd:attribute name="guid" type="GUIDType" use="required"/>
    <xsd:attribute name="name" type="xsd:string"/>
  </xsd:complexType>
  <xsd:complexType name="SourcesType"><xsd:choice maxOccurs="unbounded">
    <xsd:element name="TextSource" type="TextSourceType"/>
  </xsd:choice></xsd:complexType>
  <xsd:complexType name="TextSourceType"><xsd:sequence>
    <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
    <xsd:element name="PlainTextContent" type="xsd:string" minOccurs="0"/>
    <xsd:element name="PlainTextSelection" type="PlainTextSelectionType" minOccurs="0" maxOccurs="unbounded"/>
    <xsd:element name="Coding" type="CodingType" minOccurs="0" maxOccurs="unbounded"/>
  </xsd:sequence>
    <xsd:attribute name="guid" type="GUIDType" use="required"/>
    <xsd:attribute name="name" type="xsd:string"/>
    <xsd:attribute name="plainTextPath" type="xsd:string"/>
    <xsd:attribute name="creatingUser" type="GUIDType"/>
    <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
  </xsd:complexType>
  <xsd:complexType name="PlainTextSelectionType"><xsd:sequence>
    <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
    <xsd:element name="Coding" type="CodingType" minOccurs="0" maxOccurs="unbounded"/>
  </xsd:sequence>
    <xsd:attribute name="guid" type="GUIDType" use="required"/>
    <xsd:attribute name="name" type="xsd:string"/>
    <xsd:attribute name="startPosition" type="xsd:integer" use="required"/>
    <xsd:attribute name="endPosition" type="xsd:integer" use="required"/>
    <xsd:attribute name="creatingUser" type="GUIDType"/>
    <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
  </xsd:complexType>
  <xsd:complexType name="CodingType"><xsd:sequence>
    <xsd:element name="CodeRef" type="RefType"/>
  </xsd:sequence>
    <xsd:attribute name="guid" type="GUIDType" use="required"/>
    <xsd:attribute name="creatingUser" type="GUIDType"/>
    <xsd:attribute name="creationDateTime" type="xsd:dateTime"/>
  </xsd:complexType>
  <xsd:complexType name="RefType">
    <xsd:attribute name="targetGUID" type="GUIDType" use="required"/>
  </xsd:complexType>
  {COMMON_TYPES}
</xsd:schema>"""
CODEBOOK_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<xsd:schema xmlns="urn:QDA-XML:codebook:1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    targetNamespace="urn:QDA-XML:codebook:1.0" elementFormDefault="qualified">
  <xsd:element name="CodeBook"><xsd:complexType><xsd:sequence>
    <xsd:element name="Codes" type="CodesType"/>
  </xsd:sequence><xsd:attribute name="origin" type="xsd:string"/></xsd:complexType></xsd:element>
  <xsd:complexType name="CodeType"><xsd:sequence>
    <xsd:element name="Description" type="xsd:string" minOccurs="0"/>
    <xsd:element name="Code" type="CodeType" minOccurs="0" maxOccurs="unbounded"/>
  </xsd:sequence>
    <xsd:attribute name="guid" type="GUIDType" use="required"/>
    <xsd:attribute name="name" type="xsd:string" use="required"/>
    <xsd:attribute name="isCodable" type="xsd:boolean" use="required"/>
    <xsd:attribute name="color" type="RGBType"/>
  </xsd:complexType>
  {COMMON_TYPES}
</xsd:schema>"""

TEXTS = {
    "s1/protocol.docx": ["Verzuimprotocol", "Ouders melden hun kind vóór half negen ziek.",
                         "Luxe verzuim meldt de directeur bij leerplicht.", "De mentor belt dezelfde dag."],
    "s2/beleid.pdf": ["Aanwezigheid", "Verlof buiten de vakanties vraagt u aan bij de directeur.",
                      "Ongeoorloofd verzuim wordt geregistreerd in het leerlingvolgsysteem."],
}
CODES = {  # (path, passage) -> codes
    ("s1/protocol.docx", 1): ["rol.ouders", "procedure.geoorloofd"],
    ("s1/protocol.docx", 2): ["type.luxe", "procedure.luxe"],
    ("s2/beleid.pdf", 1): ["type.verlof"],
    ("s2/beleid.pdf", 2): ["registratie"],
}


def make_store(path: Path) -> Path:
    conn = store.connect(path)
    for i, (doc_path, texts) in enumerate(TEXTS.items()):
        passages, offset = [], 0
        for n, text in enumerate(texts):
            passages.append({"n": n, "kind": "h1" if n == 0 else "p", "text": text, "start": offset,
                             "end": offset + len(text), "page": 1})
            offset += len(text) + 2
        codings = [{"n": n, "code": c, "confidence": 0.8, "provenance": "both"}
                   for (p, n), cs in CODES.items() if p == doc_path for c in cs]
        result = {"path": doc_path, "status": "ok", "text": "\n\n".join(texts), "passages": passages,
                  "codings": codings, "verdicts": [], "level": "niveau.school", "title": f"Protocol {i}"}
        store.write_document(conn, result, {"id": f"S{i}", "name": f"School {i}", "sector": "po"}, None)
    conn.close()
    return path


@pytest.fixture()
def db(tmp_path) -> Path:
    return make_store(tmp_path / "t.sqlite")


def coded(db: Path, coder: str) -> set[tuple]:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute("SELECT d.path, p.n, c.code FROM codings c JOIN passages p ON p.id=c.passage_id"
                                " JOIN documents d ON d.id=p.document_id WHERE c.coder=?", (coder,)))
    finally:
        conn.close()


def project_root(path: Path):
    with zipfile.ZipFile(path) as archive:
        return etree.fromstring(archive.read("project.qde")), {n: archive.read(n) for n in archive.namelist()}


def selections(path: Path) -> set[tuple]:
    ns = {"q": qda.PROJECT_NS}
    root, _ = project_root(path)
    out = set()
    for src in root.iterfind(".//q:TextSource", ns):
        for sel in src.iterfind("q:PlainTextSelection", ns):
            for ref in sel.iterfind("q:Coding/q:CodeRef", ns):
                out.add((src.get("name"), int(sel.get("startPosition")), int(sel.get("endPosition")),
                         ref.get("targetGUID")))
    return out


# ------------------------------------------------------------------------- exports
def test_segments_csv_and_xlsx(db, tmp_path):
    batch.export(db, "csv", tmp_path / "seg.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "seg.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 6
    first = rows[0]
    assert (first["school_id"], first["document"], first["pagina"], first["passage"], first["code"],
            first["zekerheid"], first["herkomst"]) == ("S0", "s1/protocol.docx", "1", "1", "procedure.geoorloofd",
                                                       "0.8", "both")
    assert first["label"] == "Procedure geoorloofd verzuim"
    from openpyxl import load_workbook

    batch.export(db, "xlsx", tmp_path / "seg.xlsx")
    sheet = load_workbook(tmp_path / "seg.xlsx").active
    assert sheet.max_row == 1 + 6 and sheet["G1"].value == "code"


def test_qdpx_is_valid_and_selections_match_passages(db, tmp_path):
    out = batch.export(db, "qdpx", tmp_path / "project.qdpx")
    root, files = project_root(out)
    schema = etree.XMLSchema(etree.fromstring(PROJECT_XSD.encode()))
    schema.assertValid(root)
    ns = {"q": qda.PROJECT_NS}
    sources = root.findall(".//q:TextSource", ns)
    assert [s.get("name") for s in sources] == ["s1/protocol.docx", "s2/beleid.pdf"]
    for src in sources:
        text = files[f"sources/{src.get('guid')}.txt"].decode("utf-8")
        assert src.get("plainTextPath") == f"internal://{src.get('guid')}.txt"
        for sel in src.iterfind("q:PlainTextSelection", ns):
            n = int(sel.get("name").split()[-1])
            assert text[int(sel.get("startPosition")):int(sel.get("endPosition"))] == TEXTS[src.get("name")][n]
    assert len(root.findall(".//q:Case", ns)) == 2
    # Every CodeRef points to a codable code of the codebook.
    codable = {c.get("guid") for c in root.iterfind(".//q:Code", ns) if c.get("isCodable") == "true"}
    assert {r.get("targetGUID") for r in root.iterfind(".//q:CodeRef", ns)} <= codable


def test_qdc_codebook_is_valid(db, tmp_path):
    out = batch.export(db, "qdc", tmp_path / "codeboek.qdc")
    root = etree.parse(str(out)).getroot()
    etree.XMLSchema(etree.fromstring(CODEBOOK_XSD.encode())).assertValid(root)
    names = [c.get("name") for c in root.iter(f"{{{qda.CODEBOOK_NS}}}Code")]
    assert "Luxe verzuim" in names and "Verzuimregistratie" in names


def test_qdpx_round_trip_as_human_coding(db, tmp_path):
    first = batch.export(db, "qdpx", tmp_path / "a.qdpx")
    with pytest.raises(QdaError, match="geef de naam van de codeur op met --coder"):
        batch.import_qdpx(db, first)
    counts = batch.import_qdpx(db, first, coder="Anna")
    assert counts["bronnen"] == 2 and counts["coderingen"] == 6 and not counts["onbekende_bronnen"]
    assert coded(db, "Anna") == coded(db, "protocolscan") == {(p, n, c) for (p, n), cs in CODES.items() for c in cs}
    # Importing again changes nothing; exporting Anna's coding gives the same selections.
    batch.import_qdpx(db, first, coder="Anna")
    assert len(coded(db, "Anna")) == 6
    second = batch.export(db, "qdpx", tmp_path / "b.qdpx", coder="Anna")
    assert selections(second) == selections(first)


def test_import_reviewed_project_takes_the_reviewer_name(db, tmp_path):
    """A reviewer (user 'Bea') deleted one coding and added one in a QDA tool."""
    path = batch.export(db, "qdpx", tmp_path / "a.qdpx")
    root, files = project_root(path)
    ns = {"q": qda.PROJECT_NS}
    bea = "0f0e0d0c-0b0a-4909-8807-060504030201"
    etree.SubElement(root.find("q:Users", ns), f"{{{qda.PROJECT_NS}}}User", guid=bea, name="Bea")
    luxe = qda.guid("code", "type.luxe")
    for coding in root.iterfind(".//q:Coding", ns):
        if coding.find("q:CodeRef", ns).get("targetGUID") == luxe:
            coding.getparent().remove(coding)
    src = root.find(".//q:TextSource[@name='s1/protocol.docx']", ns)
    text = files[f"sources/{src.get('guid')}.txt"].decode("utf-8")
    start = text.index("De mentor")
    sel = etree.Element(f"{{{qda.PROJECT_NS}}}PlainTextSelection", guid="1a2b3c4d-0000-4000-8000-000000000001",
                        startPosition=str(start), endPosition=str(start + 9), creatingUser=bea)
    coding = etree.SubElement(sel, f"{{{qda.PROJECT_NS}}}Coding", guid="1a2b3c4d-0000-4000-8000-000000000002",
                              creatingUser=bea)
    etree.SubElement(coding, f"{{{qda.PROJECT_NS}}}CodeRef", targetGUID=qda.guid("code", "rol.school"))
    src.findall("q:PlainTextSelection", ns)[-1].addnext(sel)
    etree.XMLSchema(etree.fromstring(PROJECT_XSD.encode())).assertValid(root)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    reviewed = tmp_path / "reviewed.qdpx"
    with zipfile.ZipFile(reviewed, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    counts = batch.import_qdpx(db, reviewed)
    assert counts["codeurs"] == ["Bea"]
    expected = coded(db, "protocolscan") - {("s1/protocol.docx", 2, "type.luxe")} | {("s1/protocol.docx", 3, "rol.school")}
    assert coded(db, "Bea") == expected


def test_import_refuses_sources_that_are_not_in_the_store(db, tmp_path):
    path = batch.export(db, "qdpx", tmp_path / "a.qdpx")
    other = make_store(tmp_path / "other.sqlite")
    conn = store.connect(other)
    conn.execute("UPDATE documents SET text = text || ' (gewijzigd)' WHERE path='s2/beleid.pdf'")
    conn.close()
    counts = batch.import_qdpx(other, path, coder="Anna")
    assert counts["onbekende_bronnen"] == ["s2/beleid.pdf"] and counts["bronnen"] == 1
    with pytest.raises(QdaError, match="geen geldig .qdpx-bestand"):
        (tmp_path / "kapot.qdpx").write_bytes(b"geen zip")
        batch.import_qdpx(db, tmp_path / "kapot.qdpx", coder="Anna")


# ----------------------------------------------------------------------- agreement
def hand_example() -> tuple[Coding, Coding]:
    """Code x on 10 passages of two documents (D1: 0-4, D2: 0-4).

    A codes D1:0-3, B codes D1:0-2 and D2:0-1 -> a=3 (both), b=1 (only A),
    c=2 (only B), d=4 (neither). By hand:
      percent = 7/10 = 0.7
      kappa:  pA = 0.4, pB = 0.5, pe = 0.4*0.5 + 0.6*0.5 = 0.5, kappa = (0.7-0.5)/0.5 = 0.4
      alpha:  n = 20 values, n1 = 2*3+1+2 = 9, n0 = 2*4+1+2 = 11,
              alpha = 1 - 19 * 3 / (9 * 11) = 1 - 57/99 = 0.424242...
    Document level: D1 coded by both, D2 only by B -> a=1, c=1: percent 0.5,
      kappa: pA = .5, pB = 1, pe = .5 -> 0; alpha: n1 = 3, n0 = 1 -> 1 - 3*1/3 = 0.
    Code y: nobody codes it -> kappa and alpha undefined, agreement 100%.
    """
    universe = {(d, n) for d in ("D1", "D2") for n in range(5)}
    a = Coding("A", {("D1", n): {"x"} for n in range(4)}, universe)
    b = Coding("B", {("D1", 0): {"x"}, ("D1", 1): {"x"}, ("D1", 2): {"x"}, ("D2", 0): {"x"}, ("D2", 1): {"x"}},
               universe)
    return a, b


def test_agreement_matches_hand_computation():
    report = compare(*hand_example(), ["x", "y"])
    rows = {(r.level, r.code): r for r in report.rows}
    x = rows[("passage", "x")]
    assert (x.a, x.b, x.c, x.d) == (3, 1, 2, 4)
    assert x.percent == pytest.approx(0.7)
    assert x.kappa == pytest.approx(0.4)
    assert x.alpha == pytest.approx(1 - 57 / 99)
    doc_x = rows[("document", "x")]
    assert (doc_x.a, doc_x.b, doc_x.c, doc_x.d) == (1, 0, 1, 0)
    assert doc_x.percent == pytest.approx(0.5) and doc_x.kappa == pytest.approx(0.0)
    assert doc_x.alpha == pytest.approx(0.0)
    y = rows[("passage", "y")]
    assert y.percent == 1.0 and y.kappa is None and y.alpha is None
    assert (report.n_passages, report.n_documents) == (10, 2)
    text = report.to_text()
    assert "Overeenstemming tussen A = A en B = B" in text and "0.400" in text and "0.424" in text
    assert report.to_csv().splitlines()[1].startswith("passage,x,,10,3,1,2,4,70.0,0.4,0.4242")


def test_kappa_and_alpha_edge_cases():
    assert cohen_kappa(5, 0, 0, 5) == pytest.approx(1.0)
    assert krippendorff_alpha(5, 0, 0, 5) == pytest.approx(1.0)
    assert cohen_kappa(0, 5, 5, 0) == pytest.approx(-1.0)
    assert cohen_kappa(0, 0, 0, 0) is None and krippendorff_alpha(0, 0, 0, 0) is None


def test_agree_between_store_csv_and_qdpx(db, tmp_path):
    batch.export(db, "csv", tmp_path / "seg.csv")
    batch.export(db, "qdpx", tmp_path / "p.qdpx")
    for other in (str(tmp_path / "seg.csv"), str(tmp_path / "p.qdpx")):
        report = batch.agree(f"db:{db}", other)
        luxe = next(r for r in report.rows if r.level == "passage" and r.code == "type.luxe")
        # Headings are left out; 5 body passages in the two documents.
        assert (luxe.a, luxe.b, luxe.c, luxe.d) == (1, 0, 0, 4)
        assert luxe.kappa == pytest.approx(1.0)
    # The reviewer removes type.luxe: disagreement on one passage.
    conn = store.connect(db)
    conn.execute("INSERT INTO codings(passage_id, code, coder) SELECT passage_id, code, 'Bea' FROM codings"
                 " WHERE coder='protocolscan' AND code != 'type.luxe'")
    conn.close()
    report = batch.agree(f"db:{db}", f"db:{db}:Bea")
    luxe = next(r for r in report.rows if r.level == "passage" and r.code == "type.luxe")
    assert (luxe.a, luxe.b, luxe.c, luxe.d) == (0, 1, 0, 4) and luxe.kappa == pytest.approx(0.0)
    with pytest.raises(agreement.AgreementError, match="codeur 'Carl' heeft niets gecodeerd"):
        batch.agree(f"db:{db}", f"db:{db}:Carl")
