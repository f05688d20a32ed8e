"""Passage features for the classifier, computed the same way in training and tagging.

Features are strings with a block prefix:

``w:`` words and ``b:`` word bigrams of the passage (block ``word``)
``c:`` character 3-5-grams inside words, padded with spaces like scikit-learn's
       ``char_wb`` (block ``char``): robust to Dutch compounds and inflection
``h:`` words of the two nearest headings (block ``heading``): context
``r:``/``rp:``/``rh:`` rule hits by code, by pattern, and heading cues by code;
``lead:`` rule hits of the lead-in sentence of a list item or table row ("Hierbij
       kunt u denken aan:"), because items continue the sentence before them;
``k:`` passage kind; ``len:`` length bucket (block ``meta``)

Weights are tf-idf with sublinear tf, L2-normalised per block and multiplied by a
block weight. ``Vectorizer`` turns a passage into (feature ids, weights) with numpy
only, caching per distinct word, so tagging needs neither scikit-learn nor scipy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

from ..model import Passage

BLOCKS = ("word", "char", "heading", "meta")
BLOCK_OF_PREFIX = {"w": 0, "b": 0, "c": 1, "h": 2, "r": 3, "rp": 3, "rh": 3, "lead": 3, "k": 3, "len": 3}
RULE_PREFIXES = ("r", "rp", "rh", "lead")
CHAR_NGRAMS = (3, 5)
HEADING_WORD = re.compile(r"\w\w+")
LIST_KINDS = ("li", "ol", "tr")
LENGTH_BUCKETS = ((3, "1-3"), (8, "4-8"), (20, "9-20"), (50, "21-50"))


@dataclass
class PassageContext:
    """What the featurizer needs of one passage."""

    passage: Passage
    doc: object  # spaCy Doc of passage.text
    hits: list  # RuleHit list of this passage (text and heading)
    lead_hits: list = field(default_factory=list)  # text hits of the lead-in passage
    lead: Passage | None = None  # the lead-in passage itself


def lead_in_index(passages: list[Passage], i: int) -> int | None:
    """The passage a list item or table row continues: the nearest preceding
    non-list, non-heading passage under the same heading."""
    p = passages[i]
    if p.kind not in LIST_KINDS:
        return None
    for j in range(i - 1, max(-1, i - 40), -1):
        q = passages[j]
        if q.is_heading or q.heading_path != p.heading_path:
            return None
        if q.kind not in LIST_KINDS:
            return j
    return None


def length_bucket(n_tokens: int) -> str:
    for limit, name in LENGTH_BUCKETS:
        if n_tokens <= limit:
            return name
    return "51+"


def word_features(word: str) -> list[str]:
    """``w:`` and ``c:`` features of one lower-cased token ([] for punctuation)."""
    if not any(ch.isalnum() for ch in word):
        return []
    out = ["w:" + word]
    if len(word) >= 2:
        padded = f" {word} "
        lo, hi = CHAR_NGRAMS
        for n in range(lo, hi + 1):
            for k in range(len(padded) - n + 1):
                out.append("c:" + padded[k:k + n])
    return out


class FeatureExtractor:
    """Feature strings of a passage (``strings``) or their ids (``Vectorizer``)."""

    def __init__(self, strings, use_rules: bool = True):
        self.strings = strings  # the spaCy StringStore, to turn LOWER hashes into text
        self.use_rules = use_rules
        self.word_cache: dict[int, tuple[str, list[str]]] = {}
        self.heading_cache: dict[tuple[str, ...], list[str]] = {}

    def token_words(self, doc) -> list[tuple[str, list[str]]]:
        cache = self.word_cache
        out = []
        for lower in doc.to_array("LOWER").tolist():
            entry = cache.get(lower)
            if entry is None:
                word = self.strings[lower]
                entry = (word, word_features(word))
                cache[lower] = entry
            if entry[1]:
                out.append(entry)
        return out

    def heading_features(self, heading_path: list[str]) -> list[str]:
        key = tuple(heading_path[-2:])
        found = self.heading_cache.get(key)
        if found is None:
            found = ["h:" + w for h in key for w in HEADING_WORD.findall(h.lower())]
            self.heading_cache[key] = found
        return found

    def meta_features(self, ctx: PassageContext, n_words: int) -> list[str]:
        out = ["k:" + ctx.passage.kind, "len:" + length_bucket(n_words)]
        if self.use_rules:
            for h in ctx.hits:
                if h.field == "heading":
                    out.append("rh:" + h.code)
                else:
                    out.append("r:" + h.code)
                    out.append("rp:" + h.pattern)
            for h in ctx.lead_hits:
                out.append("lead:" + h.code)
        return out

    def strings_of(self, ctx: PassageContext) -> list[str]:
        """All feature strings of a passage, with repeats (term frequency)."""
        words = self.token_words(ctx.doc)
        out: list[str] = []
        for _, feats in words:
            out.extend(feats)
        out.extend("b:" + a[0] + " " + b[0] for a, b in zip(words, words[1:]))
        out.extend(self.heading_features(ctx.passage.heading_path))
        out.extend(self.meta_features(ctx, len(words)))
        return out


def block_of(feature: str) -> int:
    return BLOCK_OF_PREFIX[feature.split(":", 1)[0]]


class Vectorizer:
    """Maps passages to sparse tf-idf vectors with a fixed vocabulary (numpy only)."""

    def __init__(self, vocabulary: list[str], idf, block_weights, extractor: FeatureExtractor):
        import numpy as np

        self.np = np
        self.vocabulary = list(vocabulary)
        self.index = {f: i for i, f in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.blocks = np.array([block_of(f) for f in self.vocabulary], dtype=np.int64)
        self.block_weights = np.asarray(block_weights, dtype=np.float64)
        self.extractor = extractor
        self.id_cache: dict[int, list[int]] = {}

    def ids_of(self, ctx: PassageContext) -> list[int]:
        index = self.index
        ids: list[int] = []
        id_cache = self.id_cache
        words = []
        for lower in ctx.doc.to_array("LOWER").tolist():
            found = id_cache.get(lower)
            if found is None:
                word = self.extractor.strings[lower]
                feats = word_features(word)
                found = [index[f] for f in feats if f in index] if feats else []
                id_cache[lower] = found
                self.extractor.word_cache.setdefault(lower, (word, feats))
            ids.extend(found)
            entry = self.extractor.word_cache[lower]
            if entry[1]:
                words.append(entry[0])
        for a, b in zip(words, words[1:]):
            i = index.get("b:" + a + " " + b)
            if i is not None:
                ids.append(i)
        for f in self.extractor.heading_features(ctx.passage.heading_path):
            i = index.get(f)
            if i is not None:
                ids.append(i)
        for f in self.extractor.meta_features(ctx, len(words)):
            i = index.get(f)
            if i is not None:
                ids.append(i)
        return ids

    def vector(self, ctx: PassageContext):
        """(feature ids, weights) of one passage."""
        np = self.np
        ids = self.ids_of(ctx)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        unique, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        weights = (1.0 + np.log(counts)) * self.idf[unique]
        blocks = self.blocks[unique]
        norms = np.sqrt(np.bincount(blocks, weights=weights * weights, minlength=len(BLOCKS)))
        norms[norms == 0] = 1.0
        weights = weights / norms[blocks] * self.block_weights[blocks]
        return unique, weights


def build_vocabulary(feature_lists: Iterable[list[str]], min_df: int = 2) -> tuple[list[str], list[float]]:
    """Vocabulary (features in at least ``min_df`` passages) and smoothed idf, sorted
    so that the result does not depend on dict order."""
    df: dict[str, int] = {}
    n = 0
    for feats in feature_lists:
        n += 1
        for f in set(feats):
            df[f] = df.get(f, 0) + 1
    vocab = sorted(f for f, c in df.items() if c >= min_df or f.startswith(("r:", "rp:", "rh:", "lead:", "k:", "len:")))
    idf = [math.log((1 + n) / (1 + df[f])) + 1.0 for f in vocab]
    return vocab, idf
