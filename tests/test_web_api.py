"""The web app (``protocolscan serve``) through FastAPI's TestClient, on real DOCX and
PDF files rendered from the labelled corpus: the report page, the downloads, the
limits, files with the wrong content, a protocol that contains HTML/JS, and that
nothing of the document stays on disk or ends up in the logs."""

from __future__ import annotations

import base64
import copy
import io
import json
import logging
import re
import zipfile
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")  # needed for uploads
pytest.importorskip("httpx")  # needed by the TestClient

from fastapi.testclient import TestClient  # noqa: E402

import render_corpus  # noqa: E402  (tools/, put on sys.path by conftest)
from protocolscan import api  # noqa: E402
from protocolscan.web import WebSettings, create_app  # noqa: E402
from protocolscan.web.app import DEFAULT_MAX_UPLOAD_BYTES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "corpora" / "seed"
#: A vo protocol that states four legal rules wrongly (gold: W01, W06, W08, W11 onjuist),
#: and a short po protocol used as an annex.
PROTOCOL = "vo-04"
ANNEX = "po-02"
SCRIPT = "<script>alert(1)</script>"
MARKER = "Zwanenbloemzegel-7731"  # a sentence part that must never reach the logs


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("web")
    paths = render_corpus.render_document(render_corpus.load_corpus_doc(SEED / f"{PROTOCOL}.json"), out, ("docx", "pdf"))
    annex = render_corpus.render_document(render_corpus.load_corpus_doc(SEED / f"{ANNEX}.json"), out, ("docx",))
    hostile = copy.deepcopy(render_corpus.load_corpus_doc(SEED / f"{PROTOCOL}.json"))
    hostile["title"] = f"{SCRIPT} {hostile['title']}"
    for p in hostile["passages"]:
        if p["kind"] in ("h1", "p", "li"):
            p["text"] = f"{p['text']} {SCRIPT}"
    hostile["passages"][1]["text"] += f" {MARKER}."
    hostile_path = out / "hostile"
    hostile_path.mkdir()
    return {"pdf": paths["pdf"], "docx": paths["docx"], "annex": annex["docx"],
            "hostile": render_corpus.render_document(hostile, hostile_path, ("docx",))["docx"]}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def upload(client: TestClient, *paths: Path, url: str = "/scan", names: list[str] | None = None,
           **data: str):
    names = names or [p.name for p in paths]
    parts = [("files", (name, p.read_bytes(), "application/octet-stream")) for name, p in zip(names, paths)]
    return client.post(url, files=parts, data=data)


class ReportPage(HTMLParser):
    """What the report page shows: verdict per requirement (in page order), the
    download links and the script elements."""

    def __init__(self, html: str):
        super().__init__()
        self.verdicts: list[tuple[str, str]] = []
        self.downloads: dict[str, dict[str, str]] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "li" and "data-requirement" in a:
            self.verdicts.append((a["data-requirement"], a["data-verdict"]))
        if tag == "a" and "data-format" in a:
            self.downloads[a["data-format"]] = a
        if tag == "script":
            self.scripts.append(a)


def decode_data_url(href: str) -> tuple[str, str]:
    header, payload = href.split(",", 1)
    assert header.startswith("data:") and header.endswith(";base64")
    return header[5:].split(";")[0], base64.b64decode(payload).decode("utf-8")


# ---------------------------------------------------------------- pages


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_upload_page_is_labelled_and_self_contained(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    for field in ("files", "sector", "peildatum"):
        assert re.search(rf'<label for="{field}">', html), field
        assert f'id="{field}"' in html
    assert "automatisch herkennen" in html
    for sector in ("po", "so", "vso", "vo", "regio"):
        assert f'<option value="{sector}"' in html
    assert 'lang="nl"' in html
    # Nothing is loaded from elsewhere: no external scripts, styles, fonts or images.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "@import" not in html and "url(" not in html
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    assert f'<script nonce="{nonce}">' in html


def test_interactive_docs_are_off(client):
    # FastAPI's /docs page loads its scripts from a CDN.
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


def test_unknown_page_has_dutch_message(client):
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in response.text


# ---------------------------------------------------------------- the report


def test_pdf_upload_shows_verdicts_of_the_pipeline(client, files):
    response = upload(client, files["pdf"])
    assert response.status_code == 200, response.text[:500]
    page = ReportPage(response.text)
    expected = {v.requirement: v.verdict for v in api.scan([files["pdf"]]).verdicts}
    assert dict(page.verdicts) == expected
    # Problems first (wrong legal items at the top), then the rest.
    shown = [v for _, v in page.verdicts]
    first_ok = next(i for i, v in enumerate(shown) if v in ("voldaan", "nvt"))
    assert all(v in ("onjuist", "ontbreekt", "deels") for v in shown[:first_ok])
    assert all(v in ("voldaan", "nvt") for v in shown[first_ok:])
    assert [rid for rid, _ in page.verdicts[:4]] == ["W01", "W06", "W08", "W11"]
    assert {v for _, v in page.verdicts[:4]} == {"onjuist"}
    html = response.text
    assert "Wat er niet klopt:" in html and "Voorbeeld van een formulering" in html and "Bron" in html
    assert re.search(r"pagina \d+, passage \d+", html)  # quoted passages with page numbers
    assert 'id="onderwerpen"' in html and "aanwezig" in html
    assert "vo-04.pdf" in html
    assert "protocolscan-web-" not in html  # no temp-folder paths


def test_docx_with_annex_is_one_protocol(client, files):
    response = upload(client, files["docx"], files["annex"], names=["protocol.docx", "bijlage 1.docx"])
    assert response.status_code == 200
    html = response.text
    assert "protocol.docx, bijlage 1.docx" in html
    alone = api.scan([files["docx"]])
    annex = api.scan([files["annex"]])
    passages = int(re.search(r"(\d+) passages</dd>", html).group(1))
    assert passages == len(alone.passages) + len(annex.passages)


def test_given_sector_is_used(client, files):
    response = upload(client, files["docx"], sector="po")
    assert response.status_code == 200
    assert "primair onderwijs" in response.text and "sector opgegeven" in response.text


def test_downloads_are_embedded_in_the_page(client, files):
    response = upload(client, files["docx"])
    page = ReportPage(response.text)
    assert set(page.downloads) == {"html", "json", "md"}
    kinds = {}
    for fmt, link in page.downloads.items():
        assert link["download"] == f"verzuimscan-{PROTOCOL}.{fmt}"
        kinds[fmt] = decode_data_url(link["href"])
    assert kinds["html"][0] == "text/html" and kinds["html"][1].lstrip().startswith("<!DOCTYPE html>")
    report = json.loads(kinds["json"][1])
    assert [rid for rid, v in page.verdicts if v in ("onjuist", "ontbreekt", "deels")] == report["problems"]
    assert report["document"]["sources"] == [f"{PROTOCOL}.docx"]
    assert kinds["md"][1].startswith("# Verzuimprotocol-scan")


@pytest.mark.parametrize("fmt,media", [("json", "application/json"), ("md", "text/markdown"), ("html", "text/html")])
def test_api_returns_each_format(client, files, fmt, media):
    response = upload(client, files["pdf"], url=f"/api/scan?format={fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    if fmt == "json":
        report = response.json()
        assert {r["id"]: r["verdict"] for r in report["requirements"]}["W01"] == "onjuist"


def test_api_rejects_unknown_format(client, files):
    response = upload(client, files["pdf"], url="/api/scan?format=pdf")
    assert response.status_code == 400
    assert "Onbekend formaat" in response.json()["detail"]


# ---------------------------------------------------------------- security and privacy


def test_script_in_document_is_shown_as_text(client, files):
    response = upload(client, files["hostile"], names=["<script>evil</script>.docx"])
    assert response.status_code == 200
    html = response.text
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = ReportPage(html)
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    assert all(s.get("nonce") == nonce for s in page.scripts)  # only our own script
    assert "<script>evil" not in html
    assert SCRIPT not in decode_data_url(page.downloads["html"]["href"])[1]


def test_script_in_title_is_escaped_in_markdown_download(client, files):
    page = ReportPage(upload(client, files["hostile"]).text)
    assert SCRIPT not in decode_data_url(page.downloads["md"]["href"])[1]


def test_too_large_upload_gets_413_in_dutch(client, files):
    # The documented default limit: 25 MB for all files together.
    assert DEFAULT_MAX_UPLOAD_BYTES == 25 * 1024 * 1024
    big = b"%PDF-1.4\n" + b"0" * DEFAULT_MAX_UPLOAD_BYTES
    response = client.post("/scan", files=[("files", ("groot.pdf", big, "application/pdf"))])
    assert response.status_code == 413
    assert "groter dan 25 MB" in response.text


def test_too_large_chunked_upload_gets_413(files):
    # A body without Content-Length is counted while it arrives.
    client = TestClient(create_app(WebSettings(max_upload_bytes=200_000)))
    boundary = "grens"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(10):
            yield b"0" * 50_000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post("/api/scan", content=body(),
                           headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
    assert "groter dan" in response.json()["detail"]


def test_random_bytes_named_pdf_are_refused(client):
    noise = bytes(range(256)) * 64
    response = client.post("/scan", files=[("files", ("protocol.pdf", noise, "application/pdf"))])
    assert response.status_code == 415
    assert "'protocol.pdf' is geen PDF-, Word-, OpenDocument- of RTF-bestand" in unescape(response.text)
    assert "inhoud" in response.text


def test_zip_that_is_not_a_document_is_refused(client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("notes.txt", "hallo")
    response = client.post("/api/scan", files=[("files", ("protocol.docx", buffer.getvalue(), "application/zip"))])
    assert response.status_code == 415
    assert "is geen" in response.json()["detail"]


def test_docx_content_with_pdf_name_is_read_as_docx(client, files):
    response = upload(client, files["docx"], names=["protocol.pdf"])
    assert response.status_code == 200
    assert "protocol.pdf" in response.text


def test_broken_pdf_gives_dutch_reading_error(client):
    response = client.post("/scan", files=[("files", ("kapot.pdf", b"%PDF-1.7\n1 0 obj\n<<", "application/pdf"))])
    assert response.status_code == 422
    assert "'kapot.pdf' kon niet worden gelezen" in unescape(response.text)


@pytest.mark.parametrize("data,message", [
    ({"sector": "mbo"}, "Onbekende sector"),
    ({"peildatum": "morgen"}, "peildatum"),
])
def test_bad_form_values_are_refused(client, files, data, message):
    response = upload(client, files["docx"], **data)
    assert response.status_code == 400
    assert message in response.text


def test_no_file_is_refused(client):
    response = client.post("/scan", data={"sector": ""}, files=[("files", ("", b"", "application/octet-stream"))])
    assert response.status_code == 400
    assert "Kies ten minste één bestand" in response.text


def test_too_many_files_are_refused(files):
    client = TestClient(create_app(WebSettings(max_files=2)))
    response = upload(client, files["docx"], files["docx"], files["docx"])
    assert response.status_code == 400
    assert "Te veel bestanden" in response.text


def test_temp_folder_is_removed_after_the_answer(files, tmp_path):
    root = tmp_path / "uploads"
    root.mkdir()
    client = TestClient(create_app(WebSettings(temp_dir=str(root))))
    assert upload(client, files["docx"]).status_code == 200
    assert client.post("/scan", files=[("files", ("x.pdf", b"nonsense", "application/pdf"))]).status_code == 415
    assert list(root.iterdir()) == []


def test_logs_hold_no_document_content(client, files, caplog):
    caplog.set_level(logging.DEBUG)
    response = upload(client, files["hostile"], names=["Geheime school.docx"])
    assert response.status_code == 200
    assert MARKER in response.text  # the marker is in the document and the report ...
    assert any(r.name == "protocolscan.web" for r in caplog.records)
    logged = caplog.text
    assert MARKER not in logged  # ... but not in the logs
    assert "Geheime school" not in logged
    assert "alert(1)" not in logged


def test_unexpected_failure_gives_dutch_500_without_content_in_logs(client, files, monkeypatch, caplog):
    def broken_scan(*args, **kwargs):
        raise ValueError(f"passage {MARKER} could not be scored")

    monkeypatch.setattr(api, "scan", broken_scan)
    caplog.set_level(logging.DEBUG)
    response = upload(client, files["docx"])
    assert response.status_code == 500
    assert "Er ging iets mis" in response.text
    assert "ValueError" in caplog.text
    assert MARKER not in caplog.text and MARKER not in response.text


def test_server_binds_to_this_computer_by_default():
    import inspect

    from protocolscan.web import run

    assert inspect.signature(run).parameters["host"].default == "127.0.0.1"


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\juf\\Protocol 2025.docx", "Protocol 2025.docx"),
    ("<b>protocol<i>.pdf", "_b_protocol_i_.pdf"),
    ("", "bestand-1"),
])
def test_upload_names_are_cleaned(name, expected):
    from protocolscan.web.uploads import clean_name

    assert clean_name(name, fallback="bestand-1") == expected
