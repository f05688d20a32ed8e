"""The corpus renderers (tools/render_corpus.py) and bad-input maker (tools/bad_inputs.py)
produce real files with the properties the extractor tests rely on."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from itertools import groupby
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

import bad_inputs  # noqa: E402
import render_corpus  # noqa: E402

SEED = REPO / "corpora" / "seed"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# po-01: long, two tables, bullet and numbered lists; vo-02: two pages, a table, a
# list of four; web-01: the first passage is a breadcrumb paragraph, not a heading.
RENDERED_IDS = ("po-01", "vo-02", "web-01")


def load(doc_id: str) -> dict:
    return render_corpus.load_corpus_doc(SEED / f"{doc_id}.json")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("rendered")
    paths = render_corpus.render_corpus(SEED, out, formats=("docx", "pdf"), ids=RENDERED_IDS)
    for doc_id in RENDERED_IDS:
        doc = load(doc_id)
        for variant in ("bold", "textbox"):
            paths[doc_id][variant] = out / f"{doc_id}.{variant}.docx"
            render_corpus.render_docx(doc, paths[doc_id][variant], variant=variant)
    return paths


@pytest.fixture(scope="session")
def scanned(rendered, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scanned") / "vo-02.scan.pdf"
    render_corpus.render_scanned_pdf(rendered["vo-02"]["pdf"], out)
    return out


@pytest.fixture(scope="session")
def bad(tmp_path_factory) -> dict[str, Path]:
    return bad_inputs.make_bad_inputs(tmp_path_factory.mktemp("bad"))


def pdf_page_texts(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def body_items(docx_path: Path) -> list[str]:
    """Body paragraphs (non-empty) and table rows (cells joined by ' | '), in order."""
    import docx

    body = docx.Document(str(docx_path)).element.body
    items = []
    for child in body:
        if child.tag == W + "p":
            text = "".join(t.text or "" for t in child.iter(W + "t"))
            if text:
                items.append(text)
        elif child.tag == W + "tbl":
            for row in child.iter(W + "tr"):
                cells = ["".join(t.text or "" for t in tc.iter(W + "t")) for tc in row.iter(W + "tc")]
                items.append(" | ".join(cells))
    return items


def passage_texts(doc: dict) -> list[str]:
    return [" | ".join(p["cells"]) if p["kind"] == "tr" else p["text"] for p in doc["passages"]]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ DOCX


@pytest.mark.parametrize("doc_id", RENDERED_IDS)
def test_docx_body_holds_exactly_the_passages_in_order(rendered, doc_id):
    assert body_items(rendered[doc_id]["docx"]) == passage_texts(load(doc_id))


def test_docx_uses_builtin_heading_and_list_styles(rendered):
    import docx

    doc = load("po-01")
    word = docx.Document(str(rendered["po-01"]["docx"]))
    by_style: dict[str, list[str]] = {}
    for para in word.paragraphs:
        by_style.setdefault(para.style.name, []).append(para.text)
    expected = {"h1": "Heading 1", "h2": "Heading 2", "li": "List Bullet", "ol": "List Number"}
    for kind, style in expected.items():
        assert by_style[style] == [p["text"] for p in doc["passages"] if p["kind"] == kind]


def test_docx_numbered_lists_restart_at_one(rendered):
    import docx

    word = docx.Document(str(rendered["po-01"]["docx"]))
    num_ids = [p._p.pPr.numPr.numId.val for p in word.paragraphs if p.style.name == "List Number"]
    runs = [kind for kind, _ in groupby(p["kind"] for p in load("po-01")["passages"])].count("ol")
    assert runs > 1
    # One w:num (each with startOverride 1) per separate numbered list.
    assert len(set(num_ids)) == runs


def test_docx_each_row_run_is_one_table(rendered):
    import docx

    doc = load("po-01")
    word = docx.Document(str(rendered["po-01"]["docx"]))
    row_runs = [list(g) for kind, g in groupby(doc["passages"], key=lambda p: p["kind"]) if kind == "tr"]
    assert [len(t.rows) for t in word.tables] == [len(run) for run in row_runs]
    first = row_runs[0][1]
    assert [c.text for c in word.tables[0].rows[1].cells] == first["cells"]


def test_docx_header_and_page_footer_are_outside_the_body(rendered):
    import docx

    doc = load("po-01")
    word = docx.Document(str(rendered["po-01"]["docx"]))
    section = word.sections[0]
    assert section.header.paragraphs[0].text == doc["title"]
    assert doc["title"] not in body_items(rendered["po-01"]["docx"])
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "Pagina" in footer_xml
    assert word.core_properties.title == doc["title"]


def test_docx_bold_variant_has_bold_normal_headings(rendered):
    import docx

    doc = load("po-01")
    word = docx.Document(str(rendered["po-01"]["bold"]))
    assert not [p for p in word.paragraphs if p.style.name.startswith("Heading")]
    headings = [p["text"] for p in doc["passages"] if p["kind"] in ("h1", "h2", "h3")]
    bold = [p for p in word.paragraphs if p.runs and all(r.bold for r in p.runs)]
    assert [p.text for p in bold] == headings
    assert all(p.style.name == "Normal" for p in bold)
    assert body_items(rendered["po-01"]["bold"]) == passage_texts(doc)


def test_docx_textbox_variant_moves_paragraphs_into_a_text_box(rendered):
    import docx

    doc = load("vo-02")
    boxed = render_corpus.textbox_passages(doc)
    assert 1 <= len(boxed) <= 2
    boxed_texts = [p["text"] for p in doc["passages"] if p["n"] in boxed]
    word = docx.Document(str(rendered["vo-02"]["textbox"]))
    in_boxes = [
        "".join(t.text for t in p.iter(W + "t"))
        for box in word.element.body.iter(W + "txbxContent")
        for p in box.iter(W + "p")
    ]
    assert in_boxes == boxed_texts
    # python-docx's paragraph list does not see text boxes: extractors must look.
    visible = [p.text for p in word.paragraphs]
    assert not set(boxed_texts) & set(visible)


@pytest.mark.office
def test_docx_files_open_in_libreoffice(rendered, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    doc = load("vo-02")
    source = rendered["vo-02"]["textbox"]
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    text = squash(" ".join(pdf_page_texts(tmp_path / (source.stem + ".pdf"))))
    boxed = [p["text"] for p in doc["passages"] if p["n"] in render_corpus.textbox_passages(doc)]
    for passage in boxed + [doc["passages"][0]["text"]]:
        assert squash(passage)[:40] in text


# ------------------------------------------------------------------ PDF


def test_pdf_has_running_header_and_page_footer_on_every_page(rendered):
    doc = load("po-01")
    pages = pdf_page_texts(rendered["po-01"]["pdf"])
    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        lines = text.splitlines()
        assert lines[0] == doc["title"]
        assert lines[-1] == f"Pagina {number} van {len(pages)}"


def test_pdf_page_list_matches_where_passages_start(rendered):
    for doc_id in ("po-01", "vo-02"):
        doc = load(doc_id)
        pages = json.loads(rendered[doc_id]["pages"].read_text())
        texts = [squash(t) for t in pdf_page_texts(rendered[doc_id]["pdf"])]
        assert len(pages) == len(doc["passages"])
        assert pages == sorted(pages) and pages[-1] == len(texts)
        for passage, page in zip(doc["passages"], pages):
            first = passage["cells"][0] if passage["kind"] == "tr" else passage["text"]
            # The first two words: short enough never to be split over two lines.
            words = " ".join(first.split()[:2])
            assert words in texts[page - 1], (doc_id, passage["n"], page)


def test_pdf_breaks_the_page_inside_the_first_long_list(rendered):
    doc = load("vo-02")
    items = render_corpus.first_long_list(doc)
    pages = json.loads(rendered["vo-02"]["pages"].read_text())
    page_of = {p["n"]: page for p, page in zip(doc["passages"], pages)}
    assert render_corpus.forced_break_passage(doc) == items[2]["n"]
    assert page_of[items[2]["n"]] == page_of[items[1]["n"]] + 1
    # The third item is the first thing below the running header on its page.
    page_text = pdf_page_texts(rendered["vo-02"]["pdf"])[page_of[items[2]["n"]] - 1]
    assert page_text.splitlines()[1].startswith("• " + " ".join(items[2]["text"].split()[:3]))


def test_pdf_lists_have_bullets_and_numbers(rendered):
    doc = load("vo-02")
    text = "\n".join(pdf_page_texts(rendered["vo-02"]["pdf"]))
    numbered = [p for p in doc["passages"] if p["kind"] == "ol"]
    for number, item in enumerate(numbered, start=1):
        assert f"\n{number}. {' '.join(item['text'].split()[:3])}" in text
    bullets = [p for p in doc["passages"] if p["kind"] == "li"]
    assert text.count("\n• ") == len(bullets)


def test_pdf_table_is_ruled_with_one_row_per_passage(rendered):
    doc = load("vo-02")
    rows = [p for p in doc["passages"] if p["kind"] == "tr"]
    pages = json.loads(rendered["vo-02"]["pages"].read_text())
    table_page = pages[rows[0]["n"]]
    with pdfplumber.open(rendered["vo-02"]["pdf"]) as pdf:
        tables = pdf.pages[table_page - 1].find_tables()  # needs ruling lines
        assert len(tables) == 1
        found = tables[0].extract()
    assert len(found) == len(rows)
    assert [r[0] for r in found] == [p["cells"][0] for p in rows]


def test_pdf_keeps_dutch_characters(rendered):
    doc = load("po-01")
    text = "".join(pdf_page_texts(rendered["po-01"]["pdf"]))
    special = {ch for p in doc["passages"] for ch in p["text"] if ord(ch) > 127}
    assert {"ë", "é", "–"} & special
    assert special <= set(text)


HYPHEN_DOC = {
    "id": "hyphen-test",
    "title": "Afbreektest",
    "passages": [
        {"n": 0, "kind": "h1", "text": "Afbreektest"},
        *(
            {
                "n": i,
                "kind": "p",
                "text": (
                    "De verzuimregistratie van de leerplichtambtenaar en de zorgcoördinator "
                    "volgt de aanwezigheidsregistratie op de vo-school, met de "
                    "3-6-9-12-regeling voor ziekteverzuimbegeleiding en schoolvakanties. " * 3
                ),
            }
            for i in range(1, 9)
        ),
    ],
}
LONG_WORDS = {"verzuimregistratie", "leerplichtambtenaar", "zorgcoördinator", "aanwezigheidsregistratie",
              "ziekteverzuimbegeleiding", "schoolvakanties"}


def line_end_splits(text: str) -> list[str]:
    """Words split with a hyphen at line end, joined again."""
    return [a + b for a, b in re.findall(r"(\w+)-\n(\w+)", text)]


def test_pdf_hyphenates_long_words_only_when_asked(tmp_path):
    with_hyphens = tmp_path / "on.pdf"
    without = tmp_path / "off.pdf"
    render_corpus.render_pdf(HYPHEN_DOC, with_hyphens, hyphenate=True)
    render_corpus.render_pdf(HYPHEN_DOC, without, hyphenate=False)
    # Without running header and footer, so a word split over two pages joins too.
    text_on = "\n".join("\n".join(t.splitlines()[1:-1]) for t in pdf_page_texts(with_hyphens))
    text_off = "\n".join("\n".join(t.splitlines()[1:-1]) for t in pdf_page_texts(without))
    splits = line_end_splits(text_on)
    assert splits and set(splits) <= LONG_WORDS
    assert line_end_splits(text_off) == []
    # Real hyphens are never line-break points: the words stay whole on one line.
    for text in (text_on, text_off):
        assert text.count("vo-school") == 24 and text.count("3-6-9-12-regeling") == 24


def test_split_points_keep_short_words_and_digraphs_whole():
    assert render_corpus.split_points("verzuim") == []
    assert render_corpus.split_points("vo-schoolleerling") == []
    pairs = render_corpus.split_points("leerplichtambtenaar")
    assert ("leer", "plichtambtenaar") in pairs
    assert all(len(h) >= 3 and len(t) >= 3 and h + t == "leerplichtambtenaar" for h, t in pairs)
    assert not [h for h, t in render_corpus.split_points("aanwezigheidsregistratie") if h.endswith("c")]


# ------------------------------------------------------------------ scanned PDF


def test_scanned_pdf_is_image_only_with_the_same_pages(rendered, scanned):
    source_pages = len(pdfium.PdfDocument(str(rendered["vo-02"]["pdf"])))
    scan = pdfium.PdfDocument(str(scanned))
    assert len(scan) == source_pages
    for page in scan:
        assert page.get_textpage().get_text_range().strip() == ""
    with pdfplumber.open(scanned) as pdf:
        assert all(len(page.images) == 1 and not page.chars for page in pdf.pages)


@pytest.mark.ocr
@pytest.mark.slow
def test_scanned_pdf_ocrs_to_readable_dutch(scanned, tmp_path):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    if "nld" not in langs:
        pytest.skip("tesseract has no Dutch data (tesseract-ocr-nld)")
    image = tmp_path / "page1.png"
    pdfium.PdfDocument(str(scanned))[0].render(scale=200 / 72).to_pil().save(image)
    text = subprocess.run(["tesseract", str(image), "-", "-l", "nld"], capture_output=True, text=True, check=True).stdout
    doc = load("vo-02")
    assert "Hofstede Lyceum" in text
    words = re.findall(r"\w+", doc["passages"][1]["text"].lower())
    found = set(re.findall(r"\w+", text.lower()))
    assert sum(w in found for w in words) >= 0.9 * len(words)


# ------------------------------------------------------------------ CLI


def test_cli_writes_files_and_page_list(tmp_path):
    assert render_corpus.main([str(SEED), str(tmp_path), "--formats", "pdf", "--ids", "web-01"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web-01.pages.json", "web-01.pdf"]
    pages = json.loads((tmp_path / "web-01.pages.json").read_text())
    assert len(pages) == len(load("web-01")["passages"])


def test_render_corpus_rejects_unknown_ids_and_formats(tmp_path):
    with pytest.raises(FileNotFoundError):
        render_corpus.render_corpus(SEED, tmp_path, formats=("pdf",), ids=["po-99"])
    with pytest.raises(ValueError):
        render_corpus.render_corpus(SEED, tmp_path, formats=("odt",), ids=["po-01"])


# ------------------------------------------------------------------ bad inputs


def test_bad_inputs_are_all_made(bad):
    assert set(bad) == {
        "empty.pdf", "truncated.pdf", "random.pdf", "encrypted.pdf", "notzip.docx",
        "zipbomb.docx", "unsupported.xyz", "garbage_text.pdf", "long500.pdf",
    }
    assert all(path.is_file() for path in bad.values())
    assert bad["empty.pdf"].stat().st_size == 0


@pytest.mark.parametrize("name", ["empty.pdf", "truncated.pdf", "random.pdf"])
def test_broken_pdfs_do_not_open(bad, name):
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(bad[name]))


def test_truncated_pdf_is_the_start_of_a_real_pdf(bad):
    data = bad["truncated.pdf"].read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" not in data


def test_encrypted_pdf_needs_the_password(bad):
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(bad["encrypted.pdf"]))
    opened = pdfium.PdfDocument(str(bad["encrypted.pdf"]), password=bad_inputs.ENCRYPTED_PASSWORD)
    assert "Afspraken over afwezigheid" in opened[0].get_textpage().get_text_range()


def test_notzip_docx_is_not_a_zip(bad):
    assert not zipfile.is_zipfile(bad["notzip.docx"])


def test_zipbomb_is_small_but_declares_a_gigabyte(bad):
    assert bad["zipbomb.docx"].stat().st_size < 2 * 1024 * 1024
    with zipfile.ZipFile(bad["zipbomb.docx"]) as archive:
        assert "[Content_Types].xml" in archive.namelist()
        info = archive.getinfo("word/document.xml")
        assert info.file_size >= 1 << 30
        with archive.open(info) as member:
            assert member.read(100).startswith(b"<?xml")


def test_unsupported_file_is_neither_pdf_nor_zip(bad):
    data = bad["unsupported.xyz"].read_bytes()
    assert data and not data.startswith(b"%PDF") and not zipfile.is_zipfile(bad["unsupported.xyz"])


def test_garbage_text_pdf_has_a_text_layer_without_letters(bad):
    page = pdfium.PdfDocument(str(bad["garbage_text.pdf"]))[0]
    text = page.get_textpage().get_text_range()
    with pdfplumber.open(bad["garbage_text.pdf"]) as pdf:
        plumber_text = pdf.pages[0].extract_text()
    for extracted in (text, plumber_text):
        visible = [ch for ch in extracted if not ch.isspace()]
        assert len(visible) > 500
        assert sum(ch.isalpha() for ch in visible) < 0.05 * len(visible)
    # The page itself is not blank: there is dark text to OCR.
    image = page.render(scale=1).to_pil().convert("L")
    assert image.getextrema()[0] < 100


def test_long_pdf_has_500_pages_with_header_and_footer(bad):
    pdf = pdfium.PdfDocument(str(bad["long500.pdf"]))
    assert len(pdf) == 500
    text = pdf[249].get_textpage().get_text_range()
    assert "Verzuimprotocol Scholengroep Lange Adem" in text and "Pagina 250 van 500" in text
