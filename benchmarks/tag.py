"""Tagging speed and cold start of the shipped tagger.

    python benchmarks/tag.py [--repeat 3] [--model models/tagger.skops]

1. passages/s of ``Tagger.tag`` (rules + classifier + document level) on the whole
   labelled corpus, in this process, pinned to one core when the OS allows
   (target >= 2,000 passages/s);
2. cold start: wall time of a fresh ``python -c`` process that imports protocolscan,
   loads the tagger and tags one document (target < 2 s); both for a corpus
   document (tagging only) and for a plain-text file read through ``api.read``
   (extraction + segmentation + tagging, as ``protocolscan tag FILE`` does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COLD_TAG_JSON = """
import json, sys
from protocolscan.gold import document_from_json
from protocolscan.learn import load_tagger, tag_document
doc = document_from_json(json.loads(open(sys.argv[1], encoding="utf-8").read()))
tag_document(doc, load_tagger(sys.argv[2]))
assert any(p.tags for p in doc.passages)
"""

COLD_TAG_FILE = """
import sys
from protocolscan import api
from protocolscan.learn import load_tagger, tag_document
doc = api.read(sys.argv[1])
tag_document(doc, load_tagger(sys.argv[2]))
assert any(p.tags for p in doc.passages)
"""


def pin_to_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return "pinned to one core"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def throughput(model: Path, repeat: int) -> tuple[int, list[float]]:
    from protocolscan import learn

    docs = [d.document for d in learn.labelled_documents(("seed", "extra"))]
    tagger = learn.load_tagger(model)
    tagger.tag(docs[0])  # warm the word caches as a long-running process would
    n = sum(len(d.passages) for d in docs)
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for d in docs:
            tagger.tag(d)
        rates.append(n / (time.perf_counter() - start))
    return n, rates


def cold_start(script: str, args: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, *args], check=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return times


def sample_text_file(folder: Path) -> Path:
    """A plain-text protocol page made from a corpus document."""
    import json

    data = json.loads((REPO / "corpora" / "seed" / "web-05.json").read_text(encoding="utf-8"))
    path = folder / "verzuim.txt"
    path.write_text("\n\n".join(p["text"] for p in data["passages"]) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "tagger.skops")
    args = parser.parse_args()
    pinned = pin_to_one_core()
    n, rates = throughput(args.model, args.repeat)
    print(f"tagging: {n} passages, {statistics.median(rates):,.0f} passages/s (median of {args.repeat}; "
          f"{pinned}; target >= 2,000)")
    sample = REPO / "corpora" / "seed" / "web-05.json"
    times = cold_start(COLD_TAG_JSON, [str(sample), str(args.model)], args.repeat)
    print(f"cold start, load tagger + tag one corpus document: {statistics.median(times):.2f} s "
          f"(median of {args.repeat}; target < 2 s)")
    with tempfile.TemporaryDirectory() as tmp:
        text_file = sample_text_file(Path(tmp))
        times = cold_start(COLD_TAG_FILE, [str(text_file), str(args.model)], args.repeat)
    print(f"cold start, read TXT + segment + load tagger + tag: {statistics.median(times):.2f} s "
          f"(median of {args.repeat})")


if __name__ == "__main__":
    main()
