"""Benchmark: score and render a 30-page protocol to HTML (target: < 3 s on one core).

The protocol is built from labelled corpus passages (with their gold codes, as a
tagger would give them): the full protocols of the seed set, repeated until there
are about 13 passages per page for 30 pages. Run:

    python benchmarks/scan.py [--pages 30] [--repeat 5]

Reports the best and median wall time of scoring + HTML rendering (tagging and
extraction are benchmarked by their own stages).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# One core, as the target says (BLAS threads would not matter here, but be explicit).
os.environ.setdefault("OMP_NUM_THREADS", "1")

from protocolscan import audit  # noqa: E402
from protocolscan.gold import load_gold  # noqa: E402
from protocolscan.model import Document, Passage, Tag  # noqa: E402

PASSAGES_PER_PAGE = 13


def build_protocol(pages: int) -> Document:
    """A long protocol from corpus passages, numbered in order, pages assigned."""
    source = [g for g in load_gold("seed") if not g.id.startswith("web-")]
    wanted = pages * PASSAGES_PER_PAGE
    passages: list[Passage] = []
    while len(passages) < wanted:
        for g in source:
            for p, codes in zip(g.document.passages, g.codes):
                if len(passages) == wanted:
                    break
                n = len(passages) + 1
                passages.append(Passage(n=n, kind=p.kind, text=p.text, page=1 + (n - 1) // PASSAGES_PER_PAGE,
                                        heading_path=list(p.heading_path), cells=p.cells,
                                        tags=[Tag(c, 1.0, "gold") for c in codes]))
    return Document(id="bench", title="Verzuimprotocol basisschool De Benchmark", pages=pages,
                    passages=passages, text="\n\n".join(p.text for p in passages))


def clear_text_caches() -> None:
    """Per-text caches would flatter repeated runs on the same passages."""
    from protocolscan.scoring import facts

    for fn in (facts.normalize, facts.extract_facts, facts.parties_in):
        fn.cache_clear()


def run_once(pages: int) -> tuple[float, int]:
    doc = build_protocol(pages)  # fresh copy: scoring writes verdicts onto it
    clear_text_caches()
    start = time.perf_counter()
    audit.score_document(doc, peildatum="2026-11-24")
    html = audit.render_report(doc, "html")
    return time.perf_counter() - start, len(html)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    # The first run pays for loading YAML and compiling patterns and templates, as
    # one CLI call would; report it separately. Later runs keep those (a server
    # would) but not the per-text caches.
    cold, size = run_once(args.pages)
    times = [run_once(args.pages)[0] for _ in range(args.repeat)]
    print(f"{args.pages} pagina's ({args.pages * PASSAGES_PER_PAGE} passages), scoren + HTML ({size // 1024} kB):")
    print(f"  eerste keer (koud): {cold:.2f} s")
    print(f"  daarna: beste {min(times):.2f} s, mediaan {statistics.median(times):.2f} s over {args.repeat} keer")
    print(f"  doel < 3 s: {'gehaald' if cold < 3 else 'NIET gehaald'}")


if __name__ == "__main__":
    main()
