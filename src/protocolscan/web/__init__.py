"""Web app: a school or an auditor uploads a protocol in the browser and reads the
Dutch report there (``protocolscan serve``).

    from protocolscan.web import create_app, run
    run(host="127.0.0.1", port=8000)          # what `protocolscan serve` does
    app = create_app()                        # for uvicorn or FastAPI's TestClient

Needs the ``web`` extra (FastAPI, uvicorn, python-multipart). The app is a thin layer
over ``protocolscan.api``; see ``app.py`` for the routes and the privacy rules.
"""

from .app import WebSettings, create_app, run

__all__ = ["WebSettings", "create_app", "run"]
