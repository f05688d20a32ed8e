"""Code a whole corpus into a SQLite store, and the tables, exports and agreement
figures made from it. Composes ``api`` (read, tag, score), ``learn`` (codebook,
tagger), ``audit`` (catalogue) and the ``corpus`` stage; the CLI commands ``batch``,
``table``, ``export``, ``import`` and ``agree`` call these functions::

    from protocolscan import batch
    summary = batch.run_batch("manifest.csv", "results.sqlite", jobs=2)
    print(batch.make_table("results.sqlite", "b23", "md"))
    batch.export("results.sqlite", "qdpx", "review.qdpx")

Incremental: a file is processed again only when its bytes (sha256) or one of the
versions (protocolscan, codebook, model file, requirements catalogue) changed.
Resumable: each document is committed in its own transaction by this (parent)
process; workers only compute and return plain dicts.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import protocolscan

from .corpus import agreement, manifest, qda, store, tables
from .model import Document, ExtractionError, NeedsOCRError, ProtocolscanError

__all__ = ["BatchError", "BatchSummary", "pipeline_versions", "process_file", "run_batch", "codebook_info",
           "make_table", "write_table", "export", "import_qdpx", "agree", "load_coding"]


# ----------------------------------------------------------------------- versions
def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_path(model: str | Path | None = None) -> Path:
    from . import learn

    return Path(model) if model else learn.DEFAULT_MODEL


def pipeline_versions(model: str | Path | None = None, requirements: str | Path | None = None) -> dict[str, str]:
    """The versions a stored coding depends on; any change re-codes a file.

    The model is identified by the hash of its file (cheaper than loading it, and it
    changes whenever the model is retrained).
    """
    from . import audit, learn

    path = model_path(model)
    model_version = f"sha256:{file_sha256(path)[:16]}" if path.is_file() else "geen"
    return {
        "protocolscan": protocolscan.__version__,
        "codebook": learn.load_codebook().version,
        "model": model_version,
        "catalogue": audit.load_catalogue(requirements).version,
    }


# ------------------------------------------------------------------------- worker
_WORKER: dict[str, Any] = {}


def _tagger(model: str | None):
    """The tagger of this process, loaded once (workers are long-lived)."""
    key = ("tagger", model)
    if key not in _WORKER:
        from . import learn

        _WORKER[key] = learn.load_tagger(model_path(model))
    return _WORKER[key]


def process_file(task: dict[str, Any]) -> dict[str, Any]:
    """Extract, tag and score one file; returns a plain dict (picklable, no objects).

    ``task``: file (absolute path), key (path as stored), sha256, versions (JSON
    string), sector (or None), ocr, model, requirements, metadata.
    """
    from . import api

    started = time.perf_counter()
    result = {"path": task["key"], "sha256": task["sha256"], "versions": task["versions"],
              "metadata": dict(task.get("metadata") or {}), "sector": task.get("sector")}
    try:
        doc = api.read(task["file"], api.ExtractOptions(ocr=task.get("ocr", "auto")))
        api.tag(doc, _tagger(task.get("model")))
        api.score(doc, sector=task.get("sector"), peildatum=task.get("peildatum"),
                  requirements=task.get("requirements"))
        result.update(document_result(doc))
    except NeedsOCRError as err:
        result.update(status="needs_ocr", error=str(err))
    except ExtractionError as err:
        result.update(status="error", error=str(err))
    except Exception as err:  # a bug in one document must not stop a run of thousands
        result.update(status="error", error=f"{task['file']}: interne fout bij verwerken "
                                            f"({type(err).__name__}: {err})")
    result["seconds"] = round(time.perf_counter() - started, 4)
    return result


def document_result(doc: Document) -> dict[str, Any]:
    """The storable parts of a tagged and scored Document as plain values."""
    scoring = doc.metadata.get("scoring") or {}
    passages = [{"n": p.n, "kind": p.kind, "text": p.text, "page": p.page, "heading_path": list(p.heading_path),
                 "start": p.start, "end": p.end, "ocr": p.ocr} for p in doc.passages]
    codings = [{"n": p.n, "code": t.code, "confidence": t.score, "provenance": t.source}
               for p in doc.passages for t in p.tags]
    verdicts = [{"requirement": v.requirement, "verdict": v.verdict, "evidence": list(v.evidence), "note": v.note}
                for v in doc.verdicts]
    return {"status": "ok", "error": None, "format": doc.format, "title": doc.title,
            "sector": scoring.get("sector"), "sector_source": scoring.get("sector_source"),
            "level": doc.metadata.get("level"), "level_score": doc.metadata.get("level_score"),
            "pages": doc.pages, "ocr_pages": list(doc.ocr_pages), "text": doc.text,
            "passages": passages, "codings": codings, "verdicts": verdicts,
            "warnings": list(doc.warnings)}


# -------------------------------------------------------------------------- batch
class BatchError(ProtocolscanError):
    """A batch run cannot start (bad executor, unreachable cluster)."""


@dataclass
class BatchSummary:
    run_id: int
    files: int = 0
    ok: int = 0
    error: int = 0
    needs_ocr: int = 0
    skipped: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (status, Dutch message)

    def counts(self) -> dict[str, int]:
        return {"files": self.files, "ok": self.ok, "error": self.error, "needs_ocr": self.needs_ocr,
                "skipped": self.skipped}

    def to_text(self) -> str:
        """Dutch summary for the terminal."""
        lines = [f"{self.files} bestand(en): {self.ok} gecodeerd, {self.skipped} ongewijzigd overgeslagen, "
                 f"{self.error} met fout, {self.needs_ocr} hebben OCR nodig ({self.seconds:.1f} s)."]
        lines += [f"  {'OCR NODIG' if status == 'needs_ocr' else 'FOUT'}: {message}"
                  for status, message in self.errors[:50]]
        if len(self.errors) > 50:
            lines.append(f"  ... en nog {len(self.errors) - 50}")
        return "\n".join(lines)


def run_batch(source: str | Path, db: str | Path, jobs: int = 1, model: str | Path | None = None,
              ocr: str = "auto", requirements: str | Path | None = None, peildatum: str | None = None,
              progress: bool = True, console=None,
              on_result: Callable[[dict[str, Any]], None] | None = None,
              executor: str = "local", scheduler: str | None = None) -> BatchSummary:
    """Process every file of a folder or manifest into the store ``db``.

    Raises ``manifest.ManifestError`` for an unusable manifest before anything is
    written. ``jobs`` > 1 uses that many worker processes. ``executor="dask"`` sends
    the work to the Dask cluster at ``scheduler`` (an address such as
    ``tcp://host:8786``; None starts a local cluster with ``jobs`` workers); the file
    bytes travel with each task, so workers need no shared disk, and the results
    come back to this process, which alone writes the store.
    """
    if executor not in ("local", "dask"):
        raise BatchError(f"onbekende executor '{executor}' (kies local of dask)")
    started = time.perf_counter()
    entries = manifest.load_entries(source)
    versions = pipeline_versions(model, requirements)
    vkey = store.versions_key(versions)
    conn = store.connect(db)
    try:
        run_id = store.start_run(conn, versions, str(source))
        summary = BatchSummary(run_id=run_id, files=len(entries))
        todo = _plan(conn, entries, vkey, summary)
        tasks = [{"file": str(e.file), "key": e.key, "sha256": sha, "versions": vkey, "sector": e.sector,
                  "ocr": ocr, "model": str(model) if model else None, "peildatum": peildatum,
                  "requirements": str(requirements) if requirements else None, "metadata": e.metadata}
                 for e, sha in todo]
        schools = {e.key: e.school() for e, _ in todo}

        def store_result(result: dict[str, Any]) -> None:
            warnings = result.pop("warnings", None)
            if warnings:
                result["metadata"]["waarschuwingen"] = warnings
            store.write_document(conn, result, schools[result["path"]], run_id)
            status = result["status"]
            setattr(summary, status, getattr(summary, status) + 1)
            if status != "ok":
                summary.errors.append((status, result["error"]))
            if on_result:
                on_result(result)

        try:
            if executor == "dask":
                _run_tasks_dask(tasks, jobs, scheduler, store_result, progress, console)
            else:
                _run_tasks(tasks, jobs, store_result, progress, console)
        except BaseException:
            # Ctrl-C or a failing cluster: what is stored stays; mark the run.
            conn.execute("UPDATE runs SET status='interrupted' WHERE id=?", (run_id,))
            raise
        summary.seconds = round(time.perf_counter() - started, 3)
        store.finish_run(conn, run_id, summary.counts())
    finally:
        conn.close()
    return summary


def _plan(conn, entries: list[manifest.Entry], vkey: str, summary: BatchSummary):
    """Hash every file; keep the changed ones, refresh school data of the rest.

    A file that needed OCR is always tried again (OCR may have been installed since).
    """
    state = store.stored_state(conn)
    todo = []
    with store.transaction(conn):
        for entry in entries:
            store.upsert_school(conn, entry.school())
            try:
                sha = file_sha256(entry.file)
            except OSError:
                sha = None  # gone or unreadable: the worker reports why
            stored = state.get(entry.key)
            unchanged = (sha is not None and stored is not None and stored[:2] == (sha, vkey)
                         and stored[2] != "needs_ocr")
            if unchanged:
                summary.skipped += 1
                conn.execute("UPDATE documents SET school_id=? WHERE path=?", (entry.school_id, entry.key))
            else:
                todo.append((entry, sha))
    return todo


def _run_tasks(tasks: list[dict], jobs: int, store_result: Callable[[dict], None], progress: bool,
               console=None) -> None:
    if not tasks:
        return
    with _progress(len(tasks), progress, console) as advance:
        if jobs <= 1:
            for task in tasks:
                store_result(process_file(task))
                advance(task["key"])
            return
        # The parent does the first file itself: afterwards the tagger is loaded and
        # every lazy table is built, and the forked workers inherit all of it (no
        # cold start per worker).
        store_result(process_file(tasks[0]))
        advance(tasks[0]["key"])
        queue = iter(tasks[1:])
        while True:
            in_flight = _run_pool(queue, jobs, store_result, advance)
            if not in_flight:
                return
            # A worker died (a crash in a native library, the OOM killer): run the
            # files that were in flight one at a time, so the one that kills its
            # process again is stored as an error and the run goes on.
            for task in in_flight:
                store_result(_process_isolated(task))
                advance(task["key"])


def _pool_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)  # Windows: spawn


def _run_pool(queue, jobs: int, store_result: Callable[[dict], None], advance) -> list[dict]:
    """Run the tasks of ``queue`` on ``jobs`` processes; at most 2 per worker in
    flight keeps memory flat. Returns the tasks in flight when the pool broke."""
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context()) as pool:
        pending: dict[Future, dict] = {}
        try:
            for task in queue:
                pending[pool.submit(process_file, task)] = task
                if len(pending) >= 2 * jobs:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        return [task, *pending.values()]
                    store_result(result)
                    advance(task["key"])
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[pool.submit(process_file, nxt)] = nxt
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return []


def _process_isolated(task: dict[str, Any]) -> dict[str, Any]:
    """``process_file`` in a process of its own; a crash becomes an error result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=_pool_context()) as pool:
        try:
            return pool.submit(process_file, task).result()
        except BrokenProcessPool:
            return {"path": task["key"], "sha256": task["sha256"], "versions": task["versions"],
                    "metadata": dict(task.get("metadata") or {}), "sector": task.get("sector"),
                    "status": "error",
                    "error": f"{task['file']}: het verwerkingsproces is vastgelopen op dit bestand "
                             "(mogelijk een beschadigd of te groot bestand)"}


def _run_tasks_dask(tasks: list[dict], jobs: int, scheduler: str | None, store_result: Callable[[dict], None],
                    progress: bool, console=None) -> None:
    if not tasks:
        return
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise BatchError("de Dask-executor vraagt het pakket distributed "
                         "(pip install 'protocolscan[dask]')") from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout=30)
        else:
            cluster = LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    except OSError as err:
        raise BatchError(f"kan geen verbinding maken met de Dask-scheduler {scheduler} ({err})") from None
    try:
        window = 2 * max(len(client.scheduler_info().get("workers", {})), jobs, 1)
        queue = iter(tasks)
        with _progress(len(tasks), progress, console) as advance:
            running = as_completed([client.submit(process_remote, _with_bytes(t), pure=False)
                                    for t in _take(queue, window)])
            for future in running:
                result = future.result()
                store_result(result)
                advance(result["path"])
                for task in _take(queue, 1):
                    running.add(client.submit(process_remote, _with_bytes(task), pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _take(queue, n: int) -> list:
    out = []
    for item in queue:
        out.append(item)
        if len(out) >= n:
            break
    return out


def _with_bytes(task: dict[str, Any]) -> dict[str, Any]:
    task = dict(task)
    try:
        task["data"] = Path(task["file"]).read_bytes()
    except OSError:
        task["data"] = None  # the worker reports the error for this file
    return task


def process_remote(task: dict[str, Any]) -> dict[str, Any]:
    """``process_file`` on a Dask worker: the file comes as bytes in the task and is
    written to a temporary file with the same name; error messages name the
    original path."""
    import tempfile

    data = task.pop("data", None)
    if data is None:
        return process_file(task)
    original = task["file"]
    with tempfile.TemporaryDirectory(prefix="protocolscan-") as tmp:
        local = Path(tmp) / Path(original).name
        local.write_bytes(data)
        result = process_file(dict(task, file=str(local)))
    if result.get("error"):
        result["error"] = result["error"].replace(str(local), original)
    return result


class _progress:
    """A rich progress bar with ETA (or nothing), as ``advance(name)``."""

    def __init__(self, total: int, enabled: bool, console=None):
        self.total, self.enabled, self.console = total, enabled, console
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda name: None
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.bar = Progress(TextColumn("[bold]coderen"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("verstreken"), TimeElapsedColumn(), TextColumn("nog"),
                            TimeRemainingColumn(), TextColumn("{task.description}"),
                            console=self.console, transient=False)
        self.bar.start()
        task = self.bar.add_task("", total=self.total)

        def advance(name: str) -> None:
            self.bar.update(task, advance=1, description=Path(name).name[:40])

        return advance

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


# --------------------------------------------------------------- codebook & tables
def codebook_info(codebook: str | Path | None = None) -> dict[str, Any]:
    """The codebook as plain data for the corpus stage: categories, codes, levels."""
    from . import learn

    book = learn.load_codebook(codebook)
    return {
        "version": book.version,
        "title": book.title,
        "categories": [{"id": cid, "label": label} for cid, label in book.categories.items()],
        "codes": [{"id": c.id, "label": c.label_nl, "category": c.category, "definition": c.definition}
                  for c in book.codes],
        "levels": [{"id": c.id, "label": c.label_nl, "definition": c.definition} for c in book.levels],
    }


def requirement_titles(requirements: str | Path | None = None) -> dict[str, str]:
    from . import audit

    return {r.id: r.title_nl for r in audit.load_catalogue(requirements).requirements}


def make_table(db: str | Path, table: str = "b23", fmt: str = "md", by: str | None = None,
               coder: str = store.MACHINE_CODER, requirements: str | Path | None = None) -> str | bytes:
    """Table ``b23``, ``b21`` or ``verdicts`` of a store as md/csv text or xlsx bytes
    (``all`` with xlsx: one sheet per table)."""
    conn = store.connect(db, create=False)
    try:
        built = tables.build_tables(conn, codebook_info(), requirement_titles(requirements),
                                    which=table, by=by, coder=coder)
    finally:
        conn.close()
    return tables.render(built, fmt)


def write_table(db: str | Path, out: str | Path | None, table: str = "b23", fmt: str = "md",
                by: str | None = None, coder: str = store.MACHINE_CODER,
                requirements: str | Path | None = None) -> str | None:
    """``make_table`` written to ``out`` (atomically); returns the text when ``out`` is None."""
    content = make_table(db, table, fmt, by, coder, requirements)
    if out is None:
        if isinstance(content, bytes):
            raise tables.TableError("XLSX kan niet naar de terminal; geef een uitvoerbestand op met -o")
        return content
    _write_atomic(Path(out), content)
    return None


# ------------------------------------------------------------------ export/import
def export(db: str | Path, fmt: str, out: str | Path, coder: str = store.MACHINE_CODER) -> Path:
    """Coded segments as csv/xlsx, the project as REFI-QDA .qdpx or the codebook as .qdc."""
    info = codebook_info()
    if fmt == "qdc":
        _write_atomic(Path(out), qda.codebook_xml(info))
        return Path(out)
    conn = store.connect(db, create=False)
    try:
        if fmt == "qdpx":
            _write_atomic(Path(out), qda.project_bytes(conn, info, coder=coder))
        elif fmt in ("csv", "xlsx"):
            rows = tables.segment_rows(conn, info, coder=coder)
            _write_atomic(Path(out), tables.render_rows(rows, fmt, sheet="Gecodeerde passages"))
        else:
            raise tables.TableError(f"onbekend exportformaat '{fmt}' (kies csv, xlsx, qdpx of qdc)")
    finally:
        conn.close()
    return Path(out)


def import_qdpx(db: str | Path, path: str | Path, coder: str | None = None) -> dict[str, Any]:
    """Store the codings of a reviewed .qdpx as human coding; returns counts."""
    conn = store.connect(db, create=False)
    try:
        return qda.import_project(conn, path, codebook_info(), coder=coder)
    finally:
        conn.close()


# --------------------------------------------------------------------- agreement
def load_coding(spec: str) -> agreement.Coding:
    """A coding from ``file.qdpx``, ``file.csv`` (coded segments) or ``db:PATH[:coder]``."""
    info = codebook_info()
    if spec.startswith("db:"):
        path, coder = _db_spec(spec[3:])
        conn = store.connect(path, create=False)
        try:
            return agreement.coding_from_store(conn, coder or store.MACHINE_CODER)
        finally:
            conn.close()
    path = Path(spec)
    if path.suffix.lower() == ".qdpx":
        return qda.coding_from_project(path, info)
    if path.suffix.lower() == ".csv":
        return agreement.coding_from_csv(path)
    raise agreement.AgreementError(f"{spec}: gebruik een .qdpx, een .csv met gecodeerde passages of db:PAD[:codeur]")


def _db_spec(rest: str) -> tuple[str, str]:
    """``PATH`` or ``PATH:coder`` (a path may itself contain ':')."""
    if Path(rest).is_file():
        return rest, ""
    head, sep, coder = rest.rpartition(":")
    return (head, coder) if sep and head else (rest, "")


def agree(a: str, b: str, codes: Iterable[str] | None = None) -> agreement.AgreementReport:
    """Cohen's kappa, Krippendorff's alpha and percent agreement per code, at passage
    and document level, between two codings."""
    info = codebook_info()
    code_ids = list(codes) if codes else [c["id"] for c in info["codes"]]
    return agreement.compare(load_coding(a), load_coding(b), code_ids,
                             labels={c["id"]: c["label"] for c in info["codes"]})


def _write_atomic(target: Path, content: str | bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8", newline="")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------ charts and report
def make_charts(db: str | Path, out_dir: str | Path, formats: Iterable[str] = ("png", "svg"),
                coder: str = store.MACHINE_CODER) -> list[Path]:
    """The heatmap (schools x codes) and the bar chart (% of schools per code per
    sector) of a store, written to ``out_dir`` as heatmap.png, sectoren.svg, ...;
    returns the paths written."""
    from .corpus import charts

    formats = charts.check_formats(formats)
    conn = store.connect(db, create=False)
    try:
        files = charts.chart_files(conn, codebook_info(), formats, coder=coder)
    finally:
        conn.close()
    written = []
    for name, content in files.items():
        target = Path(out_dir) / name
        _write_atomic(target, content)
        written.append(target)
    return written


def corpus_report(db: str | Path, out: str | Path, coder: str = store.MACHINE_CODER,
                  requirements: str | Path | None = None) -> Path:
    """The HTML corpus report of a store (tables B2.1 and B2.3 beside the reference
    study, the charts, verdicts per requirement), written atomically to ``out``."""
    import datetime as dt

    from .corpus import charts
    from .scoring import load_study

    meta = {"generator": f"protocolscan {protocolscan.__version__}", "db": Path(db).name,
            "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "versions": _versions_nl(pipeline_versions(requirements=requirements))}
    conn = store.connect(db, create=False)
    try:
        html = charts.report_html(conn, codebook_info(), requirement_titles(requirements), study=load_study(),
                                  coder=coder, meta=meta)
    finally:
        conn.close()
    _write_atomic(Path(out), html)
    return Path(out)


def _versions_nl(versions: dict[str, str]) -> dict[str, str]:
    names = {"protocolscan": "protocolscan", "codebook": "codeboek", "model": "model", "catalogue": "eisenlijst"}
    return {names.get(k, k): v for k, v in versions.items()}


__all__ += ["make_charts", "corpus_report"]
