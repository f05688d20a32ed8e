"""Rules plus classifier: the tagger that codes passages and the document level.

``Tagger.train`` learns from labelled documents (given as ``LabelledDocument``; the
composing module converts the gold corpus, this stage never reads it itself).
``Tagger.tag`` sets ``Passage.tags`` (code, calibrated probability, provenance
``rule``/``classifier``/``both``, rule evidence) and ``Document.metadata["level"]``
(``niveau.regionaal`` or ``niveau.school``) with ``metadata["level_score"]``.

Headings never get codes (the codebook codes the text under a heading; the heading is
context for it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..model import Document, Passage, Tag
from .classifier import LinearHead, StackHead, train_head
from .codebook import Codebook, CodebookError
from .features import (FeatureExtractor, PassageContext, Vectorizer, build_vocabulary,
                       lead_in_index)
from .rules import RuleHit, RuleMatcher, RuleSet, build_lemma_table, rules_from_mapping

MODEL_FORMAT = "protocolscan-tagger"
MODEL_VERSION = "1.0"
DEFAULT_SEED = 20202
#: Block weights of (word, char, heading, meta) features; fixed a priori.
BLOCK_WEIGHTS = (1.0, 1.0, 0.6, 0.8)
LEVEL_CODES = ("niveau.regionaal", "niveau.school")
RULE_LIST_KINDS = ("li", "ol", "tr")


@dataclass
class LabelledDocument:
    """A segmented document with its human coding (input of training)."""

    document: Document
    codes: list[list[str]]  # per passage
    level: str  # "regionaal" or "school"


def training_data_hash(documents: Iterable[LabelledDocument]) -> str:
    """SHA-256 over the texts, structure and codes of the training documents, in id
    order: the model records it so a stale model can be detected."""
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.document.id):
        record = {
            "id": doc.document.id, "title": doc.document.title, "level": doc.level,
            "passages": [[p.n, p.kind, p.text, p.cells or [], sorted(c)]
                         for p, c in zip(doc.document.passages, doc.codes)],
        }
        digest.update(json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


class Tagger:
    """Codes passages with rules and a classifier; see the module docstring."""

    def __init__(self, matcher: RuleMatcher, vectorizer: Vectorizer, head: LinearHead, stack: StackHead,
                 level_model: "LevelModel", info: dict, use_rules: bool = True):
        self.matcher = matcher
        self.vectorizer = vectorizer
        self.head = head
        self.stack = stack
        self.level_model = level_model
        self.info = info
        self.use_rules = use_rules
        self.code_index = {c: i for i, c in enumerate(head.codes)}

    # -- training -------------------------------------------------------------------
    @classmethod
    def train(cls, documents: Sequence[LabelledDocument], codebook: Codebook, ruleset: RuleSet,
              seed: int = DEFAULT_SEED, use_rules: bool = True,
              matcher: RuleMatcher | None = None) -> "Tagger":
        if not documents:
            raise CodebookError("<training>", "geen gelabelde documenten om van te leren")
        matcher = matcher or RuleMatcher(ruleset, build_lemma_table(ruleset))
        codes = codebook.scored_ids
        extractor = FeatureExtractor(matcher.nlp.vocab.strings, use_rules=use_rules)
        contexts, labels, groups, links, sections = [], [], [], [], []
        n_sections = 0
        for doc in documents:
            doc_contexts, doc_codes = passage_contexts_with_codes(matcher, doc)
            doc_links, doc_sections = passage_links(doc_contexts)
            offset = len(contexts)
            links.append(np.where(doc_links >= 0, doc_links + offset, -1))
            sections.append(doc_sections + n_sections)
            n_sections += int(doc_sections.max()) + 1 if len(doc_sections) else 0
            contexts.extend(doc_contexts)
            labels.extend(doc_codes)
            groups.extend([doc.document.id] * len(doc_contexts))
        vocab, idf = build_vocabulary(extractor.strings_of(ctx) for ctx in contexts)
        vectorizer = Vectorizer(vocab, idf, BLOCK_WEIGHTS, extractor)
        vectors = [vectorizer.vector(ctx) for ctx in contexts]
        Y = np.array([[code in set(c) for code in codes] for c in labels], dtype=bool)
        pattern_hits = patterns_by_code = None
        if use_rules:
            pattern_hits = [{h.pattern for h in ctx.hits if h.field == "text"} for ctx in contexts]
            patterns_by_code = {}
            for p in ruleset.patterns:
                if p.kind != "heading" and not p.part:
                    patterns_by_code.setdefault(p.code, []).append(p.id)
        head, stack = train_head(vectors, len(vocab), Y, groups, codes, seed, np.vstack(links),
                                 np.concatenate(sections), pattern_hits, patterns_by_code)
        level_model = LevelModel.train(documents, extractor, matcher, seed)
        info = {
            "format": MODEL_FORMAT, "model_version": MODEL_VERSION,
            "codebook_version": codebook.version, "rules_version": ruleset.version,
            "training_data_hash": training_data_hash(documents), "seed": seed,
            "n_documents": len(documents), "n_passages": len(contexts), "use_rules": use_rules,
            "C": float(head.C),
        }
        return cls(matcher, vectorizer, head, stack, level_model, info, use_rules)

    # -- tagging --------------------------------------------------------------------
    def contexts(self, passages: list[Passage]) -> list[PassageContext]:
        return passage_contexts(self.matcher, passages)

    def probabilities(self, contexts: list[PassageContext]) -> np.ndarray:
        """Final probabilities (passages x codes) of one document's passages, in order;
        rows of headings are zero."""
        probs = np.zeros((len(contexts), len(self.head.codes)))
        keep = [i for i, ctx in enumerate(contexts) if not ctx.passage.is_heading]
        if not keep:
            return probs
        codable = [contexts[i] for i in keep]
        first = self.head.probability_matrix([self.vectorizer.vector(ctx) for ctx in codable])
        links, sections = passage_links(codable)
        probs[keep] = self.stack.probabilities(first, links, sections, np.zeros(len(keep), dtype=np.int64))
        return probs

    def decide(self, contexts: list[PassageContext], probs: np.ndarray) -> list[list[Tag]]:
        """Final tags per passage: a code when its probability reaches the code's
        threshold (source "classifier", or "both" when a text rule of the code hit too),
        or when one of its decisive rule patterns hit (source "rule")."""
        codes = self.head.codes
        index = self.code_index
        decisive_patterns = {pid: code for code, pids in self.stack.decisive.items() for pid in pids}
        above_all = probs >= self.stack.thresholds
        out = []
        for ctx, row, above in zip(contexts, probs, above_all):
            if ctx.passage.is_heading or not ctx.passage.text.strip():
                out.append([])
                continue
            hits = ctx.hits if self.use_rules else []
            by_code: dict[str, list[RuleHit]] = {}
            for h in hits:
                by_code.setdefault(h.code, []).append(h)
            chosen = {int(j) for j in np.flatnonzero(above)}
            chosen.update(index[decisive_patterns[h.pattern]] for h in hits if h.pattern in decisive_patterns)
            tags = []
            for j in sorted(chosen):
                code = codes[j]
                code_hits = by_code.get(code, [])
                if above[j]:
                    source = "both" if any(h.field == "text" for h in code_hits) else "classifier"
                else:
                    source = "rule"
                tags.append(Tag(code=code, score=round(float(row[j]), 4), source=source,
                                evidence=[h.evidence() for h in code_hits]))
            out.append(tags)
        return out

    def tag_passages(self, passages: list[Passage], contexts: list[PassageContext] | None = None
                     ) -> list[list[Tag]]:
        contexts = self.contexts(passages) if contexts is None else contexts
        tags = self.decide(contexts, self.probabilities(contexts))
        for p, t in zip(passages, tags):
            p.tags = t
        return tags

    def tag(self, document: Document) -> Document:
        """Code every passage of ``document`` and its level; returns the document."""
        contexts = self.contexts(document.passages)
        self.tag_passages(document.passages, contexts)
        level, score = self.level_model.predict(document, self.vectorizer.extractor, self.matcher,
                                                docs=[ctx.doc for ctx in contexts])
        document.metadata["level"] = level
        document.metadata["level_score"] = round(float(score), 4)
        document.metadata["tagger"] = {k: self.info[k] for k in
                                       ("model_version", "codebook_version", "training_data_hash")}
        return document

    def predict_codes(self, passages: list[Passage]) -> list[set[str]]:
        contexts = self.contexts(passages)
        return [{t.code for t in tags} for tags in self.decide(contexts, self.probabilities(contexts))]

    # -- persistence ----------------------------------------------------------------
    def to_state(self) -> dict:
        head = self.head
        table = self.matcher.lemma_table
        forms = sorted(table)
        state = dict(self.info)
        state.update({
            "rules_yaml": self.matcher.ruleset.text,
            "rules_json": json.dumps(self.matcher.ruleset.to_mapping(), ensure_ascii=False),
            "lemma_forms": np.array(forms, dtype=str),
            "lemma_lemmas": np.array([table[f] for f in forms], dtype=str),
            "codes": np.array(head.codes, dtype=str),
            "vocabulary": np.array(self.vectorizer.vocabulary, dtype=str),
            "idf": self.vectorizer.idf.astype(np.float32),
            "block_weights": np.asarray(self.vectorizer.block_weights, dtype=np.float64),
            "W": head.W.astype(np.float32),
            "b": head.b, "calib_a": head.calib_a, "calib_b": head.calib_b,
            "thresholds": head.thresholds,
            "decisive": json.dumps(self.stack.decisive, sort_keys=True),
            "stack_W": self.stack.W, "stack_b": self.stack.b, "stack_calib_a": self.stack.calib_a,
            "stack_calib_b": self.stack.calib_b, "stack_thresholds": self.stack.thresholds,
        })
        state.update(self.level_model.to_state())
        return state

    @classmethod
    def from_state(cls, state: dict, codebook: Codebook | None = None) -> "Tagger":
        if state.get("format") != MODEL_FORMAT:
            raise CodebookError("<model>", "dit is geen protocolscan-taggermodel")
        if codebook is not None and codebook.version != state["codebook_version"]:
            raise CodebookError(codebook.path or "<codebook>",
                                f"het model is getraind met codeboek {state['codebook_version']}, "
                                f"niet met {codebook.version}; train opnieuw met 'protocolscan train'")
        # The parsed rules as JSON: loading YAML (and re-validating) costs a cold start.
        ruleset = rules_from_mapping(json.loads(state["rules_json"]), "<model>", None,
                                     str(state["rules_yaml"]), validate=False)
        table = dict(zip(state["lemma_forms"].tolist(), state["lemma_lemmas"].tolist()))
        matcher = RuleMatcher(ruleset, table)
        use_rules = bool(state.get("use_rules", True))
        extractor = FeatureExtractor(matcher.nlp.vocab.strings, use_rules=use_rules)
        vectorizer = Vectorizer(state["vocabulary"].tolist(), state["idf"], state["block_weights"], extractor)
        head = LinearHead(codes=state["codes"].tolist(), W=state["W"], b=state["b"],
                          calib_a=state["calib_a"], calib_b=state["calib_b"],
                          thresholds=state["thresholds"])
        stack = StackHead(W=state["stack_W"], b=state["stack_b"], calib_a=state["stack_calib_a"],
                          calib_b=state["stack_calib_b"], thresholds=state["stack_thresholds"],
                          decisive=json.loads(state["decisive"]))
        info = {k: state[k] for k in ("format", "model_version", "codebook_version", "rules_version",
                                      "training_data_hash", "seed", "n_documents", "n_passages", "use_rules",
                                      "C", "trained_on") if k in state}
        return cls(matcher, vectorizer, head, stack, LevelModel.from_state(state), info, use_rules)

    def save(self, path: str | Path) -> Path:
        from .store import write_state

        return write_state(self.to_state(), path)

    @classmethod
    def load(cls, path: str | Path, codebook: Codebook | None = None) -> "Tagger":
        from .store import read_state

        return cls.from_state(read_state(path), codebook)


def passage_contexts(matcher: RuleMatcher, passages: list[Passage]) -> list[PassageContext]:
    docs = list(matcher.docs(p.text for p in passages))
    hits = matcher.match(passages, docs)  # uses passage texts, not Doc.text (slow to rebuild)
    contexts = []
    for i, (p, doc, h) in enumerate(zip(passages, docs, hits)):
        lead = lead_in_index(passages, i)
        lead_hits = [x for x in hits[lead] if x.field == "text"] if lead is not None else []
        contexts.append(PassageContext(passage=p, doc=doc, hits=h, lead_hits=lead_hits,
                                       lead=passages[lead] if lead is not None else None))
    return contexts


def passage_links(contexts: list[PassageContext]) -> tuple[np.ndarray, np.ndarray]:
    """For one document's codable passages (in order): rows of the previous and next
    passage in the same section and of the lead-in passage (-1: none), and a section
    number per passage."""
    n = len(contexts)
    links = np.full((n, 3), -1, dtype=np.int64)
    sections = np.zeros(n, dtype=np.int64)
    section_ids: dict[tuple[str, ...], int] = {}
    row_of = {id(ctx.passage): i for i, ctx in enumerate(contexts)}
    for i, ctx in enumerate(contexts):
        key = tuple(ctx.passage.heading_path)
        sections[i] = section_ids.setdefault(key, len(section_ids))
        if i > 0 and tuple(contexts[i - 1].passage.heading_path) == key:
            links[i, 0] = i - 1
            links[i - 1, 1] = i
        if ctx.lead is not None:
            links[i, 2] = row_of.get(id(ctx.lead), -1)
    return links, sections


def passage_contexts_with_codes(matcher: RuleMatcher, doc: LabelledDocument):
    """Contexts and codes of the passages that can carry codes (no headings)."""
    contexts = passage_contexts(matcher, doc.document.passages)
    keep = [i for i, ctx in enumerate(contexts) if not ctx.passage.is_heading]
    return [contexts[i] for i in keep], [doc.codes[i] for i in keep]


def rule_codes(contexts: list[PassageContext]) -> list[set[str]]:
    """Rules-only coding: a code when one of its text patterns hits, or, for list
    items and table rows, when its heading cue hits (the heading is their topic)."""
    out = []
    for ctx in contexts:
        if ctx.passage.is_heading:
            out.append(set())
            continue
        codes = {h.code for h in ctx.hits
                 if h.field == "text" or ctx.passage.kind in RULE_LIST_KINDS}
        out.append(codes)
    return out


class LevelModel:
    """Document level: regional protocol or a school's own (logistic regression on the
    words of the whole document and its title)."""

    def __init__(self, vocabulary: list[str], weights: np.ndarray, bias: float):
        self.vocabulary = list(vocabulary)
        self.index = {w: i for i, w in enumerate(self.vocabulary)}
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = float(bias)

    @staticmethod
    def words(document: Document, extractor: FeatureExtractor, matcher: RuleMatcher,
              docs: list | None = None) -> set[str]:
        """Distinct words of the title and the passages (``docs``: the passages'
        spaCy Docs when the caller has them already)."""
        if docs is None:
            docs = list(matcher.docs(p.text for p in document.passages))
        words: set[str] = set()
        for doc in list(matcher.docs([document.title])) + list(docs):
            words.update(w for w, _ in extractor.token_words(doc))
        return words

    def vector(self, words: set[str]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.array(sorted(self.index[w] for w in words if w in self.index), dtype=np.int64)
        weights = np.full(len(ids), 1.0 / np.sqrt(len(ids))) if len(ids) else np.zeros(0)
        return ids, weights

    @classmethod
    def train(cls, documents: Sequence[LabelledDocument], extractor: FeatureExtractor,
              matcher: RuleMatcher, seed: int) -> "LevelModel":
        from sklearn.linear_model import LogisticRegression

        from .classifier import to_csr

        matcher_words = [cls.words(d.document, extractor, matcher) for d in documents]
        df: dict[str, int] = {}
        for ws in matcher_words:
            for w in ws:
                df[w] = df.get(w, 0) + 1
        vocab = sorted(w for w, c in df.items() if c >= 2)
        model = cls(vocab, np.zeros(len(vocab)), 0.0)
        y = np.array([d.level == "regionaal" for d in documents])
        if y.min() == y.max():
            model.bias = 10.0 if y[0] else -10.0
            return model
        X = to_csr([model.vector(ws) for ws in matcher_words], len(vocab))
        lr = LogisticRegression(C=10.0, solver="liblinear", dual=True, class_weight="balanced",
                                random_state=seed, max_iter=2000)
        lr.fit(X, y)
        model.weights, model.bias = lr.coef_[0], float(lr.intercept_[0])
        return model

    def predict(self, document: Document, extractor: FeatureExtractor, matcher: RuleMatcher,
                docs: list | None = None) -> tuple[str, float]:
        ids, weights = self.vector(self.words(document, extractor, matcher, docs))
        score = float(weights @ self.weights[ids] + self.bias) if len(ids) else self.bias
        p = 1.0 / (1.0 + np.exp(-score))
        return (LEVEL_CODES[0], p) if p >= 0.5 else (LEVEL_CODES[1], 1.0 - p)

    def to_state(self) -> dict:
        return {"level_vocabulary": np.array(self.vocabulary, dtype=str),
                "level_weights": self.weights.astype(np.float64), "level_bias": self.bias}

    @classmethod
    def from_state(cls, state: dict) -> "LevelModel":
        return cls(state["level_vocabulary"].tolist(), state["level_weights"], float(state["level_bias"]))
