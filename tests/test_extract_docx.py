"""DOCX, DOC, ODT and RTF extraction on real files built in the test."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.shared import Pt

from protocolscan.extract import ExtractOptions, extract
from protocolscan.extract.docx import extract_docx
from protocolscan.extract.office import extract_office, find_soffice
from protocolscan.model import ExtractionError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (
    f'xmlns:w="{W}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)

needs_office = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice (soffice) is not installed")


def kinds_and_texts(document):
    return [(b.kind, b.text) for b in document.blocks]


def block(document, text):
    """The one block whose text is exactly ``text``."""
    found = [b for b in document.blocks if b.text == text]
    assert len(found) == 1, (text, kinds_and_texts(document))
    return found[0]


# ----------------------------------------------------------------------- builders

def add_numbering(document) -> tuple[str, str]:
    """Add a bullet list and a decimal list definition; return their numIds."""
    numbering = document.part.numbering_part.element
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate([("bullet", "\u2022"), ("bullet", "o")])
    )
    decimal = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="%{i + 1}."/></w:lvl>'
        for i, fmt in enumerate(["decimal", "lowerLetter"])
    )
    abstracts = [
        parse_xml(f'<w:abstractNum {NS} w:abstractNumId="90">{levels}</w:abstractNum>'),
        parse_xml(f'<w:abstractNum {NS} w:abstractNumId="91">{decimal}</w:abstractNum>'),
    ]
    # abstractNum elements must precede num elements
    first_num = numbering.find(f"{{{W}}}num")
    for abstract in abstracts:
        first_num.addprevious(abstract)
    numbering.append(parse_xml(f'<w:num {NS} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.append(parse_xml(f'<w:num {NS} w:numId="91"><w:abstractNumId w:val="91"/></w:num>'))
    return "90", "91"


def numbered_paragraph(document, text, num_id, level=0):
    paragraph = document.add_paragraph(text)
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(
        f'<w:numPr {NS}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'))
    return paragraph


def text_box_paragraph(document, text):
    """A paragraph anchoring a text box stored twice (DrawingML Choice, VML Fallback)."""
    paragraph = document.add_paragraph()
    box = f'<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>'
    run = parse_xml(
        f'<w:r {NS}><mc:AlternateContent>'
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" '
        'simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset>'
        '</wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset>'
        '</wp:positionV><wp:extent cx="2000000" cy="500000"/><wp:wrapSquare wrapText="bothSides"/>'
        '<wp:docPr id="5" name="Tekstvak 5"/><a:graphic><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        f'<wps:cNvSpPr txBox="1"/><wps:spPr/><wps:txbx>{box}</wps:txbx><wps:bodyPr/></wps:wsp>'
        '</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        f'<mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict></mc:Fallback>'
        '</mc:AlternateContent></w:r>'
    )
    paragraph._p.append(run)
    return paragraph


def add_footnote(document, paragraph, text):
    """Give the document a footnotes part with one note referenced from ``paragraph``."""
    xml = (
        f'<w:footnotes {NS}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
        '</w:r></w:p></w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:footnote>'
        '</w:footnotes>'
    ).encode()
    part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, xml, document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)
    paragraph._p.append(parse_xml(f'<w:r {NS}><w:footnoteReference w:id="1"/></w:r>'))


def bold_paragraph(document, text, size=None):
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = True
    if size:
        run.font.size = Pt(size)
    return paragraph


def build_protocol_docx(path: Path) -> Path:
    """A small verzuimprotocol using most of what Word documents do."""
    document = docx.Document()
    document.core_properties.title = "Verzuimprotocol De Wilg"
    section = document.sections[0]
    section.header.paragraphs[0].text = "Kopregel die niet in de tekst hoort"
    section.footer.paragraphs[0].text = "Voettekst pagina 1 van 3"

    document.add_heading("Verzuimprotocol basisschool De Wilg", level=0)  # Title style
    document.add_heading("Ziekmelding", level=1)
    intro = document.add_paragraph("Ouders melden hun kind ziek voor half negen via de app of telefonisch.")
    add_footnote(document, intro, "Zie ook de schoolgids, hoofdstuk vier.")
    document.add_paragraph("Bel de administratie", style="List Bullet")
    document.add_paragraph("Vermeld de reden van afwezigheid", style="List Bullet 2")
    bullets, decimals = add_numbering(document)
    numbered_paragraph(document, "Eerste stap: de leerkracht belt de ouders", decimals)
    numbered_paragraph(document, "Onderdeel van de tweede stap", decimals, level=1)
    numbered_paragraph(document, "Melding via het formulier", bullets)
    numbered_paragraph(document, "Opsomming op het tweede niveau", bullets, level=1)
    document.add_paragraph("• Getypt opsommingsteken")
    document.add_paragraph("2. Getypt nummer")
    document.add_heading("Ongeoorloofd verzuim", level=2)
    document.add_paragraph("De school meldt ongeoorloofd verzuim bij de leerplichtambtenaar.")

    table = document.add_table(rows=4, cols=3)
    rows = [("Wie", "Wat", "Wanneer"), ("Ouders", "ziekmelding", "voor 8.30 uur"),
            ("Leerkracht", "registratie", "dagelijks")]
    for row, values in zip(table.rows, rows):
        for cell, value in zip(row.cells, values):
            cell.text = value
    merged = table.cell(3, 0).merge(table.cell(3, 1))  # horizontal merge
    merged.text = "Samengevoegde cel"
    table.cell(3, 2).text = "altijd"
    empty = document.add_table(rows=1, cols=2)  # an empty row must not become a block
    assert empty.rows[0].cells[0].text == ""

    vertical = document.add_table(rows=2, cols=2)
    top = vertical.cell(0, 0).merge(vertical.cell(1, 0))  # vertical merge
    top.text = "Verzuim"
    vertical.cell(0, 1).text = "meer dan 16 uur"
    vertical.cell(1, 1).text = "binnen vijf dagen melden"

    text_box_paragraph(document, "Tekst in een tekstvak")
    bold_paragraph(document, "Verlof buiten de schoolvakanties")
    document.add_paragraph("Vrij vragen kan alleen bij de directeur, minstens acht weken van tevoren.")
    trail = document.add_paragraph("Laatste alinea met een regeleinde")
    trail.runs[0].add_break(WD_BREAK.LINE)
    trail.add_run("en een tweede regel.")
    document.save(path)
    return path


# -------------------------------------------------------------------------- DOCX

@pytest.fixture(scope="module")
def protocol(tmp_path_factory):
    path = build_protocol_docx(tmp_path_factory.mktemp("docx") / "wilg.docx")
    return extract(path)


def test_title_and_headings_from_styles(protocol):
    assert protocol.title == "Verzuimprotocol De Wilg"
    assert protocol.format == "docx"
    assert protocol.id == "wilg"
    assert block(protocol, "Verzuimprotocol basisschool De Wilg").kind == "h1"
    assert block(protocol, "Ziekmelding").kind == "h1"
    assert block(protocol, "Ongeoorloofd verzuim").kind == "h2"
    assert all(b.page is None for b in protocol.blocks)


def test_list_kinds_from_styles_numbering_and_typed_markers(protocol):
    assert block(protocol, "Bel de administratie").kind == "li"
    assert block(protocol, "Vermeld de reden van afwezigheid").kind == "li"
    assert block(protocol, "Eerste stap: de leerkracht belt de ouders").kind == "ol"
    assert block(protocol, "Onderdeel van de tweede stap").kind == "ol"
    assert block(protocol, "Melding via het formulier").kind == "li"
    assert block(protocol, "Opsomming op het tweede niveau").kind == "li"
    assert block(protocol, "Getypt opsommingsteken").kind == "li"
    assert block(protocol, "Getypt nummer").kind == "ol"


def test_tables_row_by_row_without_duplicates_or_empty_rows(protocol):
    rows = [b for b in protocol.blocks if b.kind == "tr"]
    assert rows[0].cells == ["Wie", "Wat", "Wanneer"]
    assert rows[0].text == "Wie | Wat | Wanneer"
    assert rows[3].cells == ["Samengevoegde cel", "altijd"]
    assert [r.cells for r in rows[4:]] == [["Verzuim", "meer dan 16 uur"], ["binnen vijf dagen melden"]]
    assert len(rows) == 6


def test_reading_order_interleaves_paragraphs_and_tables(protocol):
    texts = [b.text for b in protocol.blocks]
    assert texts.index("De school meldt ongeoorloofd verzuim bij de leerplichtambtenaar.") \
        < texts.index("Wie | Wat | Wanneer") < texts.index("Tekst in een tekstvak") \
        < texts.index("Verlof buiten de schoolvakanties")


def test_text_box_read_once(protocol):
    assert block(protocol, "Tekst in een tekstvak").kind == "p"


def test_bold_short_line_before_body_text_is_a_heading(protocol):
    assert block(protocol, "Verlof buiten de schoolvakanties").kind == "h2"


def test_headers_and_footers_do_not_leak(protocol):
    everything = " ".join(b.text for b in protocol.blocks)
    assert "Kopregel" not in everything
    assert "Voettekst" not in everything


def test_footnote_appended_at_the_end(protocol):
    assert protocol.blocks[-1].text == "Zie ook de schoolgids, hoofdstuk vier."
    assert protocol.blocks[-1].kind == "p"


def test_line_break_kept_inside_the_paragraph(protocol):
    assert block(protocol, "Laatste alinea met een regeleinde\nen een tweede regel.").kind == "p"


def test_heading_levels_by_font_size_without_styles(tmp_path):
    document = docx.Document()
    bold_paragraph(document, "Protocol schoolverzuim", size=18)
    bold_paragraph(document, "Afspraken bij ziekte", size=14)
    document.add_paragraph("Bij ziekte belt u voor schooltijd naar de school.")
    bold_paragraph(document, "Te laat komen", size=14)
    document.add_paragraph("Wie drie keer te laat komt, krijgt een gesprek met de leerkracht.")
    bold_paragraph(document, "Met vriendelijke groet")  # no body text after it
    path = tmp_path / "opmaak.docx"
    document.save(path)
    result = extract_docx(path, ExtractOptions())
    assert kinds_and_texts(result)[:3] == [
        ("h1", "Protocol schoolverzuim"), ("h2", "Afspraken bij ziekte"),
        ("p", "Bij ziekte belt u voor schooltijd naar de school.")]
    assert block(result, "Te laat komen").kind == "h2"
    assert block(result, "Met vriendelijke groet").kind == "p"
    assert result.title == "Protocol schoolverzuim"


def test_bold_sentences_and_bold_runs_of_lines_stay_paragraphs(tmp_path):
    document = docx.Document()
    bold_paragraph(document, "Let op: meld uw kind altijd af.")
    bold_paragraph(document, "Basisschool De Wilg")
    bold_paragraph(document, "Dorpsstraat 1")
    document.add_paragraph("Een gewone alinea met tekst over verzuim.")
    mixed = document.add_paragraph()
    mixed.add_run("Half vet").bold = True
    mixed.add_run(" en half gewoon")
    document.add_paragraph("Nog een alinea.")
    path = tmp_path / "vet.docx"
    document.save(path)
    kinds = dict((b.text, b.kind) for b in extract_docx(path, ExtractOptions()).blocks)
    assert kinds["Let op: meld uw kind altijd af."] == "p"
    assert kinds["Basisschool De Wilg"] == "p"
    assert kinds["Half vet en half gewoon"] == "p"


def test_dutch_heading_style_names_and_outline_level(tmp_path):
    document = docx.Document()
    styles = document.styles
    from docx.enum.style import WD_STYLE_TYPE
    kop = styles.add_style("Kop 2", WD_STYLE_TYPE.PARAGRAPH)
    kop.base_style = styles["Normal"]
    document.add_paragraph("Afmelden bij ziekte", style="Kop 2")
    document.add_paragraph("Tekst onder de kop, lang genoeg om gewoon te zijn.")
    outlined = document.add_paragraph("Kop via overzichtsniveau")
    outlined._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {NS} w:val="2"/>'))
    document.add_paragraph("Weer gewone tekst.")
    path = tmp_path / "kop.docx"
    document.save(path)
    result = extract_docx(path, ExtractOptions())
    assert block(result, "Afmelden bij ziekte").kind == "h2"
    assert block(result, "Kop via overzichtsniveau").kind == "h3"
    assert result.title == "Afmelden bij ziekte"


def test_table_of_contents_is_not_body_text(tmp_path):
    document = docx.Document()
    from docx.enum.style import WD_STYLE_TYPE
    document.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Ziekmelding\t3", style="TOC 1")
    document.element.body.insert(0, parse_xml(
        f'<w:sdt {NS}><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/>'
        '</w:docPartObj></w:sdtPr><w:sdtContent><w:p><w:r><w:t>Verlof\t7</w:t></w:r></w:p>'
        '</w:sdtContent></w:sdt>'))
    document.element.body.insert(0, parse_xml(
        f'<w:sdt {NS}><w:sdtPr><w:alias w:val="Schoolnaam"/></w:sdtPr><w:sdtContent><w:p><w:r>'
        '<w:t>Tekst in een inhoudsbesturingselement.</w:t></w:r></w:p></w:sdtContent></w:sdt>'))
    document.add_heading("Ziekmelding", level=1)
    document.add_paragraph("Meld uw kind voor schooltijd ziek.")
    path = tmp_path / "inhoud.docx"
    document.save(path)
    assert kinds_and_texts(extract_docx(path, ExtractOptions())) == [
        ("p", "Tekst in een inhoudsbesturingselement."),
        ("h1", "Ziekmelding"), ("p", "Meld uw kind voor schooltijd ziek.")]


def test_macro_document_gets_a_dutch_error(tmp_path):
    source = tmp_path / "gewoon.docx"
    docx.Document().save(source)
    path = tmp_path / "macro.docm"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as changed:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml",
                                    b"ms-word.document.macroEnabled.main+xml")
            changed.writestr(item, data)
    with pytest.raises(ExtractionError, match="macro"):
        extract_docx(path, ExtractOptions())


def test_zip_bomb_refused_before_parsing(tmp_path):
    path = tmp_path / "bom.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(300):
                member.write(chunk)
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(ExtractionError, match="zip-bom") as info:
        extract(path)
    assert "200 MB" in str(info.value)


def test_high_compression_ratio_refused_below_size_limit(tmp_path):
    path = tmp_path / "ratio.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * (20 * 1024 * 1024))
    with pytest.raises(ExtractionError, match="zip-bom"):
        extract_docx(path, ExtractOptions())


def test_size_limit_follows_the_option(tmp_path):
    path = build_protocol_docx(tmp_path / "klein.docx")
    with pytest.raises(ExtractionError, match="zip-bom"):
        extract_docx(path, ExtractOptions(max_docx_uncompressed=10_000))


def test_not_a_zip_gives_a_dutch_error(tmp_path):
    path = tmp_path / "nep.docx"
    path.write_text("Dit is gewoon tekst en geen Word-bestand.\n", encoding="utf-8")
    with pytest.raises(ExtractionError, match="geen geldig DOCX-bestand"):
        extract_docx(path, ExtractOptions())


def test_zip_without_word_document_gives_a_dutch_error(tmp_path):
    path = tmp_path / "leeg.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("iets.txt", "niets")
    with pytest.raises(ExtractionError, match="geen Word-document"):
        extract_docx(path, ExtractOptions())


def test_truncated_docx_gives_a_dutch_error(tmp_path):
    whole = build_protocol_docx(tmp_path / "heel.docx").read_bytes()
    path = tmp_path / "kapot.docx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ExtractionError) as info:
        extract(path)
    assert "beschadigd" in str(info.value)


# ------------------------------------------------------------------ DOC, ODT, RTF

def convert_with_soffice(source: Path, target_format: str, outdir: Path) -> Path:
    """Make a real ODT/DOC/RTF from a DOCX with LibreOffice itself."""
    profile = (outdir / "profile").as_uri()
    subprocess.run(
        [find_soffice(), f"-env:UserInstallation={profile}", "--headless", "--convert-to",
         target_format, "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=180,
    )
    return outdir / f"{source.stem}.{target_format}"


@pytest.fixture(scope="module")
def office_sources(tmp_path_factory):
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("office")
    source = build_protocol_docx(folder / "wilg.docx")
    return {fmt: convert_with_soffice(source, fmt, folder) for fmt in ("odt", "doc", "rtf")}


@pytest.mark.office
@needs_office
@pytest.mark.parametrize("fmt", ["odt", "doc", "rtf"])
def test_office_formats_via_libreoffice(office_sources, fmt):
    result = extract(office_sources[fmt])
    assert result.format == fmt
    assert result.id == "wilg"
    assert block(result, "Ziekmelding").kind == "h1"
    assert block(result, "Bel de administratie").kind == "li"
    assert block(result, "Eerste stap: de leerkracht belt de ouders").kind == "ol"
    rows = [b for b in result.blocks if b.kind == "tr"]
    assert rows[0].cells == ["Wie", "Wat", "Wanneer"]
    everything = " ".join(b.text for b in result.blocks)
    assert "Kopregel" not in everything
    # LibreOffice's own RTF export drops this text box, so RTF can only show no duplicate
    if fmt != "rtf":
        assert everything.count("Tekst in een tekstvak") == 1
    assert everything.count("Tekst in een tekstvak") <= 1


@pytest.mark.office
@needs_office
def test_handwritten_rtf_with_accents(tmp_path):
    path = tmp_path / "brief.rtf"
    path.write_bytes(
        b"{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}\\f0\\fs22 "
        b"{\\b\\fs32 Verzuimregeling\\par}"
        b"Bij ziekte meldt u uw kind v\\'f3\\'f3r half negen af bij de co\\'f6rdinator.\\par "
        b"\\'95 Telefonisch of via de app.\\par}"
    )
    result = extract(path)
    assert result.format == "rtf"
    texts = [b.text for b in result.blocks]
    assert "Bij ziekte meldt u uw kind v\u00f3\u00f3r half negen af bij de co\u00f6rdinator." in texts
    assert block(result, "Verzuimregeling").kind in ("h1", "h2")
    assert block(result, "Telefonisch of via de app.").kind == "li"


@pytest.mark.office
@needs_office
def test_office_conversion_failure_is_a_dutch_error(tmp_path):
    path = tmp_path / "kapot.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(ExtractionError, match="LibreOffice kon"):
        extract(path)


def test_missing_libreoffice_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    path = tmp_path / "oud.rtf"
    path.write_text("{\\rtf1\\ansi Verzuim\\par}", encoding="ascii")
    with pytest.raises(ExtractionError, match="LibreOffice") as info:
        extract_office(path, "rtf", ExtractOptions())
    assert "libreoffice-writer-nogui" in str(info.value)

