#!/usr/bin/env python3
"""Copy the shared labelled corpus into the repository, split into text and labels.

Developer tool, run by hand when ../shared/corpus changes; nothing at run time or
in tests reads ../shared.

    python tools/import_shared_corpus.py ../shared/corpus/docs corpora/seed labels/seed

Each shared document becomes two files with the same id:
- ``corpora/<set>/<id>.json``: the document as a school would send it (title,
  metadata and passages with kind, text and table cells), no human judgement;
- ``labels/<set>/<id>.json``: the human coding (document level, passage codes by
  passage number, requirement verdicts with evidence).
"""
import json
import sys
from pathlib import Path

DOC_KEYS = ("id", "title", "sector", "level", "covers")


def split(doc: dict) -> tuple[dict, dict]:
    text = {k: doc[k] for k in DOC_KEYS}
    text["passages"] = []
    for p in doc["passages"]:
        q = {"n": p["n"], "kind": p["kind"], "text": p["text"]}
        if "cells" in p:
            q["cells"] = p["cells"]
        text["passages"].append(q)
    labels = {
        "id": doc["id"],
        "level": doc["level"],
        "codes": {str(p["n"]): p["codes"] for p in doc["passages"] if p["codes"]},
        "requirements": doc["requirements"],
    }
    return text, labels


def main(src: str, text_dir: str, label_dir: str) -> None:
    for d in (text_dir, label_dir):
        Path(d).mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(src).glob("*.json")):
        text, labels = split(json.loads(path.read_text(encoding="utf-8")))
        for d, obj in ((text_dir, text), (label_dir, labels)):
            Path(d, path.name).write_text(
                json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:4])
