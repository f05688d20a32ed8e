#!/usr/bin/env python3
"""Batch throughput: ``-j 2`` vs ``-j 1``, and a re-run of an unchanged corpus vs the
first run, on the labelled corpus rendered to real DOCX/PDF files. One run, ratios.

    python benchmarks/batch.py                       # 60 documents x docx,pdf = 120 files
    python benchmarks/batch.py --copies 9            # ~1,000 files (copies get other bytes)
    python benchmarks/batch.py --formats docx --model /tmp/tiny.skops

Targets (issue 5): -j 2 >= 1.8x -j 1 on a 2-core machine; a re-run of an unchanged
corpus >= 50x faster than the first run; memory flat in the number of documents
(peak RSS of the parent and the largest worker, for 1/8 of the files and for all).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "src"))

import render_corpus  # noqa: E402


def make_corpus(out: Path, formats: tuple[str, ...], copies: int, ids: list[str] | None) -> int:
    rendered = out / "rendered"
    render_corpus.render_corpus(REPO / "corpora" / "seed", rendered, formats=formats, ids=ids)
    files = [p for p in sorted(rendered.iterdir()) if p.suffix in (".docx", ".pdf")]
    corpus = out / "corpus"
    corpus.mkdir()
    for copy in range(copies):
        for f in files:
            target = corpus / f"{f.stem}-{copy}{f.suffix}"
            shutil.copy(f, target)
            if copy:
                # Different bytes, same content: a copy is a new file for the hash.
                with open(target, "ab") as fh:
                    fh.write(b"\n" * copy)
    return len(files) * copies


def timed_run(corpus: Path, db: Path, jobs: int, model: str | None) -> tuple[float, dict]:
    """Wall time of a batch run in a fresh Python process (imports and model loading
    included, as for ``protocolscan batch``); returns the time and the run's counts."""
    code = ("import json, resource, sys; from protocolscan import batch; "
            f"s = batch.run_batch({str(corpus)!r}, {str(db)!r}, jobs={jobs}, model={model!r}, progress=False); "
            "c = s.counts(); c['rss_parent_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
            "c['rss_worker_mb'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
            "print(json.dumps(c))")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    return time.perf_counter() - start, json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formats", default="docx,pdf")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--ids", default=None, help="comma-separated document ids (default: all 60)")
    parser.add_argument("--model", default=None, help="tagger model (default: the shipped one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        tmp_path = Path(tmp)
        n = make_corpus(tmp_path, tuple(args.formats.split(",")), args.copies,
                        args.ids.split(",") if args.ids else None)
        corpus = tmp_path / "corpus"
        print(f"corpus: {n} files ({args.formats}, {args.copies} copy/copies)")
        t1, s1 = timed_run(corpus, tmp_path / "j1.sqlite", 1, args.model)
        print(f"-j 1 first run : {t1:7.2f} s  {n / t1:6.2f} files/s  (ok {s1['ok']}, errors {s1['error']}, "
              f"needs OCR {s1['needs_ocr']})")
        t2, s2 = timed_run(corpus, tmp_path / "j2.sqlite", 2, args.model)
        print(f"-j 2 first run : {t2:7.2f} s  {n / t2:6.2f} files/s  (ok {s2['ok']})")
        t3, s3 = timed_run(corpus, tmp_path / "j2.sqlite", 2, args.model)
        print(f"-j 2 re-run    : {t3:7.3f} s  (skipped {s3['skipped']} of {s3['files']})")
        print(f"ratio -j 2 / -j 1 throughput : {t1 / t2:.2f}x  (target >= 1.8x)")
        small = tmp_path / "small"
        small.mkdir()
        for f in sorted(corpus.iterdir())[: max(1, n // 8)]:
            shutil.copy(f, small / f.name)
        _, s4 = timed_run(small, tmp_path / "small.sqlite", 2, args.model)
        print(f"peak memory -j 2, {s4['files']} files: parent {s4['rss_parent_mb']:.0f} MB, worker "
              f"{s4['rss_worker_mb']:.0f} MB; {n} files: parent {s2['rss_parent_mb']:.0f} MB, worker "
              f"{s2['rss_worker_mb']:.0f} MB; ratio {s2['rss_parent_mb'] / s4['rss_parent_mb']:.2f} / "
              f"{s2['rss_worker_mb'] / s4['rss_worker_mb']:.2f} (flat: ~1)")
        print(f"ratio first run / re-run     : {t2 / t3:.0f}x with -j 2, {t1 / t3:.0f}x with -j 1  (target >= 50x)")
        print("(wall times of fresh processes: imports and model loading included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
