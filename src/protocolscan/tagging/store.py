"""Saving and loading the tagger's state as a skops file.

The state is a flat dict of numpy arrays, strings and numbers, so the file holds no
Python objects to trust: ``skops.io.load`` opens it with no trusted types. Importing
skops pulls in scikit-learn (about two seconds on a slow core), which would break the
cold start of ``protocolscan tag``. ``read_state`` therefore reads the subset of the
skops format that ``write_state`` produces (a zip with ``schema.json`` and ``.npy``
files, read with ``allow_pickle=False``) and falls back to ``skops.io.load`` for
anything else. A test checks that both readers agree.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from .codebook import CodebookError

SIMPLE_LOADERS = {"DictNode", "ListNode", "JsonNode", "NdArrayNode"}


def write_state(state: dict[str, Any], path: str | Path) -> Path:
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(state, path, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    return path


def read_state(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
            try:
                return decode_node(schema, archive)
            except UnsupportedNode:
                pass
    except FileNotFoundError:
        raise CodebookError(path, "modelbestand niet gevonden (maak het met 'protocolscan train')") from None
    except (zipfile.BadZipFile, KeyError, ValueError) as err:
        raise CodebookError(path, f"geen geldig modelbestand ({err})") from None
    return read_state_with_skops(path)


def read_state_with_skops(path: Path) -> dict[str, Any]:
    import skops.io as sio

    return sio.load(path, trusted=[])


class UnsupportedNode(Exception):
    pass


def decode_node(node: dict, archive: zipfile.ZipFile) -> Any:
    loader = node.get("__loader__")
    if loader not in SIMPLE_LOADERS:
        raise UnsupportedNode(loader)
    if loader == "JsonNode":
        return json.loads(node["content"])
    if loader == "ListNode":
        return [decode_node(item, archive) for item in node["content"]]
    if loader == "DictNode":
        return {key: decode_node(value, archive) for key, value in node["content"].items()}
    if node.get("type") != "numpy":
        raise UnsupportedNode("ndarray of type " + str(node.get("type")))
    import numpy as np

    with archive.open(node["file"]) as fh:
        return np.load(fh, allow_pickle=False)
