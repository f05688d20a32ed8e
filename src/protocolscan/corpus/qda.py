"""REFI-QDA exchange: a project (.qdpx) and a codebook (.qdc) for QualCoder, MAXQDA,
ATLAS.ti and NVivo, and the import of a reviewed project back as human coding.

Structure (REFI-QDA "QDA-XML" Project 1.0, namespace ``urn:QDA-XML:project:1.0``)::

    project.qde  <Project name origin creatingUserGUID creationDateTime>
                   <Users><User guid name/></Users>
                   <CodeBook><Codes>  category (isCodable=false) > codes (isCodable=true)
                   <Cases>            one per school, SourceRef to its documents
                   <Sources><TextSource guid name plainTextPath="internal://GUID.txt">
                     <Description/>
                     <PlainTextSelection guid name startPosition endPosition creatingUser creationDateTime>
                       <Coding guid creatingUser creationDateTime><CodeRef targetGUID/></Coding>
                     </PlainTextSelection>
                     <Coding ...>       the document level (niveau.*) on the whole source
    sources/GUID.txt  the document text (UTF-8); passage offsets are character
                      offsets in it, end exclusive

GUIDs are deterministic (uuid5) so that an export of the same store gives the same
file and codes are recognised on import by GUID (or else by name).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sqlite3
import uuid
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..model import ProtocolscanError
from .agreement import Coding
from .store import MACHINE_CODER, transaction

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "protocolscan:refi-qda")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
PARAGRAPH = re.compile(r"[^\n](?:[^\n]|\n(?!\s*\n))*")  # text between blank lines


class QdaError(ProtocolscanError):
    """A REFI-QDA file cannot be read or does not match the store."""


def guid(kind: str, *parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join([kind, *map(str, parts)])))


def _timestamp() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Drop characters that XML 1.0 does not allow (form feeds from PDFs, ...)."""
    return _NOT_XML.sub("", text)


def _xml(text: str) -> str:
    """Element text: cleaned and escaped."""
    return escape(_clean(text))


def _attrs(**values: Any) -> str:
    return "".join(f" {k}={quoteattr(_clean(str(v)))}" for k, v in values.items() if v is not None)


# ----------------------------------------------------------------------- codebook
def _codes_xml(info: dict[str, Any], indent: str = "    ") -> list[str]:
    lines = [f"{indent}<Codes>"]
    groups = [("niveau", "Niveau", info["levels"])]
    groups += [(c["id"], c["label"], [x for x in info["codes"] if x["category"] == c["id"]])
               for c in info["categories"]]
    listed = {c["id"] for c in info["categories"]}
    groups += [(cat, cat, [x for x in info["codes"] if x["category"] == cat])
               for cat in sorted({x["category"] for x in info["codes"]} - listed)]
    for i, (cat_id, cat_label, codes) in enumerate(groups):
        if not codes:
            continue
        color = PALETTE[i % len(PALETTE)]
        lines.append(f"{indent}  <Code{_attrs(guid=guid('category', cat_id), name=cat_label, isCodable='false', color=color)}>")
        for code in codes:
            lines.append(f"{indent}    <Code{_attrs(guid=guid('code', code['id']), name=code['label'], isCodable='true', color=color)}>")
            lines.append(f"{indent}      <Description>{_xml(_code_description(code))}</Description>")
            lines.append(f"{indent}    </Code>")
        lines.append(f"{indent}  </Code>")
    lines.append(f"{indent}</Codes>")
    return lines


def _code_description(code: dict[str, Any]) -> str:
    # The id in brackets lets a reviewer (and the import) see which code it is.
    return f"[{code['id']}] {code.get('definition', '')}".strip()


def codebook_xml(info: dict[str, Any]) -> str:
    """The codebook as a REFI-QDA .qdc file."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<CodeBook xmlns="{CODEBOOK_NS}"{_attrs(origin=_origin(info))}>']
    lines += _codes_xml(info, "  ")
    lines.append("</CodeBook>")
    return "\n".join(lines) + "\n"


def _origin(info: dict[str, Any]) -> str:
    return f"protocolscan (codeboek {info.get('version', '')})"


# ------------------------------------------------------------------------ project
def project_bytes(conn: sqlite3.Connection, info: dict[str, Any], coder: str = MACHINE_CODER) -> bytes:
    """The store's ok documents and the coding of ``coder`` as a .qdpx (zip) file."""
    xml, texts = project_xml(conn, info, coder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml.encode("utf-8"))
        for source_guid, text in texts.items():
            archive.writestr(f"sources/{source_guid}.txt", text.encode("utf-8"))
    return buf.getvalue()


def project_xml(conn: sqlite3.Connection, info: dict[str, Any], coder: str = MACHINE_CODER
                ) -> tuple[str, dict[str, str]]:
    now = _timestamp()
    user = guid("user", coder)
    level_ids = {lv["id"] for lv in info["levels"]}
    docs = conn.execute("SELECT d.id, d.path, d.title, d.text, d.level, d.school_id, s.name AS school_name"
                        " FROM documents d LEFT JOIN schools s ON s.id=d.school_id"
                        " WHERE d.status='ok' ORDER BY d.path").fetchall()
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<Project xmlns="{PROJECT_NS}"'
             f'{_attrs(name="protocolscan", origin=_origin(info), creatingUserGUID=user, creationDateTime=now)}>',
             "  <Users>", f"    <User{_attrs(guid=user, name=coder)}/>", "  </Users>", "  <CodeBook>"]
    lines += _codes_xml(info, "    ")
    lines.append("  </CodeBook>")
    schools: dict[str, list[str]] = {}
    for d in docs:
        schools.setdefault(d["school_id"] or "", []).append(guid("source", d["path"]))
    if any(schools):
        names = {d["school_id"]: d["school_name"] for d in docs}
        lines.append("  <Cases>")
        for school, sources in schools.items():
            if not school:
                continue
            lines.append(f"    <Case{_attrs(guid=guid('case', school), name=names.get(school) or school)}>")
            lines.append(f"      <Description>{_xml('school ' + school)}</Description>")
            lines += [f"      <SourceRef{_attrs(targetGUID=s)}/>" for s in sources]
            lines.append("    </Case>")
        lines.append("  </Cases>")
    texts: dict[str, str] = {}
    if docs:
        lines.append("  <Sources>")
    for d in docs:
        source = guid("source", d["path"])
        texts[source] = d["text"] or ""
        lines.append(f"    <TextSource{_attrs(guid=source, name=d['path'], plainTextPath=f'internal://{source}.txt', creatingUser=user, creationDateTime=now)}>")
        description = " – ".join(x for x in (d["school_name"] or d["school_id"] or "", d["title"] or "") if x)
        lines.append(f"      <Description>{_xml(description)}</Description>")
        lines += _selections(conn, d["id"], d["path"], coder, user, now)
        if d["level"] in level_ids and coder == MACHINE_CODER:
            lines += _coding_xml(guid("coding", d["path"], "level", d["level"]), d["level"], user, now, "      ")
        lines.append("    </TextSource>")
    if docs:
        lines.append("  </Sources>")
    lines.append("</Project>")
    return "\n".join(lines) + "\n", texts


def _selections(conn, doc_id: int, path: str, coder: str, user: str, now: str) -> list[str]:
    rows = conn.execute("SELECT p.n, p.start, p.\"end\", c.code FROM codings c JOIN passages p ON p.id=c.passage_id"
                        " WHERE p.document_id=? AND c.coder=? ORDER BY p.n, c.code", (doc_id, coder)).fetchall()
    lines: list[str] = []
    current = None
    for r in rows:
        if r["n"] != current:
            if current is not None:
                lines.append("      </PlainTextSelection>")
            current = r["n"]
            lines.append(f"      <PlainTextSelection{_attrs(guid=guid('selection', path, r['n']), name=f'passage {r[0]}', startPosition=r['start'], endPosition=r['end'], creatingUser=user, creationDateTime=now)}>")
        lines += _coding_xml(guid("coding", path, r["n"], r["code"], coder), r["code"], user, now, "        ")
    if current is not None:
        lines.append("      </PlainTextSelection>")
    return lines


def _coding_xml(coding_guid: str, code: str, user: str, now: str, indent: str) -> list[str]:
    return [f"{indent}<Coding{_attrs(guid=coding_guid, creatingUser=user, creationDateTime=now)}>",
            f"{indent}  <CodeRef{_attrs(targetGUID=guid('code', code))}/>",
            f"{indent}</Coding>"]


# ------------------------------------------------------------------------- reading
def _q(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def read_project(path: str | Path, info: dict[str, Any]) -> dict[str, Any]:
    """Parse a .qdpx: users, sources (name, text) and their passage codings.

    Returns {"users": {guid: name}, "sources": [{"name", "text", "selections":
    [{"start", "end", "codings": [(code_id, user_guid)]}]}], "unknown_codes": set}.
    """
    from lxml import etree

    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise QdaError(f"{path}: geen geldig .qdpx-bestand ({err})") from None
    with archive:
        try:
            root = etree.fromstring(archive.read("project.qde"))
        except KeyError:
            raise QdaError(f"{path}: project.qde ontbreekt in het .qdpx-bestand") from None
        except etree.XMLSyntaxError as err:
            raise QdaError(f"{path}: project.qde is geen geldige XML ({err})") from None
        if root.tag != _q("Project"):
            raise QdaError(f"{path}: geen REFI-QDA-project (root {root.tag})")
        users = {u.get("guid"): u.get("name") or u.get("guid") for u in root.iter(_q("User"))}
        codes = _code_map(root, info)
        unknown: set[str] = set()
        sources = []
        for src in root.iter(_q("TextSource")):
            text = _source_text(archive, src, path)
            selections = []
            for sel in src.findall(_q("PlainTextSelection")):
                codings = []
                for coding in sel.findall(_q("Coding")):
                    ref = coding.find(_q("CodeRef"))
                    target = ref.get("targetGUID") if ref is not None else None
                    if target not in codes:
                        unknown.add(target or "?")
                        continue
                    codings.append((codes[target], coding.get("creatingUser") or sel.get("creatingUser")))
                try:
                    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                except (TypeError, ValueError):
                    raise QdaError(f"{path}: selectie {sel.get('guid')} in bron '{src.get('name')}' heeft geen "
                                   "geldige startPosition/endPosition") from None
                selections.append({"start": start, "end": end, "codings": codings})
            sources.append({"name": src.get("name") or "", "text": text, "selections": selections})
    return {"users": users, "sources": sources, "unknown_codes": unknown}


def _code_map(root, info: dict[str, Any]) -> dict[str, str]:
    """Code GUID -> code id: by our GUIDs, else by '[id]' in the description, the
    label or the id as name (codes made in another tool)."""
    known = {c["id"] for c in info["codes"]} | {lv["id"] for lv in info["levels"]}
    by_label = {c["label"]: c["id"] for c in info["codes"]}
    out = {}
    for code in root.iter(_q("Code")):
        g, name = code.get("guid"), code.get("name") or ""
        desc = code.findtext(_q("Description")) or ""
        found = re.match(r"\s*\[([^\]]+)\]", desc)
        if g in {guid("code", k) for k in known}:
            out[g] = next(k for k in known if guid("code", k) == g)
        elif found and found.group(1) in known:
            out[g] = found.group(1)
        elif name in known:
            out[g] = name
        elif name in by_label:
            out[g] = by_label[name]
    return out


def _source_text(archive: zipfile.ZipFile, src, path: Path) -> str:
    content = src.find(_q("PlainTextContent"))
    if content is not None:
        return content.text or ""
    ref = src.get("plainTextPath") or ""
    name = ref.split("internal://", 1)[1] if ref.startswith("internal://") else ref
    try:
        return archive.read(f"sources/{name}").decode("utf-8")
    except KeyError:
        raise QdaError(f"{path}: tekst van bron '{src.get('name')}' ontbreekt ({ref})") from None


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph (text between blank lines): the passages of a
    source text written by ``project_bytes``."""
    return [(m.start(), m.end()) for m in PARAGRAPH.finditer(text) if m.group().strip()]


def _overlapping(spans: list[tuple[int, int, int]], start: int, end: int) -> list[int]:
    """Passage numbers whose span overlaps [start, end)."""
    return [n for n, s, e in spans if s < end and start < e]


def _coder_names(project: dict[str, Any], coder: str | None, path: Path) -> dict[str | None, str]:
    """creatingUser GUID -> coder name for the import."""
    users = project["users"]
    creators = {u for s in project["sources"] for sel in s["selections"] for _, u in sel["codings"]}
    if coder:
        return {u: coder for u in creators | {None}}
    humans = {g: n for g, n in users.items() if n != MACHINE_CODER}
    if len(humans) == 1:
        name = next(iter(humans.values()))
        return {u: name for u in creators | {None}}
    if not humans:
        raise QdaError(f"{path}: het bestand heeft geen andere gebruiker dan '{MACHINE_CODER}'; "
                       "geef de naam van de codeur op met --coder")
    machine = [u for u in creators if users.get(u) == MACHINE_CODER or u is None]
    if machine:
        raise QdaError(f"{path}: meerdere gebruikers ({', '.join(sorted(humans.values()))}); "
                       "geef met --coder aan wie de overgenomen codes heeft nagekeken")
    return {u: users.get(u, u) for u in creators}


def import_project(conn: sqlite3.Connection, path: str | Path, info: dict[str, Any],
                   coder: str | None = None) -> dict[str, Any]:
    """Store the codings of a (reviewed) .qdpx as human coding.

    Sources are matched to stored documents by name (the document path); a selection
    codes every passage it overlaps. The earlier codings of the same coder(s) of
    these documents are replaced, so importing the same file twice changes nothing.
    """
    path = Path(path)
    project = read_project(path, info)
    names = _coder_names(project, coder, path)
    docs = {r["path"]: r for r in conn.execute("SELECT id, path, text FROM documents WHERE status='ok'")}
    counts = {"bronnen": 0, "coderingen": 0, "onbekende_bronnen": [], "onbekende_codes": sorted(project["unknown_codes"]),
              "codeurs": sorted(set(names.values()))}
    rows: list[tuple[int, str, str]] = []
    touched: list[int] = []
    for source in project["sources"]:
        doc = docs.get(source["name"])
        if doc is None or (doc["text"] or "") != source["text"]:
            counts["onbekende_bronnen"].append(source["name"])
            continue
        counts["bronnen"] += 1
        touched.append(doc["id"])
        spans = [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT n, start, \"end\" FROM passages WHERE document_id=?", (doc["id"],))]
        ids = {r[0]: r[1] for r in conn.execute("SELECT n, id FROM passages WHERE document_id=?", (doc["id"],))}
        for sel in source["selections"]:
            for n in _overlapping(spans, sel["start"], sel["end"]):
                for code, user in sel["codings"]:
                    rows.append((ids[n], code, names.get(user) or names.get(None) or str(user)))
    rows = sorted(set(rows))
    with transaction(conn):
        for name in set(names.values()):
            conn.executemany("DELETE FROM codings WHERE coder=? AND passage_id IN "
                             "(SELECT id FROM passages WHERE document_id=?)", [(name, d) for d in touched])
        conn.executemany("INSERT OR IGNORE INTO codings(passage_id, code, confidence, provenance, run_id, coder)"
                         " VALUES (?,?,NULL,'import',NULL,?)", rows)
    counts["coderingen"] = len(rows)
    return counts


def coding_from_project(path: str | Path, info: dict[str, Any]) -> Coding:
    """A .qdpx as a coding for ``agree``: passages are the paragraphs of each source
    text (numbered from 0, like the passages of the store), every passage is in the
    universe."""
    path = Path(path)
    project = read_project(path, info)
    level_ids = {lv["id"] for lv in info["levels"]}
    codes: dict[tuple[str, int], set[str]] = {}
    universe: set[tuple[str, int]] = set()
    for source in project["sources"]:
        spans = [(i, s, e) for i, (s, e) in enumerate(paragraphs(source["text"]))]
        universe.update((source["name"], n) for n, _, _ in spans)
        for sel in source["selections"]:
            for n in _overlapping(spans, sel["start"], sel["end"]):
                for code, _ in sel["codings"]:
                    if code not in level_ids:
                        codes.setdefault((source["name"], n), set()).add(code)
    humans = sorted({n for n in project["users"].values()})
    return Coding(f"{path.name} ({', '.join(humans)})", codes, universe)
