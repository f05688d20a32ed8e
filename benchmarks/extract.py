"""Extraction speed against plain pdfplumber, text agreement, and memory on long PDFs.

    python benchmarks/extract.py [--repeat 3]

Renders the labelled corpus to text PDFs (tools/render_corpus.py), then in one run:
1. pages/s of ``protocolscan`` extraction (extract + segment) and of plain pdfplumber
   ``page.extract_text()`` on the same PDFs, and their ratio (target >= 20x);
2. text agreement: similarity of our text to pdfplumber's text after folding
   whitespace, per document (target >= 0.99);
3. peak memory of extracting a 50-page and a 500-page PDF in fresh processes, and
   their ratio (flat memory: close to 1).
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from difflib import SequenceMatcher
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import pdfplumber  # noqa: E402

import render_corpus  # noqa: E402
from bad_inputs import long_pdf_bytes  # noqa: E402
from protocolscan import api  # noqa: E402


def plumber_pages(path: Path) -> tuple[int, str]:
    with pdfplumber.open(str(path)) as pdf:
        texts = [page.extract_text() or "" for page in pdf.pages]
    return len(texts), "\n".join(texts)


def ours(path: Path) -> tuple[int, str]:
    doc = api.read(path)
    return doc.pages or 0, doc.text


def timed_pair(funcs, paths: list[Path], repeat: int):
    """Time several engines document by document, interleaved, so that both see the
    same machine load; per engine the fastest of ``repeat`` passes counts."""
    best = [float("inf")] * len(funcs)
    pages = [0] * len(funcs)
    texts: list[dict[Path, str]] = [{} for _ in funcs]
    for _ in range(repeat):
        spent = [0.0] * len(funcs)
        pages = [0] * len(funcs)
        for path in paths:
            for i, func in enumerate(funcs):
                start = time.perf_counter()
                n, text = func(path)
                spent[i] += time.perf_counter() - start
                pages[i] += n
                texts[i][path] = text
        best = [min(b, s) for b, s in zip(best, spent)]
    return best, pages, texts


def folded(text: str) -> str:
    """Words only: whitespace, punctuation, list markers and hyphens folded away, since
    the two engines place line breaks, bullets and table separators differently."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def peak_rss_mb(path: Path) -> float:
    code = ("import resource, sys; from protocolscan import api; api.read(sys.argv[1]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the fastest counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        render_corpus.render_corpus(REPO / "corpora" / "seed", out, formats=("pdf",))
        paths = sorted(out.glob("*.pdf"))
        (t_ours, t_plumber), (pages, pages_plumber), (our_texts, plumber_texts) = \
            timed_pair((ours, plumber_pages), paths, args.repeat)
        assert pages == pages_plumber
        sims = [SequenceMatcher(None, folded(our_texts[p]), folded(plumber_texts[p]), autojunk=False).ratio()
                for p in paths]
        print(f"corpus: {len(paths)} text PDFs, {pages} pages (best of {args.repeat} runs)")
        print(f"protocolscan: {pages / t_ours:8.1f} pages/s  ({t_ours:.2f} s)")
        print(f"pdfplumber:   {pages / t_plumber:8.1f} pages/s  ({t_plumber:.2f} s)")
        print(f"speed ratio protocolscan/pdfplumber: {t_plumber / t_ours:.1f}x  (target >= 20x)")
        print(f"text similarity to pdfplumber (words only; running headers/footers are"
              f" kept by pdfplumber, dropped by us): mean {sum(sims) / len(sims):.4f}, min {min(sims):.4f}")
        body_sims = [SequenceMatcher(None, without_running_text(our_texts[p]), without_running_text(plumber_texts[p]),
                                     autojunk=False).ratio() for p in paths]
        print(f"text similarity without running header/footer text: mean {sum(body_sims) / len(body_sims):.4f},"
              f" min {min(body_sims):.4f}  (target >= 0.99)")
        short, long = out / "long50.pdf", out / "long500.pdf"
        short.write_bytes(long_pdf_bytes(pages=50))
        long.write_bytes(long_pdf_bytes(pages=500))
        m50, m500 = peak_rss_mb(short), peak_rss_mb(long)
        print(f"peak memory: 50 pages {m50:.0f} MB, 500 pages {m500:.0f} MB, ratio {m500 / m50:.2f} (flat: ~1)")
    _ = resource  # resource is used in the child process code


_TITLES: dict[str, str] = {}


def without_running_text(text: str, path: Path | None = None) -> str:
    """Folded text without what the renderer prints on every page: the document
    title (running header) and "Pagina N van M" (footer). pdfplumber keeps these,
    protocolscan drops them, and the comparison is about the body text."""
    body = re.sub(r"pagina\d+van\d+", "", folded(text))
    for title in _titles():
        if title and title in body:
            body = body.replace(title, "")
    return body


def _titles() -> list[str]:
    if not _TITLES:
        import json
        for p in (REPO / "corpora" / "seed").glob("*.json"):
            _TITLES[p.stem] = folded(json.loads(p.read_text(encoding="utf-8"))["title"])
    return sorted(_TITLES.values(), key=len, reverse=True)


if __name__ == "__main__":
    main()
