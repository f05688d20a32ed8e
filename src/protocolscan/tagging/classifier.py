"""The multi-label passage classifier: one logistic regression per code.

Training (scikit-learn, imported only here):

1. inner cross-validation grouped by document gives out-of-fold decision values;
2. per code, a Platt sigmoid fitted on them turns scores into probabilities;
3. per code, the threshold that maximises F1 on the out-of-fold probabilities; the
   regularisation C is chosen from ``C_GRID`` in the same inner folds;
4. per code, "decisive" rule patterns: patterns whose hits were (nearly) always
   coded with that code in the training data, and that raise the code's
   out-of-fold F1 when they assign the code on their own;
5. the final models are fitted on all training passages;
6. a second stage (``StackHead``) re-scores each code from the first-stage
   probabilities of the passage and its context, trained on out-of-fold
   first-stage probabilities; its thresholds and decisive rules come from a second
   inner cross-validation.

Prediction (``LinearHead``) needs numpy only: the weights are stored as a dense
feature x code matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

#: Candidate regularisation strengths of the first-stage logistic regressions; one
#: is chosen by inner cross-validation (never on test folds).
C_GRID = (2.0, 8.0, 32.0)
STACK_C = 1.0
INNER_FOLDS = 3
THRESHOLD_GRID = np.round(np.arange(0.10, 0.91, 0.025), 3)
DECISIVE_MIN_PRECISION = 0.9
DECISIVE_MIN_HITS = 4


@dataclass
class LinearHead:
    codes: list[str]
    W: np.ndarray  # features x codes
    b: np.ndarray
    calib_a: np.ndarray
    calib_b: np.ndarray
    thresholds: np.ndarray
    decisive: dict[str, list[str]] = field(default_factory=dict)  # code -> pattern ids
    C: float = 0.0  # the regularisation chosen in inner cross-validation

    def probabilities(self, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        scores = weights @ self.W[ids] + self.b if len(ids) else self.b.copy()
        return 1.0 / (1.0 + np.exp(-(self.calib_a * scores + self.calib_b)))

    def probability_matrix(self, vectors: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        return np.vstack([self.probabilities(ids, w) for ids, w in vectors]) if vectors else \
            np.zeros((0, len(self.codes)))


def to_csr(vectors: Sequence[tuple[np.ndarray, np.ndarray]], n_features: int):
    from scipy.sparse import csr_matrix

    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(ids) for ids, _ in vectors])
    indices = np.concatenate([ids for ids, _ in vectors]) if vectors else np.zeros(0, dtype=np.int64)
    data = np.concatenate([w for _, w in vectors]) if vectors else np.zeros(0)
    return csr_matrix((data, indices, indptr), shape=(len(vectors), n_features))


def fit_linear(X, y: np.ndarray, seed: int, C: float):
    """Weights and intercept of one code's logistic regression (constant if one class)."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        bias = 10.0 if y[0] else -10.0
        return np.zeros(X.shape[1]), bias
    # The dual problem is ten times faster here: far more features than passages.
    model = LogisticRegression(C=C, solver="liblinear", dual=True, random_state=seed, max_iter=2000)
    model.fit(X, y)
    return model.coef_[0], float(model.intercept_[0])


def fit_weights(X, Y: np.ndarray, seed: int, C: float) -> tuple[np.ndarray, np.ndarray]:
    W = np.zeros((X.shape[1], Y.shape[1]))
    b = np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        W[:, j], b[j] = fit_linear(X, Y[:, j], seed, C)
    return W, b


def out_of_fold_scores(X, Y: np.ndarray, groups: Sequence[str], seed: int,
                       C_values: Sequence[float], folds: int = INNER_FOLDS) -> dict[float, np.ndarray]:
    """Out-of-fold decision values per candidate C (inner folds grouped by document)."""
    from sklearn.model_selection import GroupKFold

    scores = {C: np.zeros(Y.shape, dtype=np.float64) for C in C_values}
    n_groups = len(set(groups))
    for train, test in GroupKFold(n_splits=min(folds, n_groups)).split(X, groups=groups):
        for C in C_values:
            W, b = fit_weights(X[train], Y[train], seed, C)
            scores[C][test] = X[test] @ W + b
    return scores


def fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    model.fit(scores.reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def f1_score(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(y & pred))
    denom = float(np.sum(y) + np.sum(pred))
    return 2 * tp / denom if denom else 1.0


def best_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    if y.sum() < 2:
        return 0.5
    best, best_f1 = 0.5, -1.0
    for t in THRESHOLD_GRID:
        f1 = f1_score(y, probs >= t)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    return best


def choose_decisive(code_index: int, y: np.ndarray, pred: np.ndarray,
                    pattern_hits: list[set[str]], patterns_of_code: list[str]) -> list[str]:
    """Patterns of one code that may assign it without the classifier's consent.

    Greedy: add the most precise pattern while it keeps improving out-of-fold F1."""
    candidates = []
    for pid in patterns_of_code:
        hit = np.array([pid in hits for hits in pattern_hits])
        n = int(hit.sum())
        if n >= DECISIVE_MIN_HITS:
            precision = float(y[hit].mean())
            if precision >= DECISIVE_MIN_PRECISION:
                candidates.append((precision, n, pid, hit))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
    chosen: list[str] = []
    current = pred.copy()
    current_f1 = f1_score(y, current)
    for _, _, pid, hit in candidates:
        trial = current | hit
        trial_f1 = f1_score(y, trial)
        if trial_f1 > current_f1 + 1e-9:
            chosen.append(pid)
            current, current_f1 = trial, trial_f1
    return chosen


@dataclass
class StackHead:
    """Second stage: each code's probability from the first-stage probabilities of the
    passage, its neighbours in the same section, its lead-in sentence, and the means
    over its section and its document. Codes depend on their context (a step under a
    heading about thuiszitten is a thuiszitten step) and on each other."""

    W: np.ndarray  # stack features x codes
    b: np.ndarray
    calib_a: np.ndarray
    calib_b: np.ndarray
    thresholds: np.ndarray
    decisive: dict[str, list[str]] = field(default_factory=dict)

    def probabilities(self, P: np.ndarray, links: np.ndarray, sections: np.ndarray,
                      docs: np.ndarray) -> np.ndarray:
        if not len(P):
            return P
        scores = stack_features(P, links, sections, docs) @ self.W + self.b
        return 1.0 / (1.0 + np.exp(-(self.calib_a * scores + self.calib_b)))


def stack_features(P: np.ndarray, links: np.ndarray, sections: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """[own, previous, next, lead-in, section mean, document mean] probabilities.

    ``links`` holds per passage the row of its previous and next passage in the same
    section and of its lead-in (-1: none); ``sections``/``docs`` are group numbers."""

    def gather(idx: np.ndarray) -> np.ndarray:
        out = np.zeros_like(P)
        ok = idx >= 0
        out[ok] = P[idx[ok]]
        return out

    def group_mean(groups: np.ndarray) -> np.ndarray:
        size = int(groups.max()) + 1
        sums = np.zeros((size, P.shape[1]))
        np.add.at(sums, groups, P)
        counts = np.bincount(groups, minlength=size)[:, None]
        return (sums / np.maximum(counts, 1))[groups]

    return np.hstack([P, gather(links[:, 0]), gather(links[:, 1]), gather(links[:, 2]),
                      group_mean(sections), group_mean(docs)])


def fit_dense(F: np.ndarray, Y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    W = np.zeros((F.shape[1], Y.shape[1]))
    b = np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.min() == y.max():
            b[j] = 10.0 if y[0] else -10.0
            continue
        model = LogisticRegression(C=STACK_C, solver="lbfgs", max_iter=2000, random_state=seed)
        model.fit(F, y)
        W[:, j], b[j] = model.coef_[0], float(model.intercept_[0])
    return W, b


def calibrate_and_threshold(scores: np.ndarray, Y: np.ndarray):
    k = Y.shape[1]
    calib_a, calib_b, thresholds = np.ones(k), np.zeros(k), np.full(k, 0.5)
    probs = np.zeros(scores.shape)
    for j in range(k):
        calib_a[j], calib_b[j] = fit_platt(scores[:, j], Y[:, j])
        probs[:, j] = 1.0 / (1.0 + np.exp(-(calib_a[j] * scores[:, j] + calib_b[j])))
        thresholds[j] = best_threshold(probs[:, j], Y[:, j])
    return calib_a, calib_b, thresholds, probs


def train_head(vectors: Sequence[tuple[np.ndarray, np.ndarray]], n_features: int, Y: np.ndarray,
               groups: Sequence[str], codes: list[str], seed: int, links: np.ndarray,
               sections: np.ndarray, pattern_hits: list[set[str]] | None = None,
               patterns_by_code: dict[str, list[str]] | None = None) -> tuple[LinearHead, StackHead]:
    """Train both stages, their calibration, thresholds and decisive rules."""
    from sklearn.model_selection import GroupKFold

    X = to_csr(vectors, n_features)
    Y = Y.astype(bool)
    # One C for all codes: the one whose out-of-fold probabilities give the best
    # micro-F1 at the per-code thresholds (ties: the stronger regularisation). A C per
    # code was tried and did not help: rare codes make its choice noisy.
    candidates = []
    for C, oof in out_of_fold_scores(X, Y, groups, seed, C_GRID).items():
        calib_a, calib_b, thresholds, P = calibrate_and_threshold(oof, Y)
        pred = P >= thresholds
        micro = 2 * float(np.sum(pred & Y)) / max(1.0, float(pred.sum() + Y.sum()))
        candidates.append((micro, -C, C, calib_a, calib_b, thresholds, P))
    _, _, C, calib_a, calib_b, thresholds, P1 = max(candidates, key=lambda c: (c[0], c[1]))
    W, b = fit_weights(X, Y, seed, C)
    first = LinearHead(codes=list(codes), W=W.astype(np.float32), b=b, calib_a=calib_a, calib_b=calib_b,
                       thresholds=thresholds, C=C)
    doc_numbers = np.unique(np.asarray(groups), return_inverse=True)[1]
    F = stack_features(P1, links, sections, doc_numbers)
    oof2 = np.zeros(Y.shape)
    for train, test in GroupKFold(n_splits=min(INNER_FOLDS, len(set(groups)))).split(F, groups=groups):
        W2, b2 = fit_dense(F[train], Y[train], seed)
        oof2[test] = F[test] @ W2 + b2
    calib_a2, calib_b2, thresholds2, P2 = calibrate_and_threshold(oof2, Y)
    decisive: dict[str, list[str]] = {}
    if pattern_hits is not None and patterns_by_code:
        for j, code in enumerate(codes):
            if patterns_by_code.get(code):
                chosen = choose_decisive(j, Y[:, j], P2[:, j] >= thresholds2[j], pattern_hits,
                                         patterns_by_code[code])
                if chosen:
                    decisive[code] = chosen
    first.decisive = decisive
    W2, b2 = fit_dense(F, Y, seed)
    second = StackHead(W=W2, b=b2, calib_a=calib_a2, calib_b=calib_b2, thresholds=thresholds2,
                       decisive=decisive)
    return first, second
