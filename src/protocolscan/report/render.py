"""Render the report dict as JSON, Markdown, self-contained HTML or terminal text.

HTML uses jinja2 with autoescaping: every piece of document text is escaped, so a
protocol that contains ``<script>`` shows it as text and never runs it. The HTML has
inline CSS and no external assets, so it can be mailed or printed as one file.
"""

from __future__ import annotations

import io
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rich import box
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from .build import LAYER_NL

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FORMATS = ("text", "json", "md", "html")
VERDICT_STYLE = {"voldaan": "green", "deels": "yellow", "ontbreekt": "red", "onjuist": "magenta", "nvt": "dim"}


def where(ref: dict[str, Any]) -> str:
    """'p. 4, passage 12' or 'passage 12' for formats without pages."""
    n = ref.get("n")
    page = ref.get("page")
    return f"p. {page}, passage {n}" if page else f"passage {n}"


def ucfirst(value: Any) -> str:
    text = str(value)
    return text[:1].upper() + text[1:]


def fmtnum(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md_escape(value: Any) -> str:
    """Text safe for Markdown: HTML-escaped (renderers pass raw HTML through) and
    Markdown markup characters backslashed, on one line."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_url(value: Any) -> str:
    """Only http(s) links go into the HTML (a catalogue extension could hold others)."""
    url = str(value or "")
    return url if re.match(r"https?://", url) else ""


@lru_cache(maxsize=2)
def _environment(kind: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "html.j2"]) if kind == "html" else False,
        trim_blocks=kind == "html", lstrip_blocks=kind == "html", keep_trailing_newline=True,
    )
    env.filters["where"] = where
    env.filters["fmtnum"] = fmtnum
    env.filters["ucfirst"] = ucfirst
    env.filters["md"] = md_escape
    env.filters["safe_url"] = safe_url
    return env


def _context(report: dict[str, Any]) -> dict[str, Any]:
    return {"r": report, "reqs": {e["id"]: e for e in report["requirements"]}, "layer_nl": LAYER_NL}


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def to_html(report: dict[str, Any]) -> str:
    return _environment("html").get_template("report.html.j2").render(**_context(report))


def to_markdown(report: dict[str, Any]) -> str:
    text = _environment("md").get_template("report.md.j2").render(**_context(report))
    return re.sub(r"\n{3,}", "\n\n", text)


def to_text(report: dict[str, Any], color: bool = False, width: int = 100) -> str:
    """The terminal report (rich); ``color`` keeps ANSI colours for a terminal."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width,
                      highlight=False, emoji=False)
    print_report(report, console)
    return buffer.getvalue()


def print_report(report: dict[str, Any], console: Console) -> None:
    """Print the report to a rich console. Document text is escaped for rich markup."""
    doc, scan = report["document"], report["scan"]
    console.rule(f"[bold]Verzuimprotocol-scan: {rich_escape(doc['title'] or doc['id'])}")
    console.print(f"{scan['level_nl'].capitalize()}, {scan['sector_nl']} ({', '.join(scan['covers'])}); "
                  f"eisenlijst {scan['catalogue_version']}, peildatum {scan['peildatum']}; "
                  f"{doc['passages']} passages" + (f", {doc['pages']} pagina's" if doc.get("pages") else ""))
    for line in report["summary_nl"]:
        console.print(f"  • {rich_escape(line)}")
    table = Table(box=box.SIMPLE, show_edge=False)
    for col in ("Id", "Onderdeel", "Oordeel", "Vindplaats"):
        table.add_column(col)
    for e in report["requirements"]:
        refs = _short_refs(e["evidence"])
        table.add_row(e["id"], rich_escape(e["title_nl"]),
                      f"[{VERDICT_STYLE.get(e['verdict'], '')}]{e['verdict_nl']}[/]", refs)
    console.print(table)
    reqs = {e["id"]: e for e in report["requirements"]}
    if report["problems"]:
        console.rule("Wat ontbreekt of onjuist is")
    for rid in report["problems"]:
        e = reqs[rid]
        style = VERDICT_STYLE.get(e["verdict"], "")
        console.print(f"[bold]{e['id']} {rich_escape(e['title_nl'])}[/] [{style}]{e['verdict_nl']}[/]")
        for w in e["wrong"]:
            console.print(f"    “{rich_escape(w['quote'])}” ({where(w)})")
            console.print(f"    {rich_escape(w['note_nl'])}")
        if not e["wrong"] and e["note_nl"]:
            console.print(f"    {rich_escape(e['note_nl'])}")
    if report["questions"]:
        console.rule("Vragen voor het schoolbezoek")
        for i, q in enumerate(report["questions"], 1):
            console.print(f"{i:>2}. [bold]{q['requirement']}[/] {rich_escape(q['question_nl'])}")
    if report["topics"]:
        console.rule("Onderwerpen")
        for cat in report["topics"]:
            present = [t["label_nl"] for t in cat["codes"] if t["present"]]
            absent = [t["label_nl"] for t in cat["codes"] if not t["present"]]
            console.print(f"[bold]{rich_escape(cat['label_nl'])}[/] ({cat['covered']} van {cat['total']}): "
                          f"{rich_escape(', '.join(present) or '-')}"
                          + (f" [dim]| niet: {rich_escape(', '.join(absent))}[/]" if absent else ""))


def _short_refs(evidence: list[dict[str, Any]], limit: int = 5) -> str:
    """Compact references for a table cell: 'p. 3: 12, 14' or '§ 12, 14'."""
    parts = [f"p.{ev['page']} §{ev['n']}" if ev.get("page") else f"§{ev['n']}" for ev in evidence[:limit]]
    return ", ".join(parts) + (" …" if len(evidence) > limit else "")


def render(report: dict[str, Any], fmt: str = "text", color: bool = False) -> str:
    """Render the report in one of ``FORMATS``."""
    if fmt == "json":
        return to_json(report)
    if fmt == "html":
        return to_html(report)
    if fmt in ("md", "markdown"):
        return to_markdown(report)
    if fmt == "text":
        return to_text(report, color=color)
    raise ValueError(f"onbekend rapportformaat {fmt!r} (kies uit {', '.join(FORMATS)})")
