"""Batch runs into the SQLite store: manifest parsing, statuses, incremental
re-runs, version-triggered re-coding, parallel workers and resume after kill -9.

The documents are real DOCX files rendered from the labelled corpus; the tagger is
a small model trained on a few labelled documents (the shipped model may be in flux).
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import protocolscan
from protocolscan import batch
from protocolscan.corpus import manifest
from protocolscan.corpus.manifest import ManifestError

REPO = Path(__file__).resolve().parents[1]
IDS = ("po-01", "vo-02", "so-01", "regio-01", "web-01")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A copy of the shipped model when it loads, else a model trained on four
    labelled documents (the tests only need some tagger, not a good one)."""
    from protocolscan import learn
    from protocolscan.tagging.tagger import Tagger

    out = tmp_path_factory.mktemp("model")
    try:
        learn.load_tagger()
        return Path(shutil.copy(learn.DEFAULT_MODEL, out / "shipped.skops"))
    except Exception:  # no model yet, or one from an older format
        pass
    train_ids = {"po-02", "regio-02", "web-02", "web-03"}
    docs = [d for d in learn.labelled_documents(("seed",)) if d.document.id in train_ids]
    book = learn.load_codebook()
    tagger = Tagger.train(docs, book, learn.load_rules(None, book), seed=7)
    return tagger.save(out / "tiny.skops")


@pytest.fixture(scope="module")
def docx_dir(tmp_path_factory) -> Path:
    import render_corpus

    out = tmp_path_factory.mktemp("docx")
    render_corpus.render_corpus(REPO / "corpora" / "seed", out, formats=("docx",), ids=list(IDS))
    for extra in out.glob("*.json"):
        extra.unlink()
    return out


def write_manifest(path: Path, rows: list[list[str]], header=None, delimiter=",") -> Path:
    header = header or ["file", "school_id", "school_name", "sector", "region", "jaar"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture()
def corpus(tmp_path, docx_dir) -> Path:
    """A manifest with five DOCX files of four schools, a broken PDF and a scan."""
    files = tmp_path / "bestanden"
    files.mkdir()
    for doc_id in IDS:
        shutil.copy(docx_dir / f"{doc_id}.docx", files / f"{doc_id}.docx")
    (files / "kapot.pdf").write_bytes(b"%PDF-1.4\nniet echt\n")
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), "white")
    ImageDraw.Draw(image).text((50, 50), "Verzuimprotocol", fill="black")
    image.save(files / "scan.pdf")
    return write_manifest(tmp_path / "manifest.csv", [
        ["bestanden/po-01.docx", "S1", "OBS De Wilgenhoek", "po", "Noord", "2025"],
        ["bestanden/web-01.docx", "S1", "OBS De Wilgenhoek", "po", "Noord", "2024"],
        ["bestanden/vo-02.docx", "S2", "Het College", "vo", "Zuid", "2025"],
        ["bestanden/so-01.docx", "S3", "De Regenboog", "so", "Zuid", "2025"],
        ["bestanden/regio-01.docx", "S4", "RBL Veenland", "regio", "Noord", "2025"],
        ["bestanden/kapot.pdf", "S5", "De Schakel", "po", "Noord", "2025"],
        ["bestanden/scan.pdf", "S6", "De Horizon", "vo", "Zuid", "2025"],
    ])


def no_ocr(monkeypatch):
    import protocolscan.extract.ocr as ocr

    monkeypatch.setattr(ocr, "available", lambda *a, **k: False)


def rows(db: Path, sql: str, args=()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def coding_set(db: Path, coder: str = "protocolscan") -> set[tuple]:
    return set(rows(db, "SELECT d.path, p.n, c.code FROM codings c JOIN passages p ON p.id=c.passage_id"
                        " JOIN documents d ON d.id=p.document_id WHERE c.coder=?", (coder,)))


# ----------------------------------------------------------------------- manifest
def test_manifest_keeps_metadata_and_shared_schools(tmp_path, docx_dir):
    shutil.copy(docx_dir / "po-01.docx", tmp_path / "a.docx")
    (tmp_path / "sub").mkdir()
    shutil.copy(docx_dir / "web-01.docx", tmp_path / "sub" / "b.docx")
    path = write_manifest(tmp_path / "m.csv", [
        ["a.docx", "S1", "School Een", "PO", "Noord", "2025"],
        ["sub/b.docx", "S1", "School Een", "po", "Noord", "2024"],
        ["c.docx", "S2", "De Lichtboei", "SO/VSO", "", ""],
    ], delimiter=";")
    shutil.copy(docx_dir / "so-01.docx", tmp_path / "c.docx")
    entries = manifest.load_entries(path)
    assert [(e.key, e.school_id, e.sector, e.metadata) for e in entries] == [
        ("a.docx", "S1", "po", {"jaar": "2025"}), ("sub/b.docx", "S1", "po", {"jaar": "2024"}),
        ("c.docx", "S2", "so,vso", {"jaar": ""})]
    assert entries[1].file == (tmp_path / "sub" / "b.docx").resolve()


def test_manifest_bad_rows_are_named(tmp_path, docx_dir):
    shutil.copy(docx_dir / "po-01.docx", tmp_path / "a.docx")
    path = write_manifest(tmp_path / "m.csv", [
        ["a.docx", "S1", "School Een", "po", "Noord", ""],
        ["a.docx", "S1", "School Een", "po", "Noord", ""],       # row 3: same file again
        ["weg.docx", "S2", "School Twee", "po", "Noord", ""],    # row 4: missing file
        ["a.docx", "S3", "School Drie", "mbo", "Noord", ""],     # row 5: unknown sector
        ["", "S4", "School Vier", "po", "Noord", ""],            # row 6: empty file
        ["a.docx", "S5", "te weinig"],                           # row 7: short row
    ])
    with pytest.raises(ManifestError) as info:
        manifest.load_entries(path)
    message = str(info.value)
    assert "5 fout(en)" in message
    for expected in ("rij 3: bestand 'a.docx' staat ook al in rij 2", "rij 4: bestand 'weg.docx' niet gevonden",
                     "rij 5: onbekende sector 'mbo'", "rij 6: kolom 'file' is leeg", "rij 7: 3 kolommen"):
        assert expected in message


def test_manifest_missing_column_and_conflicting_school(tmp_path, docx_dir):
    shutil.copy(docx_dir / "po-01.docx", tmp_path / "a.docx")
    shutil.copy(docx_dir / "vo-02.docx", tmp_path / "b.docx")
    bad_header = write_manifest(tmp_path / "h.csv", [["a.docx", "S1", "po"]],
                                header=["file", "school_id", "sector"])
    with pytest.raises(ManifestError, match="kolom\\(men\\) ontbreken in de kopregel: school_name, region"):
        manifest.load_entries(bad_header)
    conflict = write_manifest(tmp_path / "c.csv", [["a.docx", "S1", "Een", "po", "", ""],
                                                   ["b.docx", "S1", "Andere naam", "po", "", ""]])
    with pytest.raises(ManifestError, match="rij 3: school 'S1' heeft hier een andere naam of sector dan in rij 2"):
        manifest.load_entries(conflict)


def test_folder_entries_use_subfolder_as_school(tmp_path, docx_dir):
    shutil.copy(docx_dir / "po-01.docx", tmp_path / "los.docx")
    (tmp_path / "school-x").mkdir()
    shutil.copy(docx_dir / "vo-02.docx", tmp_path / "school-x" / "protocol.docx")
    (tmp_path / "notities.xyz").write_text("geen protocol")
    entries = manifest.load_entries(tmp_path)
    assert [(e.key, e.school_id) for e in entries] == [("los.docx", "los"), ("school-x/protocol.docx", "school-x")]
    with pytest.raises(ManifestError, match="niet gevonden"):
        manifest.load_entries(tmp_path / "bestaat-niet")


# -------------------------------------------------------------------------- batch
def test_batch_statuses_incremental_and_version_recoding(corpus, tmp_path, tiny_model, monkeypatch):
    no_ocr(monkeypatch)
    db = tmp_path / "results.sqlite"
    first = batch.run_batch(corpus, db, jobs=1, model=tiny_model, progress=False)
    assert first.counts() == {"files": 7, "ok": 5, "error": 1, "needs_ocr": 1, "skipped": 0}
    text = first.to_text()
    assert text.startswith("7 bestand(en): 5 gecodeerd, 0 ongewijzigd overgeslagen, 1 met fout, 1 hebben OCR nodig")
    assert "OCR NODIG:" in text and "scan.pdf" in text and "FOUT:" in text and "kapot.pdf" in text
    status = dict(rows(db, "SELECT path, status FROM documents"))
    assert status["bestanden/kapot.pdf"] == "error" and status["bestanden/scan.pdf"] == "needs_ocr"
    error = rows(db, "SELECT error FROM documents WHERE path='bestanden/kapot.pdf'")[0][0]
    assert "kapot.pdf" in error
    # Every ok document is complete: passages, codings, one verdict per requirement, level.
    for path, n_passages, level, sector in rows(db, "SELECT path, n_passages, level, sector FROM documents"
                                                    " WHERE status='ok'"):
        assert n_passages > 10 and level in ("niveau.school", "niveau.regionaal")
        assert rows(db, "SELECT COUNT(*) FROM passages p JOIN documents d ON d.id=p.document_id WHERE d.path=?",
                    (path,))[0][0] == n_passages
    assert rows(db, "SELECT sector FROM documents WHERE path='bestanden/vo-02.docx'")[0][0] == "vo"
    assert rows(db, "SELECT metadata FROM documents WHERE path='bestanden/web-01.docx'")[0][0] == '{"jaar": "2024"}'
    codings = coding_set(db)
    assert len(codings) > 100

    # Unchanged files are skipped, also the broken one; the scan is tried again
    # (OCR may have been installed in between).
    again = batch.run_batch(corpus, db, jobs=1, model=tiny_model, progress=False)
    assert again.counts() == {"files": 7, "ok": 0, "error": 0, "needs_ocr": 1, "skipped": 6}

    # A changed file is the only one processed again.
    changed = corpus.parent / "bestanden" / "web-01.docx"
    shutil.copy(corpus.parent / "bestanden" / "so-01.docx", changed)
    third = batch.run_batch(corpus, db, jobs=1, model=tiny_model, progress=False)
    assert (third.ok, third.needs_ocr, third.skipped) == (1, 1, 5)
    assert rows(db, "SELECT title FROM documents WHERE path='bestanden/web-01.docx'") == \
        rows(db, "SELECT title FROM documents WHERE path='bestanden/so-01.docx'")

    # A new protocolscan (or codebook/model/catalogue) version re-codes everything.
    monkeypatch.setattr(protocolscan, "__version__", "99.0")
    fourth = batch.run_batch(corpus, db, jobs=1, model=tiny_model, progress=False)
    assert (fourth.ok, fourth.error, fourth.needs_ocr, fourth.skipped) == (5, 1, 1, 0)
    assert {r[0] for r in rows(db, "SELECT run_id FROM documents")} == {fourth.run_id}
    assert '"protocolscan": "99.0"' in rows(db, "SELECT versions FROM runs WHERE id=?", (fourth.run_id,))[0][0]
    # No duplicates after four runs.
    assert rows(db, "SELECT COUNT(*) FROM documents") == [(7,)]
    assert rows(db, "SELECT SUM(n_passages) FROM documents") == rows(db, "SELECT COUNT(*) FROM passages")
    assert rows(db, "SELECT status FROM runs ORDER BY id") == [("finished",)] * 4


def test_new_model_triggers_recoding(corpus, tmp_path, tiny_model, monkeypatch):
    no_ocr(monkeypatch)
    db = tmp_path / "results.sqlite"
    batch.run_batch(corpus, db, model=tiny_model, progress=False)
    other = tmp_path / "other.skops"
    shutil.copy(tiny_model, other)
    assert batch.run_batch(corpus, db, model=other, progress=False).skipped == 6  # same bytes (scan retried)
    with open(other, "ab") as fh:
        fh.write(b"\0")  # a different model file (zip readers ignore trailing bytes)
    assert batch.pipeline_versions(other)["model"] != batch.pipeline_versions(tiny_model)["model"]
    assert batch.run_batch(corpus, db, model=other, progress=False).ok == 5


def test_parallel_run_stores_the_same_as_serial(corpus, tmp_path, tiny_model, monkeypatch):
    no_ocr(monkeypatch)
    serial, parallel = tmp_path / "serial.sqlite", tmp_path / "parallel.sqlite"
    batch.run_batch(corpus, serial, jobs=1, model=tiny_model, progress=False)
    summary = batch.run_batch(corpus, parallel, jobs=2, model=tiny_model, progress=False)
    assert (summary.ok, summary.error) == (5, 1)
    assert coding_set(serial) == coding_set(parallel)
    query = "SELECT d.path, v.requirement, v.verdict FROM verdicts v JOIN documents d ON d.id=v.document_id"
    assert set(rows(serial, query)) == set(rows(parallel, query))


def test_a_crashing_worker_costs_only_its_file(corpus, tmp_path, tiny_model, monkeypatch):
    """A worker that dies (as in a crash of a native library) on one file: that
    file is stored as an error, every other file is processed."""
    no_ocr(monkeypatch)
    parent = os.getpid()
    real = batch.process_file

    def crash_on_so01(task):
        if os.getpid() != parent and task["key"].endswith("so-01.docx"):
            os._exit(1)
        return real(task)

    # Pickled by name as protocolscan.batch.process_file; forked workers inherit the patch.
    crash_on_so01.__module__, crash_on_so01.__qualname__ = "protocolscan.batch", "process_file"
    monkeypatch.setattr(batch, "process_file", crash_on_so01)
    db = tmp_path / "r.sqlite"
    summary = batch.run_batch(corpus, db, jobs=2, model=tiny_model, progress=False)
    assert (summary.ok, summary.error, summary.needs_ocr) == (4, 2, 1)
    status, error = rows(db, "SELECT status, error FROM documents WHERE path='bestanden/so-01.docx'")[0]
    assert status == "error" and "vastgelopen" in error and "so-01.docx" in error
    assert rows(db, "SELECT COUNT(*) FROM documents WHERE status='ok'") == [(4,)]


def test_resume_after_kill(tmp_path, docx_dir, tiny_model):
    files = tmp_path / "f"
    files.mkdir()
    entries = []
    for copy in range(4):
        for doc_id in IDS:
            name = f"{doc_id}-{copy}.docx"
            shutil.copy(docx_dir / f"{doc_id}.docx", files / name)
            entries.append([f"f/{name}", f"S{copy}{doc_id}", doc_id, "", "", ""])
    path = write_manifest(tmp_path / "m.csv", entries)
    db = tmp_path / "r.sqlite"
    code = (f"from protocolscan import batch; batch.run_batch({str(path)!r}, {str(db)!r}, jobs=1, "
            f"model={str(tiny_model)!r}, progress=False)")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                stored = rows(db, "SELECT COUNT(*) FROM documents")[0][0]
            except sqlite3.OperationalError:
                stored = 0
            if stored >= 2:
                break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    before = rows(db, "SELECT COUNT(*) FROM documents")[0][0]
    assert 2 <= before < 20
    # Whatever was stored is whole: every stored document has all its passages and verdicts.
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    for doc_id, n in rows(db, "SELECT id, n_passages FROM documents"):
        assert rows(db, "SELECT COUNT(*) FROM passages WHERE document_id=?", (doc_id,))[0][0] == n
        assert rows(db, "SELECT COUNT(*) FROM verdicts WHERE document_id=?", (doc_id,))[0][0] > 0
    assert rows(db, "SELECT status FROM runs") == [("running",)]

    summary = batch.run_batch(path, db, jobs=1, model=tiny_model, progress=False)
    assert (summary.skipped, summary.ok) == (before, 20 - before)
    assert rows(db, "SELECT COUNT(*) FROM documents WHERE status='ok'") == [(20,)]
    assert rows(db, "SELECT SUM(n_passages) FROM documents") == rows(db, "SELECT COUNT(*) FROM passages")
    assert rows(db, "SELECT status FROM runs ORDER BY id") == [("interrupted",), ("finished",)]
    # The four copies of a document got the same coding.
    per_copy = {}
    for path_, n, code_ in coding_set(db):
        doc_id, copy = path_[2:].rsplit("-", 1)
        per_copy.setdefault(copy, set()).add((doc_id, n, code_))
    assert len({frozenset(v) for v in per_copy.values()}) == 1


def test_dask_executor_matches_local_run(corpus, tmp_path, tiny_model):
    """The same batch on a Dask LocalCluster (reached by its scheduler address) stores
    the same documents, codings, verdicts and error messages as a local run."""
    distributed = pytest.importorskip("distributed")
    local, remote = tmp_path / "local.sqlite", tmp_path / "dask.sqlite"
    # ocr="never": the scan is an error in both runs, whatever the workers have installed.
    batch.run_batch(corpus, local, jobs=1, model=tiny_model, progress=False, ocr="never")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        summary = batch.run_batch(corpus, remote, model=tiny_model, progress=False, ocr="never",
                                  executor="dask", scheduler=cluster.scheduler_address)
    assert summary.counts() == {"files": 7, "ok": 5, "error": 2, "needs_ocr": 0, "skipped": 0}
    assert coding_set(local) == coding_set(remote)
    query = "SELECT path, status, error, n_passages, level, sha256 FROM documents"
    assert set(rows(local, query)) == set(rows(remote, query))
    verdicts = "SELECT d.path, v.requirement, v.verdict FROM verdicts v JOIN documents d ON d.id=v.document_id"
    assert set(rows(local, verdicts)) == set(rows(remote, verdicts))


def test_unknown_executor_is_refused(corpus, tmp_path):
    with pytest.raises(batch.BatchError, match="onbekende executor 'spark'"):
        batch.run_batch(corpus, tmp_path / "x.sqlite", executor="spark", progress=False)
