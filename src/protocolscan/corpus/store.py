"""The batch store: one SQLite file (stdlib ``sqlite3``, WAL journal).

The schema is documented in ``docs/store-schema.md``. Every processed document is
written in one transaction (``write_document``), so a run killed at any moment leaves
only whole documents behind and a re-run carries on where it stopped.

Only the batch parent process writes; workers return plain dicts (see
``protocolscan.batch``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..model import ProtocolscanError

SCHEMA_VERSION = 1
MACHINE_CODER = "protocolscan"
STATUSES = ("ok", "error", "needs_ocr")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id                  INTEGER PRIMARY KEY,
    started             TEXT NOT NULL,
    finished            TEXT,
    status              TEXT NOT NULL DEFAULT 'running',  -- running | finished | interrupted
    source              TEXT,                             -- folder or manifest given to batch
    protocolscan_version TEXT,
    codebook_version    TEXT,
    model_version       TEXT,
    catalogue_version   TEXT,
    versions            TEXT,                             -- JSON of the four versions
    n_files             INTEGER DEFAULT 0,
    n_ok                INTEGER DEFAULT 0,
    n_error             INTEGER DEFAULT 0,
    n_needs_ocr         INTEGER DEFAULT 0,
    n_skipped           INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS schools (
    id        TEXT PRIMARY KEY,
    name      TEXT,
    sector    TEXT,
    region    TEXT,
    metadata  TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS documents (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL UNIQUE,   -- as in the manifest / relative to the folder
    school_id     TEXT REFERENCES schools(id),
    sha256        TEXT,
    versions      TEXT,                   -- JSON of the versions it was coded with
    status        TEXT NOT NULL,          -- ok | error | needs_ocr
    error         TEXT,
    format        TEXT,
    title         TEXT,
    sector        TEXT,                   -- from the manifest, else detected
    sector_source TEXT,
    level         TEXT,                   -- niveau.school | niveau.regionaal
    level_score   REAL,
    pages         INTEGER,
    ocr_pages     TEXT NOT NULL DEFAULT '[]',
    n_passages    INTEGER NOT NULL DEFAULT 0,
    text          TEXT,                   -- the passages' text; offsets refer to it
    metadata      TEXT NOT NULL DEFAULT '{}',
    run_id        INTEGER REFERENCES runs(id),
    processed_at  TEXT,
    seconds       REAL
);
CREATE INDEX IF NOT EXISTS documents_school ON documents(school_id);
CREATE TABLE IF NOT EXISTS passages (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    n            INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    page         INTEGER,
    heading_path TEXT NOT NULL DEFAULT '[]',
    start        INTEGER,
    "end"        INTEGER,
    ocr          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document_id, n)
);
CREATE TABLE IF NOT EXISTS codings (
    id          INTEGER PRIMARY KEY,
    passage_id  INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    confidence  REAL,
    provenance  TEXT,                    -- rule | classifier | both | import
    run_id      INTEGER REFERENCES runs(id),
    coder       TEXT NOT NULL DEFAULT 'protocolscan',
    UNIQUE (passage_id, code, coder)
);
CREATE INDEX IF NOT EXISTS codings_code ON codings(code, coder);
CREATE TABLE IF NOT EXISTS verdicts (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    requirement TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    evidence    TEXT NOT NULL DEFAULT '[]',
    note        TEXT NOT NULL DEFAULT '',
    run_id      INTEGER REFERENCES runs(id),
    PRIMARY KEY (document_id, requirement)
);
"""


class StoreError(ProtocolscanError):
    """The database cannot be opened or is not a protocolscan store."""


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def connect(path: str | Path, create: bool = True) -> sqlite3.Connection:
    """Open (and with ``create`` make) a store; WAL journal, foreign keys on."""
    path = Path(path)
    if not create and not path.is_file():
        raise StoreError(f"{path}: database niet gevonden")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per document.
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        if create:
            conn.executescript(SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                         (str(SCHEMA_VERSION),))
        else:
            conn.execute("SELECT 1 FROM documents LIMIT 1")
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path}: geen geldige protocolscan-database ({err})") from None
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error (also KeyboardInterrupt)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# ------------------------------------------------------------------------- runs
def start_run(conn: sqlite3.Connection, versions: dict[str, str], source: str = "") -> int:
    """Record a new run; earlier runs that never finished are marked interrupted."""
    with transaction(conn):
        conn.execute("UPDATE runs SET status='interrupted' WHERE status='running'")
        cur = conn.execute(
            "INSERT INTO runs(started, source, protocolscan_version, codebook_version, model_version,"
            " catalogue_version, versions) VALUES (?,?,?,?,?,?,?)",
            (now(), source, versions.get("protocolscan"), versions.get("codebook"), versions.get("model"),
             versions.get("catalogue"), versions_key(versions)))
    return int(cur.lastrowid)


def finish_run(conn: sqlite3.Connection, run_id: int, counts: dict[str, int]) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE runs SET finished=?, status='finished', n_files=?, n_ok=?, n_error=?, n_needs_ocr=?,"
            " n_skipped=? WHERE id=?",
            (now(), counts.get("files", 0), counts.get("ok", 0), counts.get("error", 0),
             counts.get("needs_ocr", 0), counts.get("skipped", 0), run_id))


def versions_key(versions: dict[str, str]) -> str:
    """Canonical JSON of the versions (compared as a string for incremental runs)."""
    return json.dumps(versions, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------------- schools
def upsert_school(conn: sqlite3.Connection, school: dict[str, Any]) -> None:
    """Insert or update a school (caller holds the transaction)."""
    conn.execute(
        "INSERT INTO schools(id, name, sector, region, metadata) VALUES (?,?,?,?,?)"
        " ON CONFLICT(id) DO UPDATE SET name=excluded.name, sector=excluded.sector,"
        " region=excluded.region, metadata=excluded.metadata",
        (school["id"], school.get("name"), school.get("sector"), school.get("region"),
         json.dumps(school.get("metadata") or {}, ensure_ascii=False, sort_keys=True)))


# -------------------------------------------------------------------- documents
def stored_state(conn: sqlite3.Connection) -> dict[str, tuple[str | None, str | None, str]]:
    """path -> (sha256, versions, status) of every stored document (one query for a
    whole run)."""
    return {row["path"]: (row["sha256"], row["versions"], row["status"])
            for row in conn.execute("SELECT path, sha256, versions, status FROM documents")}


def write_document(conn: sqlite3.Connection, result: dict[str, Any], school: dict[str, Any] | None,
                   run_id: int | None) -> int:
    """Store one processed file (a worker's result dict) in a single transaction.

    Earlier rows of the same path are replaced: the machine coding and the verdicts
    always; passages (and with them human codings) only when the text changed, so a
    re-coding with a new model keeps imported human codings of an unchanged file.
    """
    with transaction(conn):
        if school is not None:
            upsert_school(conn, school)
        doc_id = _upsert_document_row(conn, result, school, run_id)
        conn.execute("DELETE FROM verdicts WHERE document_id=?", (doc_id,))
        passage_ids = _replace_passages(conn, doc_id, result.get("passages") or [])
        conn.execute("DELETE FROM codings WHERE coder=? AND passage_id IN"
                     " (SELECT id FROM passages WHERE document_id=?)", (MACHINE_CODER, doc_id))
        conn.executemany(
            "INSERT INTO codings(passage_id, code, confidence, provenance, run_id, coder) VALUES (?,?,?,?,?,?)",
            [(passage_ids[c["n"]], c["code"], c.get("confidence"), c.get("provenance"), run_id, MACHINE_CODER)
             for c in result.get("codings") or []])
        conn.executemany(
            "INSERT INTO verdicts(document_id, requirement, verdict, evidence, note, run_id) VALUES (?,?,?,?,?,?)",
            [(doc_id, v["requirement"], v["verdict"], json.dumps(v.get("evidence") or []), v.get("note") or "",
              run_id) for v in result.get("verdicts") or []])
    return doc_id


def _upsert_document_row(conn, result, school, run_id) -> int:
    values = {
        "path": result["path"], "school_id": school["id"] if school else None,
        "sha256": result.get("sha256"), "versions": result.get("versions"),
        "status": result["status"], "error": result.get("error"), "format": result.get("format"),
        "title": result.get("title"), "sector": result.get("sector"),
        "sector_source": result.get("sector_source"), "level": result.get("level"),
        "level_score": result.get("level_score"), "pages": result.get("pages"),
        "ocr_pages": json.dumps(result.get("ocr_pages") or []),
        "n_passages": len(result.get("passages") or []), "text": result.get("text"),
        "metadata": json.dumps(result.get("metadata") or {}, ensure_ascii=False, sort_keys=True),
        "run_id": run_id, "processed_at": now(), "seconds": result.get("seconds"),
    }
    columns = ", ".join(values)
    updates = ", ".join(f"{k}=excluded.{k}" for k in values if k != "path")
    conn.execute(f"INSERT INTO documents({columns}) VALUES ({', '.join('?' * len(values))})"
                 f" ON CONFLICT(path) DO UPDATE SET {updates}", tuple(values.values()))
    return int(conn.execute("SELECT id FROM documents WHERE path=?", (result["path"],)).fetchone()[0])


def _replace_passages(conn, doc_id: int, passages: list[dict[str, Any]]) -> dict[int, int]:
    """Make the stored passages equal ``passages``; returns n -> passage id.

    Unchanged passages keep their row (and so their human codings); changed or
    vanished ones are deleted with their codings.
    """
    old = {row["n"]: row for row in conn.execute(
        "SELECT id, n, kind, text, start, \"end\" FROM passages WHERE document_id=?", (doc_id,))}
    ids: dict[int, int] = {}
    for p in passages:
        row = old.pop(p["n"], None)
        same = row is not None and (row["kind"], row["text"], row["start"], row["end"]) == (
            p["kind"], p["text"], p.get("start"), p.get("end"))
        if same:
            conn.execute("UPDATE passages SET page=?, heading_path=?, ocr=? WHERE id=?",
                         (p.get("page"), json.dumps(p.get("heading_path") or [], ensure_ascii=False),
                          int(bool(p.get("ocr"))), row["id"]))
            ids[p["n"]] = row["id"]
            continue
        if row is not None:
            conn.execute("DELETE FROM passages WHERE id=?", (row["id"],))
        cur = conn.execute(
            "INSERT INTO passages(document_id, n, kind, text, page, heading_path, start, \"end\", ocr)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (doc_id, p["n"], p["kind"], p["text"], p.get("page"),
             json.dumps(p.get("heading_path") or [], ensure_ascii=False), p.get("start"), p.get("end"),
             int(bool(p.get("ocr")))))
        ids[p["n"]] = int(cur.lastrowid)
    for row in old.values():
        conn.execute("DELETE FROM passages WHERE id=?", (row["id"],))
    return ids
