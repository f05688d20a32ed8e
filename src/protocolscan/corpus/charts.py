"""Charts of a corpus store and the self-contained HTML corpus report.

- ``heatmap_data`` / ``heatmap_figure``: schools x codes, cell = coded passages;
- ``sector_data`` / ``sector_figure``: % of schools per code, one bar per sector;
- ``chart_files``: both charts as PNG and/or SVG bytes (the caller writes them);
- ``report_html``: one HTML file (jinja2, inline CSS, inline SVG charts) with the
  run info, tables B2.1 and B2.3 (beside the reference study), the charts and the
  verdicts per requirement.

The figures come from ``tables`` (the same per-school counts and percentages as
table B2.3), so a chart never disagrees with the table. matplotlib is imported
only inside the functions that draw (Agg backend), so importing this module is
cheap; the codebook, requirement titles and study figures come in as plain data.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import ProtocolscanError
from . import tables

FORMATS = ("png", "svg")
CHART_NAMES = ("heatmap", "sectoren")
SECTOR_ORDER = ("po", "so", "vso", "vo", "regio")
#: Colour-blind safe (Okabe-Ito) colours for the sector bars.
SECTOR_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Heatmap bins of the number of coded passages: 0, 1, 2, 3-5, 6-10, more.
HEATMAP_BOUNDS = (0, 1, 2, 3, 6, 11)
#: Above this many schools the school names are left off (unreadable anyway) and
#: the height of the heatmap stops growing.
MAX_LABELLED_SCHOOLS = 120
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
VERDICT_NL = {"voldaan": "voldaan", "deels": "deels", "onjuist": "onjuist", "ontbreekt": "ontbreekt",
              "nvt": "n.v.t."}


class ChartError(ProtocolscanError):
    """A chart cannot be made (empty store, unknown format)."""


@dataclass
class HeatmapData:
    schools: list[tuple[str, str, str]]          # (id, name, sector) per row
    codes: list[tuple[str, str, str]]            # (code, label, category label) per column
    counts: list[list[int]]                      # rows x columns: coded passages


@dataclass
class SectorData:
    groups: list[tuple[str, int]]                # (sector, n analysed schools)
    codes: list[tuple[str, str, str]]            # (code, label, category label)
    percents: dict[str, list[int]] = field(default_factory=dict)  # sector -> % per code


# ---------------------------------------------------------------------------- data
def _level_ids(info: dict[str, Any]) -> set[str]:
    return {level["id"] for level in info.get("levels", [])}


def _sector_key(sector: str) -> tuple[int, str]:
    return (SECTOR_ORDER.index(sector) if sector in SECTOR_ORDER else len(SECTOR_ORDER), sector)


def heatmap_data(conn: sqlite3.Connection, info: dict[str, Any], coder: str = "protocolscan") -> HeatmapData:
    """One row per analysed school (ordered by sector, then name), one column per
    passage-level code of the codebook; the counts are those of table B2.3."""
    sectors = tables.school_groups(conn, "sector")
    names = {r["id"]: r["name"] or r["id"] for r in conn.execute("SELECT id, name FROM schools")}
    schools = sorted(((sid, names.get(sid, sid), sector) for sid, sector in sectors.items()),
                     key=lambda s: (_sector_key(s[2]), s[1].casefold(), s[0]))
    levels = _level_ids(info)
    codes, columns = [], []
    for category, code, label, per_school in tables.b23_lines(info, tables.schools_per_code(conn, coder), {}):
        if code in levels:
            continue
        codes.append((code, label, category))
        columns.append(per_school)
    counts = [[column.get(sid, 0) for column in columns] for sid, _, _ in schools]
    return HeatmapData(schools, codes, counts)


def sector_data(conn: sqlite3.Connection, info: dict[str, Any], coder: str = "protocolscan") -> SectorData:
    """The percentages of table B2.3 per sector, passage-level codes only."""
    members = Counter(tables.school_groups(conn, "sector").values())
    levels = _level_ids(info)
    b23 = tables.b23_table(conn, info, coder, by="sector")
    codes: list[tuple[str, str, str]] = []
    percents: dict[str, list[int]] = {}
    for row in b23.rows:
        if row["code"] in levels:
            continue
        if row["groep"] == b23.rows[0]["groep"]:
            codes.append((row["code"], row["label"], row["hoofdcategorie"]))
        percents.setdefault(row["groep"], []).append(row["percentage"] or 0)
    groups = [(g, members[g]) for g in sorted(percents, key=_sector_key)]
    return SectorData(groups, codes, percents)


# ------------------------------------------------------------------------ drawing
def _pyplot():
    """matplotlib with the Agg backend (no display needed), imported on first use."""
    try:
        import matplotlib
    except ImportError:
        raise ChartError("grafieken vragen het pakket matplotlib (pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _style() -> dict[str, Any]:
    # Text stays text in SVG (searchable, small); no mathtext, so a school name
    # with '$' signs is drawn as written; fixed hash salt for reproducible SVGs.
    return {"svg.fonttype": "none", "text.parse_math": False, "svg.hashsalt": "protocolscan",
            "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 12, "axes.titleweight": "bold"}


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _category_spans(codes: list[tuple[str, str, str]]) -> list[tuple[str, int, int]]:
    """(category, first column, last column) for each run of codes of one category."""
    spans: list[tuple[str, int, int]] = []
    for i, (_, _, category) in enumerate(codes):
        if spans and spans[-1][0] == category:
            spans[-1] = (category, spans[-1][1], i)
        else:
            spans.append((category, i, i))
    return spans


def _sector_blocks(schools: list[tuple[str, str, str]]) -> list[tuple[str, int, int]]:
    """(sector, first row, last row) of the heatmap rows, which are ordered by sector."""
    return _category_spans([(sid, name, sector) for sid, name, sector in schools])


def _label_levels(spans: list[tuple[str, int, int]], column_inches: float, char_inches: float = 0.068
                  ) -> list[tuple[tuple[str, int, int], int]]:
    """A text row (0, 1, ...) for each category label above the heatmap: the lowest
    row where it does not overlap the label placed before it, so names of narrow
    categories are shown in full instead of cut off."""
    ends: list[float] = []  # per row: right edge (in columns) of the last label
    out = []
    for span in spans:
        category, first, last = span
        half = len(category) * char_inches / column_inches / 2
        centre = (first + last) / 2
        level = next((i for i, end in enumerate(ends) if centre - half > end + 0.3), len(ends))
        if level == len(ends):
            ends.append(0.0)
        ends[level] = centre + half
        out.append((span, level))
    return out


def heatmap_figure(data: HeatmapData, title: str = "Gecodeerde passages per school en code"):
    """The heatmap as a matplotlib Figure (caller closes it)."""
    if not data.schools:
        raise ChartError("geen geanalyseerde scholen in de database (draai eerst protocolscan batch)")
    plt = _pyplot()
    from matplotlib.colors import BoundaryNorm, ListedColormap

    n_rows, n_cols = len(data.schools), len(data.codes)
    labelled = n_rows <= MAX_LABELLED_SCHOOLS
    row_height = 0.22 if labelled else 8.0 / n_rows
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(0.3 * n_cols + 5.0, 3.8 + row_height * n_rows),
                               layout="constrained")
        bounds = list(HEATMAP_BOUNDS) + [max(HEATMAP_BOUNDS[-1] + 1, max(map(max, data.counts)) + 1)]
        colours = ["#ffffff", "#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
        cmap = ListedColormap(colours)
        norm = BoundaryNorm(bounds, cmap.N)
        image = ax.imshow(data.counts, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(n_cols), [_short(label, 34) for _, label, _ in data.codes], rotation=60,
                      ha="right", rotation_mode="anchor")
        if labelled:
            ax.set_yticks(range(n_rows), [f"{_short(name)} ({sector})" for _, name, sector in data.schools])
            if n_rows * n_cols <= 60 * 40:
                for r, row in enumerate(data.counts):
                    for c, value in enumerate(row):
                        if value:
                            ax.text(c, r, str(value), ha="center", va="center", fontsize=7,
                                    color="white" if value >= HEATMAP_BOUNDS[3] else "#08306b")
        blocks = _sector_blocks(data.schools)
        for _, first, _ in blocks[1:]:
            ax.axhline(first - 0.5, color="#344054", linewidth=1.2)
        if not labelled:
            ax.set_yticks([(first + last) / 2 for _, first, last in blocks],
                          [f"{sector} (n = {last - first + 1})" for sector, first, last in blocks])
            ax.set_ylabel(f"{n_rows} scholen (per sector, dan op naam)")
        ax.set_xticks([x - 0.5 for x in range(1, n_cols)], minor=True)
        if labelled:
            ax.set_yticks([y - 0.5 for y in range(1, n_rows)], minor=True)
        ax.grid(which="minor", color="#e4e7ec", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
        levels = _label_levels(_category_spans(data.codes), column_inches=0.3)
        for (category, first, last), level in levels:
            if first:
                ax.axvline(first - 0.5, color="#344054", linewidth=1.2)
            ax.annotate(category, xy=((first + last) / 2, 1.0), xycoords=ax.get_xaxis_transform(),
                        xytext=(0, 3 + 12 * level), textcoords="offset points", ha="center", va="bottom",
                        fontsize=8, fontweight="bold", annotation_clip=False)
        ax.set_title(title, pad=8 + 12 * (1 + max((lv for _, lv in levels), default=0)))
        bar = fig.colorbar(image, ax=ax, shrink=min(1.0, 5 / (row_height * n_rows)), pad=0.01,
                           ticks=[(a + b) / 2 for a, b in zip(bounds, bounds[1:])])
        bar.ax.set_yticklabels(["0", "1", "2", "3–5", "6–10", "11+"])
        bar.set_label("aantal gecodeerde passages")
    return fig


def sector_figure(data: SectorData, title: str = "Percentage scholen per code, per sector"):
    """Small multiples: one panel per sector, the codes grouped under their
    hoofdcategorie as in table B2.3 (caller closes it)."""
    if not data.groups:
        raise ChartError("geen geanalyseerde scholen in de database (draai eerst protocolscan batch)")
    plt = _pyplot()
    labels, code_rows, headers = [], [], []
    for category, first, last in _category_spans(data.codes):
        headers.append(len(labels))
        labels.append(_short(category, 40))
        for i in range(first, last + 1):
            code_rows.append(len(labels))
            labels.append("  " + _short(data.codes[i][1], 38))
    n_groups = len(data.groups)
    with plt.rc_context(_style()):
        fig, axes = plt.subplots(1, n_groups, sharey=True, squeeze=False, layout="constrained",
                                 figsize=(3.0 + 1.9 * n_groups, 1.2 + 0.2 * len(labels)))
        for i, (ax, (group, n)) in enumerate(zip(axes[0], data.groups)):
            values = data.percents[group]
            ax.barh(code_rows, values, height=0.72, color=SECTOR_COLOURS[i % len(SECTOR_COLOURS)])
            for y, value in zip(code_rows, values):
                ax.text(value + 2, y, f"{value}%", va="center", fontsize=6.5, color="#344054")
            for y in headers[1:]:
                ax.axhline(y - 0.5, color="#d0d5dd", linewidth=0.8)
            ax.set_xlim(0, 125)
            ax.set_xticks([0, 50, 100], ["0%", "50%", "100%"])
            ax.xaxis.grid(True, color="#e4e7ec")
            ax.set_axisbelow(True)
            ax.set_title(f"{group}\n(n = {n})", fontsize=10)
            ax.tick_params(axis="y", length=0)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        first_ax = axes[0][0]
        first_ax.set_yticks(range(len(labels)), labels)
        first_ax.set_ylim(len(labels) - 0.5, -0.5)
        for y in headers:
            first_ax.get_yticklabels()[y].set_fontweight("bold")
        fig.suptitle(title, fontweight="bold", fontsize=12)
        fig.supxlabel("scholen met minstens één passage met de code (% van de geanalyseerde scholen in de sector)",
                      fontsize=9)
    return fig


def figure_bytes(fig, fmt: str, dpi: int = 130) -> bytes:
    """PNG or SVG bytes of a figure (the figure is closed afterwards)."""
    if fmt not in FORMATS:
        raise ChartError(f"onbekend grafiekformaat '{fmt}' (kies png of svg)")
    plt = _pyplot()
    buf = io.BytesIO()
    try:
        with plt.rc_context(_style()):
            fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None, "Creator": "protocolscan (matplotlib)"} if fmt == "svg" else None)
    finally:
        plt.close(fig)
    return buf.getvalue()


def inline_svg(svg: bytes) -> str:
    """SVG bytes as an element to put inside HTML (no XML prolog or DOCTYPE); the
    fixed width/height become a viewBox-only, scalable image."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, count=1, flags=re.S)  # RDF block, not needed in a page
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', text, count=1)


def check_formats(formats) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise ChartError(f"onbekend grafiekformaat '{', '.join(unknown) or '(leeg)'}' (kies png, svg of png,svg)")
    return chosen


def chart_files(conn: sqlite3.Connection, info: dict[str, Any], formats=FORMATS,
                coder: str = "protocolscan") -> dict[str, bytes]:
    """``{"heatmap.png": ..., "sectoren.svg": ...}``: both charts in each format."""
    formats = check_formats(formats)
    drawers = {"heatmap": lambda: heatmap_figure(heatmap_data(conn, info, coder)),
               "sectoren": lambda: sector_figure(sector_data(conn, info, coder))}
    out = {}
    for name in CHART_NAMES:
        for fmt in formats:
            out[f"{name}.{fmt}"] = figure_bytes(drawers[name](), fmt)
    return out


# ------------------------------------------------------------------------- report
def run_info(conn: sqlite3.Connection) -> dict[str, Any]:
    """The runs of the store (newest first) and the versions the documents were
    coded with (a partly re-coded store shows more than one)."""
    runs = [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY id DESC")]
    versions = [{"versions": r["versions"] or "", "documents": r["n"]} for r in conn.execute(
        "SELECT r.versions, COUNT(*) AS n FROM documents d LEFT JOIN runs r ON r.id=d.run_id"
        " WHERE d.status='ok' GROUP BY r.versions ORDER BY n DESC")]
    problems = [dict(r) for r in conn.execute(
        "SELECT path, status, error FROM documents WHERE status<>'ok' ORDER BY path LIMIT 500")]
    return {"runs": runs, "document_versions": versions, "problems": problems}


def b23_with_study(table: tables.Table, study: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The rows of table B2.3, each with the study's printed figures (or None)."""
    codes = (study or {}).get("codes", {})
    rows = []
    for row in table.rows:
        ref = codes.get(row["code"])
        rows.append({**row, "study_percent": ref.get("procent") if ref else None,
                     "study_schools": ref.get("scholen") if ref else None,
                     "study_flag": bool(ref and ref.get("afwijking"))})
    return rows


def report_html(conn: sqlite3.Connection, info: dict[str, Any], titles: dict[str, str],
                study: dict[str, Any] | None = None, coder: str = "protocolscan",
                meta: dict[str, Any] | None = None) -> str:
    """The corpus report as one self-contained HTML page (Dutch).

    ``meta``: what the composing module knows and this stage does not: the store
    path, generator and the versions of the installed pipeline.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    built = {t.name: t for t in tables.build_tables(conn, info, titles, "all", coder=coder)}
    charts, chart_error = {}, ""
    try:
        charts = {"heatmap": inline_svg(figure_bytes(heatmap_figure(heatmap_data(conn, info, coder)), "svg")),
                  "sectoren": inline_svg(figure_bytes(sector_figure(sector_data(conn, info, coder)), "svg"))}
    except ChartError as err:
        chart_error = str(err)
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("corpus_report.html.j2")
    return template.render(
        meta=meta or {}, coder=coder, codebook_version=info.get("version", ""), runs=run_info(conn),
        b21=built["b21"], b23=built["b23"], b23_rows=b23_with_study(built["b23"], study),
        study=study or {}, verdicts=built["verdicts"], verdict_order=tables.VERDICT_ORDER,
        verdict_nl=VERDICT_NL, charts=charts, chart_error=chart_error)
