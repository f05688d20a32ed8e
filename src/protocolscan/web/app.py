"""The web app behind ``protocolscan serve``: upload a protocol, read the report.

A thin layer over ``protocolscan.api``: the upload is stored in a temporary folder,
``api.scan`` reads, codes and scores it, ``api.report`` renders the report, and the
folder is removed before the answer is sent. Nothing is kept between requests: the
report page carries its own downloads (HTML, JSON, Markdown) as ``data:`` URLs.

Routes::

    GET  /            upload page
    POST /scan        form upload (files, sector, peildatum) -> report page (HTML)
    POST /api/scan    the same for scripts; ?format=json|md|html -> the report itself
    GET  /health      {"status": "ok", "version": ...}

Security: every page is rendered by jinja2 with autoescaping, and a Content Security
Policy allows only this page's own inline script and style (by nonce), so document
text containing ``<script>`` is shown as text and could not run even if it slipped
through. Pages load nothing from other hosts. The interactive API docs of FastAPI
are switched off because they load scripts from a CDN.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__, api
from ..model import Document, ExtractionError, ProtocolscanError
from .limits import BodySizeLimit
from .uploads import ACCEPTED_NL, StoredUpload, UploadError, store_upload

log = logging.getLogger("protocolscan.web")

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_FILES = 10
#: Sector choices of the form: value -> label. The empty value lets the scorer detect it.
SECTOR_CHOICES = {
    "": "automatisch herkennen",
    "po": "po – primair onderwijs",
    "so": "so – speciaal onderwijs",
    "vso": "vso – voortgezet speciaal onderwijs",
    "vo": "vo – voortgezet onderwijs",
    "regio": "regio – regionaal protocol",
}
#: Report formats offered for download: format -> (media type, file extension, label).
DOWNLOADS = {
    "html": ("text/html", "html", "HTML (om te bewaren of af te drukken)"),
    "json": ("application/json", "json", "JSON (voor verdere verwerking)"),
    "md": ("text/markdown", "md", "Markdown"),
}
VERDICT_ORDER = {"onjuist": 0, "ontbreekt": 1, "deels": 2, "voldaan": 3, "nvt": 4}
STATUS_NL = {
    400: "Het verzoek klopt niet.",
    404: "Deze pagina bestaat niet.",
    405: "Deze handeling is op dit adres niet mogelijk.",
    413: "De upload is te groot.",
    415: "Dit bestandstype wordt niet ondersteund.",
    422: "Het document kon niet worden gelezen.",
    500: "Er ging iets mis bij het verwerken. Probeer het opnieuw of gebruik de opdrachtregel.",
}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    # Reports describe a school's documents: keep them out of shared browser caches.
    (b"cache-control", b"no-store"),
]
DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


@dataclass(frozen=True)
class WebSettings:
    """Limits of the web app. ``temp_dir`` is where the per-request temporary folders
    are made (default: the system's temp folder)."""

    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_files: int = DEFAULT_MAX_FILES
    temp_dir: str | None = None


@dataclass
class ScanResult:
    """What one scan request produced (all in memory; the files are gone)."""

    report: dict[str, Any]
    outputs: dict[str, str]
    files: list[str]
    seconds: float
    sizes: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- templates


def where(ref: dict[str, Any]) -> str:
    """'pagina 4, passage 12', or 'passage 12' for formats without pages."""
    page = ref.get("page")
    return f"pagina {page}, passage {ref.get('n')}" if page else f"passage {ref.get('n')}"


def percent(value: Any) -> str:
    return "–" if value is None else f"{float(value):.0f}%"


def number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ucfirst(value: Any) -> str:
    text = str(value)
    return text[:1].upper() + text[1:]


def safe_url(value: Any) -> str:
    """Only http(s) links are shown as links (a catalogue extension could hold others)."""
    url = str(value or "")
    return url if re.match(r"https?://", url) else ""


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(where=where, percent=percent, number=number, safe_url=safe_url, ucfirst=ucfirst)
    env.globals.update(version=__version__, sector_choices=SECTOR_CHOICES, accepted_nl=ACCEPTED_NL)
    return env


def page_csp(nonce: str) -> str:
    """Only this page's own inline script and style (by nonce); forms post to us;
    images only as data: URLs; no connections anywhere."""
    return (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


# ---------------------------------------------------------------- the report page data


def checklist(report: dict[str, Any]) -> list[dict[str, Any]]:
    """All requirements, problems first in the report's order (legal items first,
    wrong before missing before partial), then the satisfied ones, then n.v.t."""
    by_id = {e["id"]: e for e in report["requirements"]}
    problems = [by_id[i] for i in report["problems"] if i in by_id]
    rest = [e for e in report["requirements"] if e["id"] not in report["problems"]]
    rest.sort(key=lambda e: VERDICT_ORDER.get(e["verdict"], 9))  # stable: catalogue order within
    return problems + rest


def layer_labels(report: dict[str, Any]) -> dict[str, str]:
    return {layer["layer"]: layer["label_nl"] for layer in report["scores"].get("layers", [])}


def download_links(outputs: dict[str, str], report: dict[str, Any]) -> list[dict[str, str]]:
    """The report files as data: URLs, so a download needs no second request and
    the server keeps nothing."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", str(report["document"].get("id") or "protocol")).strip("-")
    links = []
    for fmt, (media, ext, label) in DOWNLOADS.items():
        if fmt in outputs:
            payload = base64.b64encode(outputs[fmt].encode("utf-8")).decode("ascii")
            links.append({"format": fmt, "label": label, "filename": f"verzuimscan-{stem or 'protocol'}.{ext}",
                          "href": f"data:{media};charset=utf-8;base64,{payload}"})
    return links


# ---------------------------------------------------------------- scanning


class Scanner:
    """Runs one scan at a time: the pipeline is CPU-bound and the tagger is shared."""

    def __init__(self, settings: WebSettings):
        self.settings = settings
        self._lock = threading.Lock()

    def run(self, uploads: list[UploadFile], sector: str | None, peildatum: str | None,
            formats: tuple[str, ...]) -> ScanResult:
        started = time.perf_counter()
        with self._lock, tempfile.TemporaryDirectory(prefix="protocolscan-web-", dir=self.settings.temp_dir) as tmp:
            stored = [store_upload(u.file, u.filename, Path(tmp), i) for i, u in enumerate(uploads, 1)]
            doc = self._scan(stored, sector, peildatum)
            hide_temp_paths(doc, stored, tmp)
            outputs = {fmt: api.report(doc, fmt) for fmt in dict.fromkeys(("json", *formats))}
        # The folder and everything in it is gone here, before the answer is sent.
        return ScanResult(report=json.loads(outputs["json"]), outputs=outputs,
                          files=[s.display_name for s in stored], sizes=[s.size for s in stored],
                          seconds=time.perf_counter() - started)

    @staticmethod
    def _scan(stored: list[StoredUpload], sector: str | None, peildatum: str | None) -> Document:
        names = {str(s.path): s.display_name for s in stored}
        try:
            return api.scan([s.path for s in stored], sector=sector, peildatum=peildatum)
        except ExtractionError as err:
            name = names.get(err.path, Path(err.path).name)
            reason = err.reason + (f" ({err.hint})" if err.hint else "")
            raise UploadError(f"'{name}' kon niet worden gelezen: {reason}.", 422) from None
        except ProtocolscanError as err:
            raise UploadError(f"{str(err).rstrip('.')}.", 400) from None


def hide_temp_paths(doc: Document, stored: list[StoredUpload], tmp: str) -> None:
    """Show the user's own file names in the report instead of temp-folder paths."""
    doc.source = stored[0].display_name
    doc.metadata["sources"] = [s.display_name for s in stored]
    by_path = {str(s.path): s.display_name for s in stored}
    doc.warnings = [_replace_paths(w, by_path, tmp) for w in doc.warnings]


def _replace_paths(text: str, by_path: dict[str, str], tmp: str) -> str:
    for path, name in by_path.items():
        text = text.replace(path, name)
    return text.replace(tmp, "")


async def read_upload_form(request: Request, settings: WebSettings) -> tuple[list[UploadFile], str | None, str | None, Any]:
    """The files, sector and peildatum of a form post, and the form (to close after
    the scan). Raises UploadError (Dutch) when something is wrong."""
    try:
        form = await request.form(max_files=settings.max_files, max_fields=20)
    except StarletteHTTPException as err:
        if "files" in str(err.detail).lower():
            raise UploadError(f"Te veel bestanden: stuur er hoogstens {settings.max_files} tegelijk.", 400) from None
        raise UploadError("Het formulier kon niet worden gelezen. Kies de bestanden opnieuw en probeer het nog eens.",
                          400) from None
    try:
        return (*form_values(form), form)
    except UploadError:
        await form.close()
        raise


def form_values(form: Any) -> tuple[list[UploadFile], str | None, str | None]:
    uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile) and (u.filename or u.size)]
    if not uploads:
        raise UploadError("Kies ten minste één bestand: het protocol en eventueel de bijlagen.", 400)
    sector = str(form.get("sector") or "").strip().lower()
    if sector not in SECTOR_CHOICES:
        raise UploadError("Onbekende sector: kies automatisch herkennen, po, so, vso, vo of regio.", 400)
    peildatum = str(form.get("peildatum") or "").strip()
    if peildatum and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", peildatum):
        raise UploadError("De peildatum moet een datum zijn in de vorm JJJJ-MM-DD.", 400)
    return uploads, sector or None, peildatum or None


# ---------------------------------------------------------------- the app


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The FastAPI application (``uvicorn`` serves it; ``run`` starts it)."""
    settings = settings or WebSettings()
    env = _environment()
    scanner = Scanner(settings)
    app = FastAPI(title="protocolscan", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  **_no_telemetry())
    app.state.settings = settings

    def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        html = env.get_template(template).render(nonce=nonce, max_mb=settings.max_upload_bytes // (1024 * 1024),
                                                 max_bytes=settings.max_upload_bytes,
                                                 max_files=settings.max_files, **context)
        return HTMLResponse(html, status_code=status, headers={"content-security-policy": page_csp(nonce)})

    def upload_page(error: str | None = None, status: int = 200, sector: str = "", peildatum: str = "") -> HTMLResponse:
        return render("upload.html.j2", status, error=error, sector=sector, peildatum=peildatum)

    def too_large(scope: Scope) -> Response:
        message = (f"De bestanden zijn samen groter dan {settings.max_upload_bytes // (1024 * 1024)} MB. "
                   "Verklein het document (bijvoorbeeld: sla het op als PDF zonder afbeeldingen) of stuur minder bijlagen mee.")
        log.info("upload refused: body larger than %d bytes", settings.max_upload_bytes)
        if scope.get("path", "").startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=413)
        return upload_page(message, 413)

    async def scan_request(request: Request, formats: tuple[str, ...]) -> ScanResult:
        uploads, sector, peildatum, form = await read_upload_form(request, settings)
        try:
            return await run_in_threadpool(scanner.run, uploads, sector, peildatum, formats)
        except UploadError:
            raise
        except Exception as err:
            # Only the type, no message or traceback: those may quote the document.
            log.error("scan failed: %s", type(err).__name__)
            raise UploadError(STATUS_NL[500] + " (Met 'protocolscan scan' op de opdrachtregel ziet u de precieze fout.)",
                              500) from None
        finally:
            await form.close()

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return upload_page()

    @app.get("/scan")
    async def scan_get() -> RedirectResponse:  # e.g. a reload of the report page
        return RedirectResponse("/", status_code=303)

    @app.post("/scan", response_class=HTMLResponse)
    async def scan_page(request: Request) -> HTMLResponse:
        started = time.perf_counter()
        try:
            result = await scan_request(request, tuple(DOWNLOADS))
        except UploadError as err:
            _log_refusal(err.status, started)
            return upload_page(err.message, err.status)
        _log_scan(result)
        report = result.report
        return render("report.html.j2", report=report, files=result.files, checklist=checklist(report),
                      layer_nl=layer_labels(report), downloads=download_links(result.outputs, report),
                      seconds=result.seconds)

    @app.post("/api/scan")
    async def scan_api(request: Request, format: str = "json") -> Response:
        started = time.perf_counter()
        if format not in DOWNLOADS:
            return JSONResponse({"detail": f"Onbekend formaat '{format}': kies json, md of html."}, status_code=400)
        try:
            result = await scan_request(request, (format,))
        except UploadError as err:
            _log_refusal(err.status, started)
            return JSONResponse({"detail": err.message}, status_code=err.status)
        _log_scan(result)
        media = DOWNLOADS[format][0]
        return Response(result.outputs[format], media_type=f"{media}; charset=utf-8")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = STATUS_NL.get(exc.status_code, "Er ging iets mis.")
        if request.url.path.startswith(("/api/", "/health")):
            return JSONResponse({"detail": message}, status_code=exc.status_code)
        return render("error.html.j2", exc.status_code, message=message, code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # Only the type: an exception's message may quote the document.
        log.error("unexpected %s while handling %s %s", type(exc).__name__, request.method, request.url.path)
        message = STATUS_NL[500]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=500)
        return render("error.html.j2", 500, message=message, code=500)

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes, too_large=too_large)
    app.add_middleware(SecurityHeaders)
    return app


def _no_telemetry() -> dict[str, Any]:
    """Switch off FastAPI's built-in OpenTelemetry (newer versions): with an exporter
    configured from the environment it would send request data elsewhere."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                          "auto_configure": False}}


def _log_scan(result: ScanResult) -> None:
    # Counts and sizes only: no file names, titles or text (they describe a school).
    log.info("scan: %d file(s), %.1f MB, %d passages, %.2f s", len(result.files), sum(result.sizes) / 1e6,
             result.report["document"]["passages"], result.seconds)


def _log_refusal(status: int, started: float) -> None:
    log.info("scan refused: status %d after %.2f s", status, time.perf_counter() - started)


class SecurityHeaders:
    """Adds the security headers to every response, and a strict default CSP to
    responses that do not set their own (JSON, redirects)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", DEFAULT_CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def run(host: str = "127.0.0.1", port: int = 8000, settings: WebSettings | None = None,
        log_level: str = "info") -> None:
    """Serve the app with uvicorn until Ctrl+C (``protocolscan serve``)."""
    import python_multipart  # noqa: F401  (uploads need it: fail at start, not at the first upload)
    import uvicorn

    import copy

    from uvicorn.config import LOGGING_CONFIG

    # Our own log lines (counts, sizes, timings) go out next to uvicorn's.
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["protocolscan.web"] = {"handlers": ["default"], "level": log_level.upper(), "propagate": False}
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, log_config=log_config,
                server_header=False, proxy_headers=False)
