"""Command-line interface (click). A thin layer over ``protocolscan.api``.

Messages for end users are in Dutch; errors name the file and the reason.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from . import __version__

OCR_CHOICES = click.Choice(["auto", "always", "never"])


def _err(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def _output(path: str | None):
    """Write to stdout, or atomically to a file (a temp file renamed when complete)."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _extract_options(ocr: str, pdf_engine: str, max_pages: int):
    from .api import ExtractOptions
    return ExtractOptions(ocr=ocr, pdf_engine=pdf_engine, max_pages=max_pages)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="protocolscan")
def main() -> None:
    """protocolscan: leest verzuimprotocollen van scholen en zegt wat erin staat en wat ontbreekt."""


@main.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True,
              help="Uitvoer: JSONL (één regel per passage) of leesbare tekst.")
@click.option("-o", "--output", "output", default=None, help="Schrijf naar dit bestand in plaats van de terminal.")
@click.option("--ocr", type=OCR_CHOICES, default="auto", show_default=True,
              help="OCR voor gescande pagina's: auto, always of never.")
@click.option("--pdf-engine", type=click.Choice(["auto", "pdfium", "pdfplumber"]), default="auto", show_default=True)
@click.option("--max-pages", type=int, default=5000, show_default=True, help="Weiger PDF's met meer pagina's.")
def extract_cmd(files, fmt, output, ocr, pdf_engine, max_pages):
    """Haal de tekst uit protocollen (PDF, DOCX, DOC, ODT, RTF, TXT, MD, HTML) als passages."""
    from .api import passage_records

    failures: list = []
    with _output(output) as out:
        for doc in _readable(files, _extract_options(ocr, pdf_engine, max_pages), failures):
            if fmt == "jsonl":
                for record in passage_records(doc):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                out.write(_as_text(doc))
    _exit_on_failures(failures, files)


def _readable(files, options, failures: list):
    """Yield readable documents; report unreadable files in Dutch and collect them."""
    from .api import read_many

    for path, doc, error in read_many(files, options):
        if error is not None:
            failures.append(path)
            _err(f"FOUT: {error}")
            continue
        for warning in doc.warnings:
            _err(f"LET OP: {path}: {warning}")
        yield doc


def _exit_on_failures(failures: list, files) -> None:
    if failures:
        _err(f"{len(failures)} van {len(files)} bestand(en) konden niet gelezen worden.")
        sys.exit(1)


# ---------------------------------------------------------------- tagging

@main.command("codebook")
@click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Een ander codeboek (YAML) in plaats van het standaardcodeboek.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def codebook_cmd(codebook_path, fmt):
    """Toon het codeboek (topiclijst) waarmee passages gecodeerd worden."""
    from .learn import load_codebook
    from .model import ProtocolscanError

    try:
        book = load_codebook(codebook_path)
    except ProtocolscanError as exc:
        _err(f"FOUT: {exc}")
        sys.exit(2)
    if fmt == "json":
        from dataclasses import asdict
        click.echo(json.dumps({"version": book.version, "title": book.title,
                               "categories": book.categories,
                               "levels": [asdict(c) for c in book.levels],
                               "codes": [asdict(c) for c in book.codes]}, ensure_ascii=False, indent=2))
        return
    _print_codebook(book)


def _print_codebook(book) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{book.title or 'Codeboek'} (versie {book.version})", show_lines=False)
    for column in ("code", "label", "categorie", "omschrijving"):
        table.add_column(column, overflow="fold")
    for code in book.levels + book.codes:
        table.add_row(code.id, code.label_nl, book.categories.get(code.category, code.category),
                      code.definition)
    Console().print(table)


@main.command("tag")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text", "md"]), default="jsonl", show_default=True)
@click.option("-o", "--output", "output", default=None, help="Schrijf naar dit bestand.")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Een ander getraind model dan models/tagger.skops.")
@click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--ocr", type=OCR_CHOICES, default="auto", show_default=True)
def tag_cmd(files, fmt, output, model_path, codebook_path, ocr):
    """Codeer de passages van protocollen met het codeboek (regels + classifier)."""
    from .api import passage_records, tag
    from .learn import load_codebook, load_tagger

    book = load_codebook(codebook_path)
    tagger = load_tagger(model_path, book if codebook_path else None)
    failures: list = []
    with _output(output) as out:
        for doc in _readable(files, _extract_options(ocr, "auto", 5000), failures):
            tag(doc, tagger)
            if fmt == "jsonl":
                for record in passage_records(doc):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            elif fmt == "md":
                out.write(_tagged_markdown(doc, book))
            else:
                out.write(_tagged_text(doc))
    _exit_on_failures(failures, files)


def _tagged_text(doc) -> str:
    level = doc.metadata.get("level", "?")
    lines = [f"== {doc.source} (niveau: {level})"]
    for p in doc.passages:
        page = f"p.{p.page:<3}" if p.page else "     "
        codes = ", ".join(f"{t.code} {t.score:.2f} ({t.source})" for t in p.tags)
        lines.append(f"{page} {p.kind:<2} {p.text}")
        if codes:
            lines.append(f"{'':9}-> {codes}")
    return "\n".join(lines) + "\n\n"


def _tagged_markdown(doc, book) -> str:
    lines = [f"# {doc.title or doc.id}", "", f"Bron: `{doc.source}` · niveau: {doc.metadata.get('level', '?')}", "",
             "| # | pagina | soort | tekst | codes |", "|---|---|---|---|---|"]
    for p in doc.passages:
        text = p.text.replace("|", "\\|")
        codes = "<br>".join(f"{book.label(t.code) if _known(book, t.code) else t.code} ({t.score:.2f})"
                            for t in p.tags)
        lines.append(f"| {p.n} | {p.page or ''} | {p.kind} | {text} | {codes} |")
    return "\n".join(lines) + "\n\n"


def _known(book, code: str) -> bool:
    try:
        book.get(code)
        return True
    except KeyError:
        return False


@main.command("train")
@click.option("--sets", default="seed,extra", show_default=True, help="Corpusdelen om op te trainen.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Modelbestand (standaard models/tagger.skops); de modelkaart komt ernaast.")
@click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--folds", type=int, default=5, show_default=True)
def train_cmd(sets, output, codebook_path, folds):
    """Train de classifier op het gelabelde corpus en schrijf model en modelkaart."""
    from .learn import DEFAULT_MODEL, evaluate_model, train_model

    chosen = tuple(s for s in sets.split(",") if s)
    report = evaluate_model(chosen, folds=folds, codebook=codebook_path)
    click.echo(report.to_text())
    path = train_model(chosen, out=output or DEFAULT_MODEL, codebook=codebook_path, folds=folds, report=report)
    click.echo(f"Model geschreven naar {path} (modelkaart: {path.with_name('MODEL_CARD.md')})")


@main.command("evaluate")
@click.option("--sets", default="seed,extra", show_default=True, help="Corpusdelen om op te evalueren.")
@click.option("--folds", type=int, default=5, show_default=True)
@click.option("--what", type=click.Choice(["all", "codes", "verdicts"]), default="all", show_default=True,
              help="Codes (passages en documenten), oordelen per eis, of beide.")
@click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
def evaluate_cmd(sets, folds, what, codebook_path, as_json):
    """Kruisvalidatie per document: codes tegen de menselijke codering, oordelen tegen de gouden oordelen."""
    from . import audit, learn

    chosen = tuple(s for s in sets.split(",") if s)
    results = {}
    if what in ("all", "codes"):
        results["codes"] = learn.evaluate_model(chosen, folds=folds, codebook=codebook_path)
    if what in ("all", "verdicts"):
        results["verdicts_gold_codes"] = audit.evaluate_verdicts(chosen, use_gold_codes=True)
        results["verdicts_model_codes"] = audit.evaluate_verdicts(chosen, use_gold_codes=False)
    if as_json:
        click.echo(json.dumps({k: v.to_dict() for k, v in results.items()}, ensure_ascii=False, indent=2))
        return
    titles = {"codes": "Codering (passages en documenten)",
              "verdicts_gold_codes": "Oordelen per eis, met de menselijke codes (alleen de checkers)",
              "verdicts_model_codes": "Oordelen per eis, met kruisgevalideerde modelcodes (hele keten)"}
    for key, result in results.items():
        click.echo(f"## {titles[key]}\n")
        click.echo(result.to_text())


# ---------------------------------------------------------------- scanning

@main.command("scan")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md", "html"]), default="text", show_default=True)
@click.option("-o", "--output", "output", default=None, help="Schrijf het rapport naar dit bestand.")
@click.option("--sector", type=click.Choice(["po", "so", "vso", "vo", "regio"]), default=None,
              help="Sector van de school (standaard: herkend uit de tekst).")
@click.option("--peildatum", default=None, metavar="JJJJ-MM-DD",
              help="Datum waarop beoordeeld wordt (bepaalt het gewicht van de Wet terugdringen schoolverzuim).")
@click.option("--requirements", "requirements", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Een andere eisenlijst (YAML).")
@click.option("--extend", "extensions", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Eigen eisen van een regio bovenop de eisenlijst (YAML); mag vaker.")
@click.option("--ocr", type=OCR_CHOICES, default="auto", show_default=True)
def scan_cmd(files, fmt, output, sector, peildatum, requirements, extensions, ocr):
    """Beoordeel een protocol (eventueel met bijlagen) op wet, MAS en de Wet terugdringen schoolverzuim."""
    from .api import report, scan
    from .model import ProtocolscanError

    try:
        doc = scan(files, sector=sector, peildatum=peildatum, requirements=requirements,
                   extensions=extensions, options=_extract_options(ocr, "auto", 5000))
        text = report(doc, fmt, requirements, extensions, color=fmt == "text" and not output and sys.stdout.isatty())
    except ProtocolscanError as exc:
        _err(f"FOUT: {exc}")
        sys.exit(1)
    for warning in doc.warnings:
        _err(f"LET OP: {warning}")
    with _output(output) as out:
        out.write(text if text.endswith("\n") else text + "\n")
    if output:
        _err(f"Rapport geschreven naar {output}")


@main.command("requirements")
@click.option("--requirements", "requirements", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--extend", "extensions", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--peildatum", default=None, metavar="JJJJ-MM-DD")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def requirements_cmd(requirements, extensions, peildatum, fmt):
    """Toon de eisenlijst (wet, MAS, Wet terugdringen schoolverzuim) met bronnen en gewichten."""
    from . import audit
    from .model import ProtocolscanError

    try:
        catalogue = audit.load_catalogue(requirements, extensions)
    except ProtocolscanError as exc:
        _err(f"FOUT: {exc}")
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(audit.list_requirements(catalogue, peildatum), ensure_ascii=False, indent=2))
    else:
        click.echo(audit.requirements_text(catalogue, peildatum), nl=False)


# ---------------------------------------------------------------- corpora

@main.command("batch")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--db", "db", required=True, type=click.Path(path_type=Path),
              help="SQLite-database voor de resultaten (wordt aangemaakt als hij niet bestaat).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Aantal processen dat tegelijk bestanden verwerkt.")
@click.option("--ocr", type=OCR_CHOICES, default="auto", show_default=True,
              help="OCR voor gescande pagina's: auto, always of never.")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Ander taggermodel dan het meegeleverde.")
@click.option("--requirements", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Andere eisenlijst (YAML).")
@click.option("--peildatum", default=None, help="Datum waarop de eisen gelden (JJJJ-MM-DD; standaard vandaag).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: processen op deze computer; dask: een Dask-cluster (pip install 'protocolscan[dask]').")
@click.option("--scheduler", default=None,
              help="Adres van de Dask-scheduler, bijv. tcp://10.0.0.5:8786 (zonder: een lokaal cluster met -j workers).")
@click.option("--no-progress", is_flag=True, help="Geen voortgangsbalk (voor logbestanden).")
def batch_cmd(source, db, jobs, ocr, model, requirements, peildatum, executor, scheduler, no_progress):
    """Codeer een hele map of een manifest (CSV) met protocollen in een database.

    SOURCE is een map of een CSV met de kolommen file, school_id, school_name, sector
    (po, so, vso, vo, regio) en region. Ongewijzigde bestanden worden overgeslagen;
    een afgebroken run gaat de volgende keer verder waar hij was.
    """
    from .batch import run_batch
    from .model import ProtocolscanError

    if scheduler and executor != "dask":
        _err("FOUT: --scheduler hoort bij --executor dask")
        sys.exit(2)
    try:
        summary = run_batch(source, db, jobs=jobs, model=model, ocr=ocr, requirements=requirements,
                            peildatum=peildatum, progress=not no_progress and sys.stderr.isatty(),
                            executor=executor, scheduler=scheduler)
    except ProtocolscanError as err:
        _err(f"FOUT: {err}")
        sys.exit(2)
    click.echo(summary.to_text())
    if summary.error or summary.needs_ocr:
        sys.exit(1)


@main.command("table")
@click.option("--db", "db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--table", "table", type=click.Choice(["b23", "b21", "verdicts", "all"]), default="b23",
              show_default=True, help="B2.3 (topics per code), B2.1 (ontvangen/geanalyseerd), eisen per school.")
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "xlsx"]), default="md", show_default=True)
@click.option("--by", type=click.Choice(["sector", "region"]), default=None, help="Tabel B2.3 per sector of regio.")
@click.option("--coder", default="protocolscan", show_default=True, help="Welke codeur (protocolscan of een mens).")
@click.option("-o", "--output", "output", default=None, help="Uitvoerbestand (nodig voor xlsx).")
def table_cmd(db, table, fmt, by, coder, output):
    """Maak tabel B2.3, B2.1 of het overzicht van de eisen uit een batch-database."""
    from .batch import write_table
    from .model import ProtocolscanError

    if fmt == "xlsx" and not output:
        output = f"tabellen-{table}.xlsx"
    try:
        text = write_table(db, output, table=table, fmt=fmt, by=by, coder=coder)
    except ProtocolscanError as err:
        _err(f"FOUT: {err}")
        sys.exit(2)
    if text is not None:
        click.echo(text, nl=False)
    else:
        _err(f"Geschreven: {output}")


@main.command("export")
@click.option("--db", "db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "qdpx", "qdc"]), required=True,
              help="Gecodeerde passages (csv, xlsx), REFI-QDA-project (qdpx) of codeboek (qdc).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--coder", default="protocolscan", show_default=True, help="Welke codering exporteren.")
def export_cmd(db, fmt, output, coder):
    """Exporteer de codering voor Excel of voor QualCoder, MAXQDA, ATLAS.ti en NVivo."""
    from .batch import export
    from .model import ProtocolscanError

    try:
        export(db, fmt, output, coder=coder)
    except ProtocolscanError as err:
        _err(f"FOUT: {err}")
        sys.exit(2)
    _err(f"Geschreven: {output}")


@main.command("import")
@click.argument("qdpx", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--coder", default=None,
              help="Naam van de codeur (standaard: de gebruiker in het .qdpx-bestand).")
def import_cmd(qdpx, db, coder):
    """Lees een nagekeken REFI-QDA-project (.qdpx) terug als menselijke codering."""
    from .batch import import_qdpx
    from .model import ProtocolscanError

    try:
        counts = import_qdpx(db, qdpx, coder=coder)
    except ProtocolscanError as err:
        _err(f"FOUT: {err}")
        sys.exit(2)
    click.echo(f"{counts['coderingen']} codering(en) van {', '.join(counts['codeurs'])} ingelezen uit "
               f"{counts['bronnen']} bron(nen).")
    if counts["onbekende_bronnen"]:
        _err("LET OP: niet in de database of met andere tekst: " + ", ".join(counts["onbekende_bronnen"]))
    if counts["onbekende_codes"]:
        _err(f"LET OP: {len(counts['onbekende_codes'])} code(s) niet in het codeboek; overgeslagen.")


@main.command("agree")
@click.argument("coding_a")
@click.argument("coding_b")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
@click.option("-o", "--output", "output", default=None, help="Schrijf naar dit bestand.")
def agree_cmd(coding_a, coding_b, fmt, output):
    """Overeenstemming tussen twee coderingen: Cohen's kappa, Krippendorff's alpha en
    percentage per code, per passage en per document.

    Elke codering is een .qdpx, een CSV met gecodeerde passages (uit 'export') of
    db:PAD[:codeur] (standaard codeur: protocolscan).
    """
    from .batch import agree
    from .model import ProtocolscanError

    try:
        report = agree(coding_a, coding_b)
    except ProtocolscanError as err:
        _err(f"FOUT: {err}")
        sys.exit(2)
    if fmt == "csv":
        text = report.to_csv()
    elif fmt == "json":
        text = json.dumps(report.to_dicts(), ensure_ascii=False, indent=2) + "\n"
    else:
        text = report.to_text()
    with _output(output) as out:
        out.write(text)


@main.command("chart")
@click.option("--db", "db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Map waarin de grafieken komen (wordt aangemaakt).")
@click.option("--format", "fmt", default="png,svg", show_default=True,
              help="Bestandsformaten, komma-gescheiden: png, svg of png,svg.")
@click.option("--coder", default="protocolscan", show_default=True, help="Welke codeur (protocolscan of een mens).")
def chart_cmd(db, output, fmt, coder):
    """Maak een heatmap (scholen x codes) en een staafdiagram (% scholen per code per
    sector) uit een batch-database, als PNG en/of SVG."""
    from .batch import make_charts
    from .model import ProtocolscanError

    try:
        written = make_charts(db, output, formats=fmt.split(","), coder=coder)
    except ProtocolscanError as err:
        _err(f"FOUT: {err}")
        sys.exit(2)
    for path in written:
        _err(f"Geschreven: {path}")


@main.command("corpus-report")
@click.option("--db", "db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", default="corpusrapport.html", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Het HTML-bestand.")
@click.option("--coder", default="protocolscan", show_default=True, help="Welke codeur (protocolscan of een mens).")
@click.option("--requirements", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Andere eisenlijst (YAML) voor de namen van de eisen.")
def corpus_report_cmd(db, output, coder, requirements):
    """Maak één HTML-rapport over het hele corpus: tabellen B2.1 en B2.3 (naast het
    referentieonderzoek), de grafieken en de oordelen per eis over de scholen."""
    from .batch import corpus_report
    from .model import ProtocolscanError

    try:
        corpus_report(db, output, coder=coder, requirements=requirements)
    except ProtocolscanError as err:
        _err(f"FOUT: {err}")
        sys.exit(2)
    _err(f"Geschreven: {output}")


# ---------------------------------------------------------------- web

@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adres waarop de webpagina luistert. 127.0.0.1: alleen deze computer.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Poort van de webpagina.")
def serve_cmd(host, port):
    """Start de webpagina: sleep een protocol in de browser en lees daar het rapport."""
    try:
        from .web import run
    except ModuleNotFoundError as exc:
        _err(f"FOUT: de webpagina heeft extra pakketten nodig ({exc.name} ontbreekt): "
             "pip install 'protocolscan[web]'")
        sys.exit(2)
    if host not in ("127.0.0.1", "localhost", "::1"):
        _err(f"LET OP: de webpagina is bereikbaar voor andere computers via {host}, zonder wachtwoord. "
             "Zet hem alleen achter een server van uw organisatie met toegangscontrole.")
    shown = f"[{host}]" if ":" in host else host
    _err(f"De webpagina draait op http://{shown}:{port}/ (stoppen met Ctrl+C)")
    run(host=host, port=port)


def _as_text(doc) -> str:
    pages = f", {doc.pages} pagina" + ("'s" if doc.pages != 1 else "") if doc.pages else ""
    lines = [f"== {doc.source} ({doc.format}" + pages
             + (f", OCR op pagina {', '.join(map(str, doc.ocr_pages))}" if doc.ocr_pages else "") + ")"]
    for p in doc.passages:
        page = f"p.{p.page:<3}" if p.page else "     "
        indent = "  " * len(p.heading_path)
        lines.append(f"{page} {p.kind:<2} {indent}{p.text}")
    return "\n".join(lines) + "\n\n"


if __name__ == "__main__":
    main()
