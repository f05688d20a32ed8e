"""The ``protocolscan extract`` command: formats, output file, exit codes, bad files."""

from __future__ import annotations

import json

from click.testing import CliRunner

from protocolscan.cli import main


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_jsonl_has_one_record_per_passage_with_the_documented_fields(rendered_corpus, corpus_docs):
    result = run("extract", rendered_corpus / "po-02.pdf")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) >= len(corpus_docs["po-02"]["passages"])
    for key in ("doc", "n", "kind", "text", "page", "heading_path", "start", "end"):
        assert key in records[0]
    assert [r["n"] for r in records] == list(range(len(records)))
    assert records[0]["doc"] == "po-02"


def test_text_format_and_output_file(rendered_corpus, tmp_path):
    out = tmp_path / "sub" / "po-02.txt"
    result = run("extract", rendered_corpus / "po-02.docx", "--format", "text", "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("== ") and "docx" in text.splitlines()[0]
    assert not list(out.parent.glob(".*.tmp")), "no temporary file left behind"


def test_bad_file_among_good_ones_is_reported_and_the_rest_is_processed(rendered_corpus, bad_files):
    result = run("extract", bad_files["encrypted.pdf"], rendered_corpus / "web-01.pdf", bad_files["empty.pdf"])
    assert result.exit_code == 1
    assert "encrypted.pdf" in result.stderr and "wachtwoord" in result.stderr
    assert "empty.pdf" in result.stderr and "leeg" in result.stderr
    docs = {json.loads(line)["doc"] for line in result.stdout.splitlines()}
    assert docs == {"web-01"}


def test_single_bad_file_exits_non_zero_and_writes_no_output_file(bad_files, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run("extract", bad_files["random.pdf"], "-o", out)
    assert result.exit_code != 0
    assert "random.pdf" in result.stderr
    assert not out.exists() or out.read_text() == ""


def test_missing_file_is_a_clear_error(tmp_path):
    result = run("extract", tmp_path / "bestaat-niet.pdf")
    assert result.exit_code != 0
    assert "bestaat-niet.pdf" in result.stderr and "bestaat niet" in result.stderr
