"""DOCX extraction on the labelled corpus rendered to real Word files."""

from __future__ import annotations

import pytest

import render_corpus
from protocolscan import api
from protocolscan.recovery import Recovery, recover

VARIANT_IDS = ("po-01", "vo-01", "regio-01", "web-12", "so-01")


def pairs(passages) -> list[tuple[str, str]]:
    return [(p["kind"], p["text"]) if isinstance(p, dict) else (p.kind, p.text) for p in passages]


def test_docx_corpus_recovers_99_percent_with_kinds(rendered_corpus, corpus_docs):
    total = Recovery()
    for doc_id, gold in corpus_docs.items():
        got = api.read(rendered_corpus / f"{doc_id}.docx")
        assert got.format == "docx" and got.pages is None
        total.add(recover(pairs(gold["passages"]), pairs(got.passages), threshold=0.95))
    assert total.total > 2500
    assert total.rate >= 0.99, total.misses[:10]
    assert total.kind_matches / total.recovered >= 0.99


@pytest.mark.parametrize("variant", ["bold", "textbox"])
def test_docx_variants_bold_headings_and_text_boxes(tmp_path, corpus_docs, variant):
    total = Recovery()
    for doc_id in VARIANT_IDS:
        path = tmp_path / f"{doc_id}.{variant}.docx"
        render_corpus.render_docx(corpus_docs[doc_id], path, variant=variant)
        got = api.read(path)
        total.add(recover(pairs(corpus_docs[doc_id]["passages"]), pairs(got.passages), threshold=0.95))
    assert total.rate >= 0.99, total.misses[:5]
    assert total.kind_matches / total.recovered >= 0.97


def test_docx_table_rows_stay_rows_and_headers_stay_out(rendered_corpus, corpus_docs):
    gold = corpus_docs["vo-01"]
    got = api.read(rendered_corpus / "vo-01.docx")
    gold_rows = [p["cells"] for p in gold["passages"] if p["kind"] == "tr"]
    got_rows = [p.cells for p in got.passages if p.kind == "tr"]
    assert got_rows == gold_rows
    assert all(not p.text.startswith("Pagina") for p in got.passages)
    item = next(p for p in got.passages if p.kind == "tr")
    assert item.heading_path, "a table row knows the section it stands in"
