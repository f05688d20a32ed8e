"""Shared fixtures: the labelled corpus rendered to real files, once per test session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import bad_inputs  # noqa: E402
import render_corpus  # noqa: E402

SEED = REPO / "corpora" / "seed"
#: Documents OCR'd in the tests (OCR costs seconds per page): a po protocol with a
#: table, a vo page with lists and a table, a web page.
OCR_IDS = ("po-03", "vo-02", "web-07")


@pytest.fixture(scope="session")
def corpus_docs() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SEED.glob("*.json"))}


@pytest.fixture(scope="session")
def rendered_corpus(tmp_path_factory) -> Path:
    """Every seed document as <id>.docx, <id>.pdf and <id>.pages.json."""
    out = tmp_path_factory.mktemp("corpus")
    render_corpus.render_corpus(SEED, out, formats=("docx", "pdf"))
    return out


@pytest.fixture(scope="session")
def scanned_corpus(rendered_corpus, tmp_path_factory) -> Path:
    """Image-only PDFs (300 dpi, with noise) of a few documents."""
    out = tmp_path_factory.mktemp("scans")
    for doc_id in OCR_IDS:
        render_corpus.render_scanned_pdf(rendered_corpus / f"{doc_id}.pdf", out / f"{doc_id}.scan.pdf", dpi=300)
    return out


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    return bad_inputs.make_bad_inputs(tmp_path_factory.mktemp("bad"))
