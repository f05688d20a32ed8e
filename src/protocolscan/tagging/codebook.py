"""The codebook as data: loading and validating ``codebook.yaml``.

The default codebook ships in ``protocolscan/data/codebook.yaml``; users may pass
another file with the same structure. Validation errors are ``CodebookError`` with a
Dutch message that names the file and what is wrong, because researchers edit these
files by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import ProtocolscanError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_CODEBOOK = DATA_DIR / "codebook.yaml"

TOP_KEYS = {"version", "title", "unit", "rules_for_coders", "document_levels", "categories", "codes"}
CODE_KEYS = {"id", "label_nl", "category", "definition", "include", "exclude", "optional"}
REQUIRED_CODE_KEYS = ("id", "label_nl", "category", "definition")
LEVEL_KEYS = {"id", "label_nl", "definition"}
CATEGORY_KEYS = {"id", "label_nl", "definition"}


class CodebookError(ProtocolscanError):
    """A codebook (or rules) file is missing, unreadable or invalid."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class Code:
    id: str
    label_nl: str
    category: str
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    optional: bool = False  # left out of accuracy figures (bijzonder.*)


@dataclass
class Codebook:
    version: str
    codes: list[Code]
    levels: list[Code]
    categories: dict[str, str] = field(default_factory=dict)  # id -> label_nl
    title: str = ""
    path: str = ""

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.codes]

    @property
    def scored_ids(self) -> list[str]:
        """Codes that the tagger predicts and the evaluation scores."""
        return [c.id for c in self.codes if not c.optional]

    @property
    def level_ids(self) -> list[str]:
        return [c.id for c in self.levels]

    def get(self, code_id: str) -> Code:
        for c in self.codes + self.levels:
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    def label(self, code_id: str) -> str:
        return self.get(code_id).label_nl


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and validate a codebook YAML file (the default one when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_CODEBOOK
    data = read_yaml_mapping(path, "codebook")
    return codebook_from_mapping(data, path)


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping; Dutch errors naming the file."""
    import yaml  # only needed when a YAML file is read

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CodebookError(path, f"{what}bestand niet gevonden") from None
    except OSError as err:
        raise CodebookError(path, f"{what}bestand kan niet gelezen worden ({err.strerror})") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (regel {mark.line + 1})" if mark is not None else ""
        raise CodebookError(path, f"geen geldige YAML{where}") from None
    if not isinstance(data, dict):
        raise CodebookError(path, f"het {what}bestand moet een YAML-mapping zijn")
    return data


def codebook_from_mapping(data: dict[str, Any], path: str | Path = "<codebook>") -> Codebook:
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise CodebookError(path, f"onbekende sleutel(s) bovenaan: {', '.join(sorted(unknown))}")
    version = data.get("version")
    if not version or not isinstance(version, (str, int, float)):
        raise CodebookError(path, "'version' ontbreekt")
    categories = {}
    for i, entry in enumerate(data.get("categories") or []):
        check_entry(entry, CATEGORY_KEYS, ("id", "label_nl"), path, f"categorie {i + 1}")
        categories[entry["id"]] = entry["label_nl"]
    raw_codes = data.get("codes")
    if not raw_codes or not isinstance(raw_codes, list):
        raise CodebookError(path, "'codes' ontbreekt of is geen lijst")
    codes = [code_from_entry(entry, i, path, categories) for i, entry in enumerate(raw_codes)]
    levels = []
    for i, entry in enumerate(data.get("document_levels") or []):
        check_entry(entry, LEVEL_KEYS, ("id", "label_nl"), path, f"documentniveau {i + 1}")
        levels.append(Code(id=entry["id"], label_nl=entry["label_nl"], category="niveau",
                           definition=entry.get("definition", "")))
    seen: set[str] = set()
    for c in codes + levels:
        if c.id in seen:
            raise CodebookError(path, f"code '{c.id}' komt meer dan eens voor")
        seen.add(c.id)
    return Codebook(version=str(version), codes=codes, levels=levels, categories=categories,
                    title=str(data.get("title", "")), path=str(path))


def code_from_entry(entry: Any, index: int, path: str | Path, categories: dict[str, str]) -> Code:
    where = f"code {index + 1}" + (f" ('{entry['id']}')" if isinstance(entry, dict) and "id" in entry else "")
    check_entry(entry, CODE_KEYS, REQUIRED_CODE_KEYS, path, where)
    if categories and entry["category"] not in categories:
        raise CodebookError(path, f"{where}: onbekende categorie '{entry['category']}'")
    for key in ("include", "exclude"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CodebookError(path, f"{where}: '{key}' moet een lijst met teksten zijn")
    return Code(id=str(entry["id"]), label_nl=str(entry["label_nl"]), category=str(entry["category"]),
                definition=str(entry["definition"]), include=tuple(entry.get("include", [])),
                exclude=tuple(entry.get("exclude", [])), optional=bool(entry.get("optional", False)))


def check_entry(entry: Any, allowed: set[str], required: tuple[str, ...], path: str | Path, where: str) -> None:
    if not isinstance(entry, dict):
        raise CodebookError(path, f"{where}: moet een mapping zijn")
    unknown = set(entry) - allowed
    if unknown:
        raise CodebookError(path, f"{where}: onbekende sleutel(s) {', '.join(sorted(unknown))}")
    for key in required:
        value = entry.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CodebookError(path, f"{where}: '{key}' ontbreekt")
