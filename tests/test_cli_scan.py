"""The ``tag``, ``scan``, ``codebook`` and ``requirements`` commands on real files,
through the shipped model and catalogue (end to end, as a user runs them)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

from protocolscan.cli import main
from protocolscan.report import load_schema


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


@pytest.mark.parametrize("suffix", [".pdf", ".docx"])
def test_tag_codes_passages_of_real_files(rendered_corpus, suffix):
    result = run("tag", rendered_corpus / f"po-03{suffix}")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    coded = [r for r in records if r.get("codes")]
    assert len(coded) >= 0.5 * len([r for r in records if not r["kind"].startswith("h")])
    sick = next(r for r in records if "Meld dit dan vóór 8.30 uur" in r["text"])
    assert "procedure.geoorloofd" in sick["codes"]
    assert all(0 <= s <= 1 for r in coded for s in r["scores"].values())


@pytest.mark.parametrize("fmt", ["text", "md"])
def test_tag_text_and_markdown_from_txt_and_md(tmp_path, fmt):
    source = tmp_path / "protocol.md"
    source.write_text("# Verzuimprotocol\n\n## Ziekmelden\n\nOuders melden hun kind vóór 8.30 uur ziek bij de "
                      "administratie, telefonisch of via de app.\n", encoding="utf-8")
    plain = tmp_path / "protocol.txt"
    plain.write_text("Ouders vragen vakantieverlof minstens acht weken van tevoren aan bij de directeur.\n",
                     encoding="utf-8")
    result = run("tag", source, plain, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "procedure.geoorloofd" in result.stdout or "Procedure geoorloofd verzuim" in result.stdout


@pytest.mark.parametrize("suffix", [".pdf", ".docx"])
def test_scan_writes_all_four_formats(rendered_corpus, tmp_path, suffix):
    source = rendered_corpus / f"web-01{suffix}"
    outputs = {}
    for fmt in ("text", "json", "md", "html"):
        out = tmp_path / f"rapport.{fmt}"
        result = run("scan", source, "--format", fmt, "-o", out, "--peildatum", "2026-11-24")
        assert result.exit_code == 0, result.output
        outputs[fmt] = out.read_text(encoding="utf-8")
    report = json.loads(outputs["json"])
    jsonschema.validate(report, load_schema())
    assert "Ziekmelding" in outputs["text"] and "W03" in outputs["md"]
    assert outputs["html"].lstrip().lower().startswith("<!doctype html")
    verdicts = {v["id"]: v["verdict"] for v in report["requirements"]}
    assert verdicts["W03"] == "voldaan"  # the page tells parents how to call in sick
    assert verdicts["W14"] == "nvt"      # a primary school: no RMC duty


def test_scan_protocol_with_annex_as_one_protocol(rendered_corpus):
    single = run("scan", rendered_corpus / "web-01.docx", "--format", "json")
    both = run("scan", rendered_corpus / "web-01.docx", rendered_corpus / "web-02.docx", "--format", "json")
    assert single.exit_code == both.exit_code == 0
    n_single = len(json.loads(single.stdout)["requirements"])
    assert n_single == len(json.loads(both.stdout)["requirements"])
    assert json.loads(both.stdout)["document"]["passages"] > json.loads(single.stdout)["document"]["passages"]


def test_scan_of_unreadable_file_is_a_clear_error(bad_files):
    result = run("scan", bad_files["encrypted.pdf"])
    assert result.exit_code == 1
    assert "encrypted.pdf" in result.stderr and "wachtwoord" in result.stderr


def test_codebook_and_requirements_commands():
    book = run("codebook", "--format", "json")
    assert book.exit_code == 0
    ids = [c["id"] for c in json.loads(book.stdout)["codes"]]
    assert "procedure.verlof" in ids and "rol.wijkteam" in ids
    reqs = run("requirements", "--format", "json")
    assert reqs.exit_code == 0
    assert len(json.loads(reqs.stdout)) == 31
