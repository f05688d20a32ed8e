"""The web app in a real browser: Debian's headless Chromium driven by Playwright.

The server runs with uvicorn in a background thread on 127.0.0.1 and a free port.
The browser is never downloaded (no ``playwright install``): the tests use
/usr/bin/chromium (Debian package ``chromium``) and are skipped when it or the
Playwright package is missing.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("python_multipart")

import render_corpus  # noqa: E402  (tools/, put on sys.path by conftest)
from protocolscan import api  # noqa: E402
from protocolscan.web import create_app  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "corpora" / "seed"
PROTOCOL = "vo-04"  # states four legal rules wrongly: W01, W06, W08, W11
SCRIPT = "<script>alert(1)</script>"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("browser")
    doc = render_corpus.load_corpus_doc(SEED / f"{PROTOCOL}.json")
    paths = render_corpus.render_document(doc, out, ("docx", "pdf"))
    hostile = dict(doc, title=f"{SCRIPT} {doc['title']}",
                   passages=[dict(p, text=f"{p['text']} {SCRIPT}") if p["kind"] in ("h1", "p") else p
                             for p in doc["passages"]])
    (out / "hostile").mkdir()
    return {"pdf": paths["pdf"], "docx": paths["docx"],
            "hostile": render_corpus.render_document(hostile, out / "hostile", ("docx",))["docx"]}


@pytest.fixture(scope="module")
def server() -> str:
    """The app on 127.0.0.1 and a free port (the socket is bound here, so no race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(400):  # waits for start-up, not a timing assertion
        if instance.started:
            break
        time.sleep(0.025)
    assert instance.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, server):
    """A fresh Dutch browser tab that records every request and every JS dialog."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.requests = []
    tab.dialogs = []
    tab.on("request", lambda r: tab.requests.append(r.url))
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def shown_verdicts(tab) -> list[tuple[str, str, str]]:
    """(requirement, verdict, badge text) for every requirement on the report page."""
    return tab.eval_on_selector_all(
        "li[data-requirement]",
        "els => els.map(e => [e.dataset.requirement, e.dataset.verdict, e.querySelector('.badge').innerText])")


def only_local_requests(tab, server: str) -> bool:
    return all(url.startswith(server + "/") or url.startswith("data:") for url in tab.requests)


def test_upload_shows_progress_then_the_report(page, server, files, tmp_path):
    page.goto(server + "/")
    page.get_by_label("Protocol en bijlagen").set_input_files(str(files["pdf"]))
    page.get_by_label("Sector").select_option("")
    # Hold the first submit in the page (a listener after the page's own), so the
    # busy state can be checked before the report replaces the page.
    page.evaluate("document.getElementById('scan-form').addEventListener('submit', e => e.preventDefault())")
    page.get_by_role("button", name="Protocol controleren").click()
    assert page.locator("#busy").is_visible()
    assert "Bezig met lezen" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Protocol controleren").is_disabled()
    page.evaluate("document.getElementById('scan-form').submit()")  # no submit event this time

    page.get_by_role("heading", level=1, name="Rapport:").wait_for()
    expected = {v.requirement: v.verdict for v in api.scan([files["pdf"]]).verdicts}
    shown = shown_verdicts(page)
    assert {rid: verdict for rid, verdict, _ in shown} == expected
    assert [(rid, badge) for rid, _, badge in shown[:4]] == [
        ("W01", "onjuist"), ("W06", "onjuist"), ("W08", "onjuist"), ("W11", "onjuist")]
    assert page.locator("ul.cards > li.card").count() == 4  # three layers and the total
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000

    with page.expect_download() as download:
        page.get_by_role("link", name="Download als JSON").click()
    report = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert download.value.suggested_filename == f"verzuimscan-{PROTOCOL}.json"
    assert report["problems"][:4] == ["W01", "W06", "W08", "W11"]
    assert only_local_requests(page, server)


def test_script_in_document_does_not_run(page, server, files):
    page.goto(server + "/")
    page.get_by_label("Protocol en bijlagen").set_input_files(str(files["hostile"]))
    page.get_by_role("button", name="Protocol controleren").click()
    page.get_by_role("heading", level=1, name="Rapport:").wait_for()
    assert SCRIPT in page.get_by_role("heading", level=1).inner_text()  # shown as text
    assert page.dialogs == []
    assert only_local_requests(page, server)


def test_keyboard_and_drag_and_drop(page, server, files):
    page.goto(server + "/")
    # Drop a file on the zone, as a user dragging it from the file manager would.
    data = base64.b64encode(files["docx"].read_bytes()).decode("ascii")
    page.evaluate("""([name, data]) => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name));
        const zone = document.getElementById("dropzone");
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", [files["docx"].name, data])
    assert files["docx"].name in page.locator("#file-list").inner_text()
    # Then only the keyboard: Tab to the button and press Enter.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "scan-submit":
            break
    assert page.evaluate("document.activeElement.id") == "scan-submit"
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name="Rapport:").wait_for()
    assert f"{files['docx'].name}" in page.locator(".facts").inner_text()


def test_pages_reflow_at_200_percent_zoom(browser, server, files):
    # 640 CSS pixels wide at device scale 2 is a 1280-pixel window zoomed to 200%.
    context = browser.new_context(locale="nl-NL", viewport={"width": 640, "height": 450}, device_scale_factor=2)
    tab = context.new_page()
    try:
        no_sideways_scroll = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        tab.goto(server + "/")
        assert tab.evaluate(no_sideways_scroll)
        tab.get_by_label("Protocol en bijlagen").set_input_files(str(files["pdf"]))
        tab.get_by_role("button", name="Protocol controleren").click()
        tab.get_by_role("heading", level=1, name="Rapport:").wait_for(timeout=60_000)
        assert tab.evaluate(no_sideways_scroll)
    finally:
        context.close()

