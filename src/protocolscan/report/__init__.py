"""Report stage: the audit report of a scored Document, in Dutch.

``build_report(doc, requirements)`` gives the report as a JSON-ready dict (schema in
``schema.json``, documented in ``docs/report-schema.md``); ``render(report, fmt)``
turns it into terminal text (rich), JSON, Markdown or a self-contained HTML page.
"""

from __future__ import annotations

import json
from pathlib import Path

from .build import SCHEMA_VERSION, VERDICT_NL, build_report
from .render import FORMATS, print_report, render, to_html, to_json, to_markdown, to_text

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"

__all__ = ["FORMATS", "SCHEMA_PATH", "SCHEMA_VERSION", "VERDICT_NL", "build_report", "load_schema",
           "print_report", "render", "to_html", "to_json", "to_markdown", "to_text"]


def load_schema() -> dict:
    """The JSON schema of the report (``schema.json``)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
