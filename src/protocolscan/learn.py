"""Training and evaluating the tagger on the labelled corpus (composes ``gold`` and
``tagging``; the CLI commands ``train``, ``evaluate``, ``tag`` and ``codebook`` call
these functions).

    from protocolscan import learn
    report = learn.evaluate_model(sets=("seed", "extra"), folds=5)
    print(report.to_text())
    learn.train_model(sets=("seed", "extra"))          # writes models/ + model card
    tagger = learn.load_tagger()
    learn.tag_document(document, tagger)

Evaluation is cross-validation grouped by document: a document's passages are never
in both the training and the test part of a fold. Bare headings are left out of the
passage figures (they never carry codes). ``bijzonder.*`` codes are not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .gold import CORPORA_DIR, LABELS_DIR, REPO_ROOT, load_gold
from .model import Document

DEFAULT_SETS = ("seed", "extra")
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_MODEL = MODELS_DIR / "tagger.skops"
MODEL_CARD = MODELS_DIR / "MODEL_CARD.md"
SYSTEMS = ("rules", "classifier", "combined")
SYSTEM_LABELS = {"rules": "alleen regels", "classifier": "alleen classifier", "combined": "regels + classifier"}
TRAIN_COMMAND = "protocolscan train"


# -- loading ------------------------------------------------------------------------
def load_codebook(path: str | Path | None = None):
    """The codebook (default: the packaged 2020-B2 codebook)."""
    from .tagging.codebook import load_codebook as load

    return load(path)


def load_rules(path: str | Path | None = None, codebook=None):
    from .tagging.rules import load_rules as load

    return load(path, codebook)


def load_tagger(path: str | Path | None = None, codebook=None):
    """The trained tagger (default: ``models/tagger.skops``)."""
    from .tagging.tagger import Tagger

    return Tagger.load(path or DEFAULT_MODEL, codebook)


def tag_document(doc: Document, tagger) -> Document:
    """Set ``Passage.tags`` of every passage and the document level; returns ``doc``."""
    return tagger.tag(doc)


def tag_record(passage) -> dict[str, Any]:
    """The tagging part of a passage for ``protocolscan tag`` output: ``codes`` (ids),
    ``scores`` (id -> probability) and ``evidence`` (id -> rule hits)."""
    return {"codes": [t.code for t in passage.tags],
            "scores": {t.code: t.score for t in passage.tags},
            "sources": {t.code: t.source for t in passage.tags},
            "evidence": {t.code: t.evidence for t in passage.tags if t.evidence}}


def codebook_text(codebook) -> str:
    """The codebook as plain text (Dutch), for ``protocolscan codebook``."""
    lines = [f"Codeboek {codebook.version}" + (f": {codebook.title}" if codebook.title else ""), ""]
    lines.append("Documentniveau:")
    for level in codebook.levels:
        lines.append(f"  {level.id:24s} {level.label_nl}")
    for category, label in (codebook.categories or {"": ""}).items():
        codes = [c for c in codebook.codes if c.category == category or not codebook.categories]
        if not codes:
            continue
        lines.append("")
        lines.append(f"{label}:" if label else "Codes:")
        for c in codes:
            note = " (niet in de nauwkeurigheidscijfers)" if c.optional else ""
            lines.append(f"  {c.id:24s} {c.label_nl}{note}")
            lines.append(f"  {'':24s} {c.definition}")
            for item in c.include:
                lines.append(f"  {'':24s} + {item}")
            for item in c.exclude:
                lines.append(f"  {'':24s} - {item}")
    return "\n".join(lines)


def available_sets(sets: Iterable[str]) -> list[str]:
    return [s for s in sets if (CORPORA_DIR / s).is_dir() and any((CORPORA_DIR / s).glob("*.json"))]


def labelled_documents(sets: Iterable[str] = DEFAULT_SETS, corpora_dir: Path = CORPORA_DIR,
                       labels_dir: Path = LABELS_DIR):
    """The gold corpus of ``sets`` as the tagger's ``LabelledDocument`` objects."""
    from .tagging.tagger import LabelledDocument

    docs = []
    for corpus_set in sets:
        if not (corpora_dir / corpus_set).is_dir():
            continue
        for g in load_gold(corpus_set, corpora_dir, labels_dir):
            document = g.document
            # The corpus JSON carries the human level in metadata; the tagger must
            # never see it as input.
            document.metadata.pop("level", None)
            docs.append(LabelledDocument(document=document, codes=g.codes, level=g.level))
    return docs


def corpus_hash(sets: Iterable[str] = DEFAULT_SETS) -> str:
    """Hash of the committed labelled corpus, as recorded in a model trained on it."""
    from .tagging.tagger import training_data_hash

    return training_data_hash(labelled_documents(sets))


# -- training -----------------------------------------------------------------------
def train_model(sets: Sequence[str] = DEFAULT_SETS, out: str | Path = DEFAULT_MODEL,
                codebook: str | Path | None = None, rules: str | Path | None = None,
                seed: int | None = None, card: bool = True, folds: int = 5,
                report: "EvaluationReport | None" = None) -> Path:
    """Train on all documents of ``sets``, save the model and (``card``) write the
    model card next to it with the figures of a grouped cross-validation."""
    from .tagging.tagger import DEFAULT_SEED, Tagger

    book = load_codebook(codebook)
    ruleset = load_rules(rules, book)
    docs = labelled_documents(sets)
    tagger = Tagger.train(docs, book, ruleset, seed=DEFAULT_SEED if seed is None else seed)
    tagger.info["trained_on"] = ",".join(available_sets(sets))
    out = Path(out)
    tagger.save(out)
    if card:
        if report is None:
            report = evaluate_model(sets, folds=folds, codebook=codebook, rules=rules, seed=seed)
        write_model_card(report, tagger.info, out.with_name("MODEL_CARD.md"), out)
    return out


# -- evaluation ---------------------------------------------------------------------
@dataclass
class CodeScore:
    support: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else 0.0

    @property
    def kappa(self) -> float:
        n = self.tp + self.fp + self.fn + self.tn
        if not n:
            return 0.0
        po = (self.tp + self.tn) / n
        pe = ((self.tp + self.fp) * (self.tp + self.fn) + (self.fn + self.tn) * (self.fp + self.tn)) / (n * n)
        return (po - pe) / (1 - pe) if pe < 1 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"support": self.support, "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "kappa": round(self.kappa, 4)}


def score_codes(codes: Sequence[str], gold: Sequence[set[str]], pred: Sequence[set[str]]) -> dict[str, CodeScore]:
    out = {}
    for code in codes:
        tp = fp = fn = tn = 0
        for g, p in zip(gold, pred):
            a, b = code in g, code in p
            tp += a and b
            fp += b and not a
            fn += a and not b
            tn += not a and not b
        out[code] = CodeScore(support=tp + fn, tp=tp, fp=fp, fn=fn, tn=tn)
    return out


def micro(scores: dict[str, CodeScore]) -> CodeScore:
    return CodeScore(support=sum(s.support for s in scores.values()), tp=sum(s.tp for s in scores.values()),
                     fp=sum(s.fp for s in scores.values()), fn=sum(s.fn for s in scores.values()),
                     tn=sum(s.tn for s in scores.values()))


def macro_f1(scores: dict[str, CodeScore], min_support: int = 1) -> float:
    values = [s.f1 for s in scores.values() if s.support >= min_support]
    return sum(values) / len(values) if values else 0.0


@dataclass
class SystemResult:
    passages: dict[str, CodeScore]
    documents: dict[str, CodeScore]

    def summary(self) -> dict[str, float]:
        m = micro(self.passages)
        d = micro(self.documents)
        return {"micro_precision": m.precision, "micro_recall": m.recall, "micro_f1": m.f1,
                "micro_kappa": m.kappa, "macro_f1": macro_f1(self.passages),
                "doc_micro_f1": d.f1, "doc_macro_precision": _macro(self.documents, "precision"),
                "doc_macro_recall": _macro(self.documents, "recall"), "doc_macro_f1": macro_f1(self.documents)}


def _macro(scores: dict[str, CodeScore], attr: str) -> float:
    values = [getattr(s, attr) for s in scores.values() if s.support]
    return sum(values) / len(values) if values else 0.0


@dataclass
class EvaluationReport:
    codes: list[str]
    systems: dict[str, SystemResult]
    folds: int
    n_documents: int
    n_passages: int
    sets: list[str]
    level_accuracy: float
    level_confusion: dict[str, int] = field(default_factory=dict)
    per_set: dict[str, dict[str, float]] = field(default_factory=dict)  # set -> micro F1 (combined)
    codebook_version: str = ""

    def targets(self) -> dict[str, bool]:
        comb = self.systems["combined"].summary()
        weak = [c for c, s in self.systems["combined"].passages.items() if s.support >= 10 and s.f1 < 0.70]
        return {
            "passage micro-F1 >= 0.90": comb["micro_f1"] >= 0.90,
            "document presence macro-F1 >= 0.96": comb["doc_macro_f1"] >= 0.96,
            "no code with >= 10 positives below F1 0.70": not weak,
            "combined better than rules and classifier alone (micro-F1)":
                comb["micro_f1"] > max(self.systems[s].summary()["micro_f1"] for s in ("rules", "classifier")),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "codebook_version": self.codebook_version, "sets": self.sets, "folds": self.folds,
            "n_documents": self.n_documents, "n_passages": self.n_passages,
            "systems": {name: {"summary": {k: round(v, 4) for k, v in r.summary().items()},
                               "passages": {c: s.to_dict() for c, s in r.passages.items()},
                               "documents": {c: s.to_dict() for c, s in r.documents.items()}}
                        for name, r in self.systems.items()},
            "level": {"accuracy": round(self.level_accuracy, 4), "confusion": self.level_confusion},
            "per_set_micro_f1": self.per_set,
            "targets": self.targets(),
        }

    def to_text(self) -> str:
        """Plain-text tables (Dutch headers), for the terminal and the model card."""
        lines = [f"Evaluatie: {self.folds}-voudige kruisvalidatie gegroepeerd per document "
                 f"({self.n_documents} documenten, {self.n_passages} passages zonder kopjes; "
                 f"sets: {', '.join(self.sets)}; codeboek {self.codebook_version})", ""]
        lines.append("Per code, passageniveau (regels + classifier):")
        header = f"{'code':24s} {'n':>5s} {'P':>6s} {'R':>6s} {'F1':>6s} {'kappa':>6s} | " \
                 f"{'F1 regels':>9s} {'F1 clf':>7s} | {'doc n':>5s} {'doc F1':>6s}"
        lines.append(header)
        lines.append("-" * len(header))
        comb, rules, clf = (self.systems[s] for s in ("combined", "rules", "classifier"))
        for code in self.codes:
            s = comb.passages[code]
            d = comb.documents[code]
            lines.append(f"{code:24s} {s.support:5d} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
                         f"{s.kappa:6.3f} | {rules.passages[code].f1:9.3f} {clf.passages[code].f1:7.3f} | "
                         f"{d.support:5d} {d.f1:6.3f}")
        lines.append("")
        lines.append("Samenvatting per systeem:")
        head2 = f"{'systeem':22s} {'micro-P':>8s} {'micro-R':>8s} {'micro-F1':>9s} {'kappa':>6s} " \
                f"{'macro-F1':>9s} | {'doc macro-P':>11s} {'doc macro-R':>11s} {'doc macro-F1':>12s}"
        lines.append(head2)
        lines.append("-" * len(head2))
        for name in SYSTEMS:
            m = self.systems[name].summary()
            lines.append(f"{SYSTEM_LABELS[name]:22s} {m['micro_precision']:8.3f} {m['micro_recall']:8.3f} "
                         f"{m['micro_f1']:9.3f} {m['micro_kappa']:6.3f} {m['macro_f1']:9.3f} | "
                         f"{m['doc_macro_precision']:11.3f} {m['doc_macro_recall']:11.3f} {m['doc_macro_f1']:12.3f}")
        lines.append("")
        if self.per_set:
            lines.append("Micro-F1 (regels + classifier) per deel van het corpus: " +
                         ", ".join(f"{k}: {v:.3f}" for k, v in self.per_set.items()))
        lines.append(f"Documentniveau (regionaal/school): juist {self.level_accuracy:.3f} "
                     f"({', '.join(f'{k}: {v}' for k, v in self.level_confusion.items())})")
        lines.append("")
        lines.append("Doelen:")
        for target, ok in self.targets().items():
            lines.append(f"  [{'x' if ok else ' '}] {target}")
        return "\n".join(lines)


def document_family(doc_id: str) -> str:
    """Stratum for the folds: short web pages vs full protocols."""
    return "web" if "web" in doc_id.split("-")[0] else "protocol"


def grouped_folds(docs: Sequence, folds: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """Document indices of (train, test) per fold; a document is in one test fold only."""
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    ids = [d.document.id for d in docs]
    strata = [document_family(i) + "/" + d.level for i, d in zip(ids, docs)]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # Small strata (few regional web pages) are expected; the split stays grouped.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return [(list(train), list(test)) for train, test in splitter.split(ids, strata, groups=ids)]


def evaluate_model(sets: Sequence[str] = DEFAULT_SETS, folds: int = 5, codebook: str | Path | None = None,
                   rules: str | Path | None = None, seed: int | None = None,
                   docs: Sequence | None = None) -> EvaluationReport:
    """Grouped cross-validation of rules-only, classifier-only and combined tagging."""
    from .tagging.rules import RuleMatcher, build_lemma_table
    from .tagging.tagger import DEFAULT_SEED, Tagger, passage_contexts, rule_codes

    seed = DEFAULT_SEED if seed is None else seed
    book = load_codebook(codebook)
    ruleset = load_rules(rules, book)
    docs = list(docs) if docs is not None else labelled_documents(sets)
    matcher = RuleMatcher(ruleset, build_lemma_table(ruleset))
    codes = book.scored_ids
    scored = set(codes)
    gold: list[set[str]] = []
    preds: dict[str, list[set[str]]] = {s: [] for s in SYSTEMS}
    doc_gold: list[set[str]] = []
    doc_preds: dict[str, list[set[str]]] = {s: [] for s in SYSTEMS}
    passage_set: list[str] = []
    level_hits = 0
    confusion: dict[str, int] = {}
    for train_idx, test_idx in grouped_folds(docs, folds, seed):
        train_docs = [docs[i] for i in train_idx]
        combined = Tagger.train(train_docs, book, ruleset, seed=seed, matcher=matcher)
        classifier = Tagger.train(train_docs, book, ruleset, seed=seed, use_rules=False, matcher=matcher)
        for i in test_idx:
            doc = docs[i]
            passages = doc.document.passages
            contexts = passage_contexts(matcher, passages)
            keep = [k for k, p in enumerate(passages) if not p.is_heading]
            system_codes = {
                "rules": rule_codes(contexts),
                "classifier": [{t.code for t in tags} for tags in
                               classifier.decide(contexts, classifier.probabilities(contexts))],
                "combined": [{t.code for t in tags} for tags in
                             combined.decide(contexts, combined.probabilities(contexts))],
            }
            g = [set(doc.codes[k]) & scored for k in keep]
            gold.extend(g)
            doc_gold.append(set().union(*g) if g else set())
            passage_set.extend([corpus_set_of(doc)] * len(keep))
            for name, per_passage in system_codes.items():
                p = [per_passage[k] & scored for k in keep]
                preds[name].extend(p)
                doc_preds[name].append(set().union(*p) if p else set())
            level, _ = combined.level_model.predict(doc.document, combined.vectorizer.extractor, matcher)
            truth = "niveau." + doc.level
            level_hits += level == truth
            key = f"{truth.split('.')[1]}->{level.split('.')[1]}"
            confusion[key] = confusion.get(key, 0) + 1
    systems = {name: SystemResult(passages=score_codes(codes, gold, preds[name]),
                                  documents=score_codes(codes, doc_gold, doc_preds[name]))
               for name in SYSTEMS}
    per_set = {}
    for s in sorted(set(passage_set)):
        idx = [i for i, x in enumerate(passage_set) if x == s]
        per_set[s] = round(micro(score_codes(codes, [gold[i] for i in idx],
                                             [preds["combined"][i] for i in idx])).f1, 4)
    return EvaluationReport(codes=codes, systems=systems, folds=folds, n_documents=len(docs),
                            n_passages=len(gold), sets=sorted({corpus_set_of(d) for d in docs}),
                            level_accuracy=level_hits / len(docs) if docs else 0.0,
                            level_confusion=dict(sorted(confusion.items())), per_set=per_set,
                            codebook_version=book.version)


def corpus_set_of(doc) -> str:
    """Which part of the corpus a document belongs to, for the per-set figures."""
    doc_id = doc.document.id
    if doc_id.startswith("x"):
        return "extra"
    return "seed-web" if doc_id.startswith("web-") else "seed-protocol"


# -- model card ---------------------------------------------------------------------
def write_model_card(report: EvaluationReport, info: dict, path: str | Path, model_path: str | Path) -> Path:
    """The model card (markdown), generated from the evaluation that ``evaluate`` prints."""
    path = Path(path)
    comb = report.systems["combined"].summary()
    weak = [f"`{c}` (F1 {s.f1:.2f}, {s.support} positives)"
            for c, s in report.systems["combined"].passages.items() if s.f1 < 0.70]
    lines = [
        "# Model card: protocolscan passage tagger",
        "",
        "Generated by `protocolscan train` (`protocolscan.learn.train_model`); do not edit by hand.",
        "",
        "## Model",
        "",
        f"- File: `{Path(model_path).name}` (skops; a dict of numpy arrays and strings, no pickled objects)",
        f"- Model version: {info.get('model_version')}; codebook version: {info.get('codebook_version')}; "
        f"rules version: {info.get('rules_version')}",
        f"- Training data: corpus sets `{info.get('trained_on', '')}`, {info.get('n_documents')} documents, "
        f"{info.get('n_passages')} passages (headings excluded)",
        f"- Training data hash (SHA-256): `{info.get('training_data_hash')}`",
        f"- Seed: {info.get('seed')} (training is deterministic)",
        f"- Regularisation C of the first stage (chosen in inner cross-validation): {info.get('C')}",
        "- Method: spaCy rules (blank Dutch tokenizer, lookup lemmatizer; patterns in "
        "`protocolscan/data/rules.yaml`) plus one logistic regression per code on word and "
        "character n-gram tf-idf of the passage, heading words and rule hits; Platt-calibrated "
        "probabilities; per-code thresholds and decisive rules chosen in inner grouped "
        "cross-validation. Document level (regionaal/school): logistic regression on the "
        "document's words.",
        "",
        "## Evaluation",
        "",
        f"Command: `protocolscan evaluate` ({report.folds}-fold cross-validation grouped by document, "
        "stratified by web page vs protocol and level; a document is never in both the training "
        "and the test part). `bijzonder.*` codes are not scored; bare headings are left out.",
        "",
        f"Passage micro-F1 {comb['micro_f1']:.3f}, macro-F1 {comb['macro_f1']:.3f}, "
        f"document presence macro-F1 {comb['doc_macro_f1']:.3f}.",
        "",
        "```",
        report.to_text(),
        "```",
        "",
        "## Limits",
        "",
        "- The corpus is small (tens of documents) and partly written for this project; "
        "figures on real school texts will be lower, most of all for short parent-facing web "
        "pages. Treat 'not found' as 'not found by the tagger', and check rare codes by hand.",
        "- Weak codes (passage F1 below 0.70): " + (", ".join(weak) if weak else "none") +
        ". Codes with few examples have unstable figures.",
        "- The `extra` documents were written for this project to add hard negatives and rare "
        "codes; their figure (per-set micro-F1 above) is the best hint of how the tagger does "
        "on wording it has not seen.",
        "- `bijzonder.*` is not predicted.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
