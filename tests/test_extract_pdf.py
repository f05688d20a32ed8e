"""PDF extraction on the rendered labelled corpus, scanned pages, and bad input."""

from __future__ import annotations

import json

import pytest

from protocolscan import api
from protocolscan.extract import ExtractOptions, ocr
from protocolscan.extract.layout import join_hyphenated
from protocolscan.extract.pdf import text_is_garbage
from protocolscan.model import ExtractionError, NeedsOCRError
from protocolscan.recovery import Recovery, recover

from conftest import OCR_IDS

needs_tesseract = pytest.mark.skipif(not ocr.available("nld"), reason="Tesseract met Nederlandse data ontbreekt")


def gold_pairs(doc: dict) -> list[tuple[str, str]]:
    return [(p["kind"], p["text"]) for p in doc["passages"]]


def got_pairs(doc) -> list[tuple[str, str]]:
    return [(p.kind, p.text) for p in doc.passages]


@pytest.fixture(scope="module")
def pdf_results(rendered_corpus, corpus_docs):
    results = {}
    for doc_id, gold in corpus_docs.items():
        got = api.read(rendered_corpus / f"{doc_id}.pdf")
        results[doc_id] = (gold, got)
    return results


def test_text_pdfs_recover_99_percent_of_passages_in_order(pdf_results):
    total = Recovery()
    for gold, got in pdf_results.values():
        total.add(recover(gold_pairs(gold), got_pairs(got), threshold=0.95))
    assert total.total > 2500
    assert total.rate >= 0.99, total.misses[:10]


def test_headings_lists_and_table_rows_keep_their_kind(pdf_results):
    checked = {"heading": [0, 0], "tr": [0, 0], "item": [0, 0]}
    for gold, got in pdf_results.values():
        by_text = {}
        for p in got.passages:
            by_text.setdefault(p.text, p)
        for g in gold["passages"]:
            p = by_text.get(g["text"])
            if p is None:
                continue
            group = "heading" if g["kind"].startswith("h") else "tr" if g["kind"] == "tr" else \
                "item" if g["kind"] in ("li", "ol") else None
            if group is None:
                continue
            checked[group][0] += 1
            if group == "heading":
                checked[group][1] += p.is_heading
            elif group == "tr":
                checked[group][1] += p.kind == "tr" and p.cells == g["cells"]
            else:
                checked[group][1] += p.kind == g["kind"]
    for group, (n, ok) in checked.items():
        assert n > 200, group
        assert ok / n >= 0.98, (group, ok, n)


def test_heading_levels_follow_the_font_sizes(pdf_results):
    gold, got = pdf_results["po-01"]
    gold_levels = {p["text"]: p["kind"] for p in gold["passages"] if p["kind"].startswith("h")}
    found = [(gold_levels[p.text], p.kind) for p in got.passages if p.text in gold_levels]
    assert len(found) >= 0.95 * len(gold_levels)
    assert sum(a == b for a, b in found) / len(found) >= 0.95


def test_passages_carry_their_page_and_heading_path(pdf_results, rendered_corpus):
    right = total = 0
    for doc_id, (gold, got) in pdf_results.items():
        pages = json.loads((rendered_corpus / f"{doc_id}.pages.json").read_text())
        by_text = {p.text: p for p in got.passages}
        for g, page in zip(gold["passages"], pages):
            p = by_text.get(g["text"])
            if p is not None:
                total += 1
                right += p.page == page
    assert right / total >= 0.98
    gold, got = pdf_results["po-03"]
    item = next(p for p in got.passages if p.text.startswith("Iedere ochtend staan de leerkrachten"))
    assert item.heading_path == ["Samen voor aanwezigheid", "Laag 1: aanwezigheid bevorderen"]


def test_running_headers_footers_and_page_numbers_are_not_body_text(pdf_results):
    for gold, got in pdf_results.values():
        texts = [p.text for p in got.passages]
        assert not any(t.startswith("Pagina ") and " van " in t and len(t) < 20 for t in texts)
        if got.pages and got.pages > 2:
            assert texts.count(gold["title"]) <= 1, gold["id"]


def test_offsets_point_into_the_document_text(pdf_results):
    _, got = pdf_results["vo-01"]
    for p in got.passages:
        assert got.text[p.start:p.end] == p.text


def test_end_of_line_hyphenation_is_undone_but_real_hyphens_stay(pdf_results):
    joined = " ".join(p.text for _, got in pdf_results.values() for p in got.passages)
    gold = " ".join(p["text"] for g, _ in pdf_results.values() for p in g["passages"])
    for word in ("verzuimcoördinator", "leerplichtambtenaar", "schoolmaatschappelijk"):
        assert joined.count(word) >= 0.97 * gold.count(word) > 0, word
    for word in ("3-6-9-12", "DUO-verzuimloket", "Parro-app"):
        if word in gold:
            assert joined.count(word) >= gold.count(word) > 0, word


@pytest.mark.parametrize("left, right, expected", [
    ("het verzuimaan-", "pak van de school", "het verzuimaanpak van de school"),
    ("een vo-", "school in de regio", "een vo-school in de regio"),
    ("de regeling 3-6-", "9-12 geldt", "de regeling 3-6-9-12 geldt"),
    ("via de Parro-", "app of telefonisch", "via de Parro-app of telefonisch"),
    ("bij het DUO-", "verzuimloket", "bij het DUO-verzuimloket"),
    ("de zee-", "egel", "de zee-egel"),
    ("de leer\u00ad", "plicht", "de leerplicht"),
    ("gewoon", "verder", "gewoon verder"),
])
def test_join_hyphenated(left, right, expected):
    assert join_hyphenated(left, right) == expected


def test_document_vocabulary_decides_hyphens():
    assert join_hyphenated("het zorg-", "adviesteam", {"zorgadviesteam"}) == "het zorgadviesteam"
    assert join_hyphenated("het zorg-", "adviesteam", {"zorg-adviesteam"}) == "het zorg-adviesteam"


def test_pdfplumber_engine_reads_the_same_passages(rendered_corpus, corpus_docs):
    options = ExtractOptions(pdf_engine="pdfplumber")
    total = Recovery()
    for doc_id in ("po-01", "vo-01", "web-05"):
        got = api.read(rendered_corpus / f"{doc_id}.pdf", options)
        total.add(recover(gold_pairs(corpus_docs[doc_id]), got_pairs(got), threshold=0.95))
    assert total.rate >= 0.97, total.misses[:5]


# ---------------------------------------------------------------- OCR

@needs_tesseract
@pytest.mark.ocr
@pytest.mark.slow
def test_scanned_pdfs_are_ocrd_and_recover_90_percent(scanned_corpus, corpus_docs):
    total = Recovery()
    for doc_id in OCR_IDS:
        got = api.read(scanned_corpus / f"{doc_id}.scan.pdf")
        assert got.ocr_pages == list(range(1, got.pages + 1))
        assert all(p.ocr for p in got.passages)
        total.add(recover(gold_pairs(corpus_docs[doc_id]), got_pairs(got), threshold=0.95))
    assert total.rate >= 0.90, (total.rate, total.misses[:10])


def test_scanned_pdf_without_tesseract_names_file_and_what_to_install(scanned_corpus, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda language="nld": False)
    path = scanned_corpus / f"{OCR_IDS[0]}.scan.pdf"
    with pytest.raises(NeedsOCRError) as err:
        api.read(path)
    assert str(path) in str(err.value)
    assert "tesseract-ocr-nld" in str(err.value)


def test_scanned_pdf_with_ocr_never_is_an_error_naming_the_file(scanned_corpus):
    path = scanned_corpus / f"{OCR_IDS[0]}.scan.pdf"
    with pytest.raises(ExtractionError) as err:
        api.read(path, ExtractOptions(ocr="never"))
    assert str(path) in str(err.value) and "geen tekst" in str(err.value)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("name, reason", [
    ("empty.pdf", "leeg"),
    ("truncated.pdf", "beschadigd"),
    ("random.pdf", "geen geldig PDF"),
    ("encrypted.pdf", "wachtwoord"),
    ("notzip.docx", "geen geldig DOCX"),
    ("zipbomb.docx", "zip-bom"),
    ("unsupported.xyz", "niet ondersteund"),
])
def test_bad_input_gets_a_clear_error_naming_the_file(bad_files, name, reason):
    with pytest.raises(ExtractionError) as err:
        api.read(bad_files[name])
    message = str(err.value)
    assert str(bad_files[name]) in message
    assert reason in message


def test_garbage_text_layer_is_treated_as_scanned(bad_files, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda language="nld": False)
    with pytest.raises(NeedsOCRError):
        api.read(bad_files["garbage_text.pdf"])


@needs_tesseract
@pytest.mark.ocr
def test_garbage_text_layer_is_ocrd(bad_files):
    doc = api.read(bad_files["garbage_text.pdf"])
    assert doc.ocr_pages == [1]
    assert "ziek" in doc.text.lower()


def test_text_quality_check():
    assert text_is_garbage("(cid:12)(cid:13)(cid:14) (cid:15)(cid:16)(cid:17)(cid:18)(cid:19)(cid:20)")
    assert text_is_garbage("\ue001\ue002\ue003 \ue004\ue005\ue006\ue007 \ue008\ue009\ue00a\ue00b\ue00c")
    assert text_is_garbage("bcdfg hjklm npqrst vwxz bcdfg hjklm npqrst")
    assert not text_is_garbage("Ouders melden hun kind vóór 8.30 uur ziek bij de administratie van de school.")


def test_500_page_pdf_is_read_page_by_page(bad_files):
    doc = api.read(bad_files["long500.pdf"])
    assert doc.pages == 500
    assert {p.page for p in doc.passages} >= set(range(1, 501, 50))
