"""The multi-label passage classifier: one logistic regression per code.

Training (scikit-learn, imported only here):

1. inner cross-validation grouped by document gives out-of-fold decision values;
2. per code, a Platt sigmoid fitted on them turns scores into probabilities;
3. per code, the threshold that maximises F1 on the out-of-fold probabilities;
4. per code, "decisive" rule patterns: patterns whose hits were (nearly) always
   coded with that code in the training data, and that raise the code's
   out-of-fold F1 when they assign the code on their own;
5. the final models are fitted on all training passages.

Prediction (``LinearHead``) needs numpy only: the weights are stored as a dense
feature x code matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

#: Regularisation of the logistic regressions, fixed a priori (not tuned on test folds).
C_VALUE = 8.0
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


def fit_linear(X, y: np.ndarray, seed: int):
    """Weights and intercept of one code's logistic regression (constant if one class)."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        bias = 10.0 if y[0] else -10.0
        return np.zeros(X.shape[1]), bias
    model = LogisticRegression(C=C_VALUE, solver="liblinear", random_state=seed, max_iter=1000)
    model.fit(X, y)
    return model.coef_[0], float(model.intercept_[0])


def fit_weights(X, Y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    W = np.zeros((X.shape[1], Y.shape[1]))
    b = np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        W[:, j], b[j] = fit_linear(X, Y[:, j], seed)
    return W, b


def out_of_fold_scores(X, Y: np.ndarray, groups: Sequence[str], seed: int, folds: int = INNER_FOLDS) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    scores = np.zeros(Y.shape, dtype=np.float64)
    n_groups = len(set(groups))
    for train, test in GroupKFold(n_splits=min(folds, n_groups)).split(X, groups=groups):
        W, b = fit_weights(X[train], Y[train], seed)
        scores[test] = X[test] @ W + b
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


def train_head(vectors: Sequence[tuple[np.ndarray, np.ndarray]], n_features: int, Y: np.ndarray,
               groups: Sequence[str], codes: list[str], seed: int,
               pattern_hits: list[set[str]] | None = None,
               patterns_by_code: dict[str, list[str]] | None = None) -> LinearHead:
    """Train the per-code models, their calibration, thresholds and decisive rules."""
    X = to_csr(vectors, n_features)
    Y = Y.astype(bool)
    oof = out_of_fold_scores(X, Y, groups, seed)
    calib_a = np.ones(len(codes))
    calib_b = np.zeros(len(codes))
    thresholds = np.full(len(codes), 0.5)
    decisive: dict[str, list[str]] = {}
    for j, code in enumerate(codes):
        calib_a[j], calib_b[j] = fit_platt(oof[:, j], Y[:, j])
        probs = 1.0 / (1.0 + np.exp(-(calib_a[j] * oof[:, j] + calib_b[j])))
        thresholds[j] = best_threshold(probs, Y[:, j])
        if pattern_hits is not None and patterns_by_code and patterns_by_code.get(code):
            chosen = choose_decisive(j, Y[:, j], probs >= thresholds[j], pattern_hits, patterns_by_code[code])
            if chosen:
                decisive[code] = chosen
    W, b = fit_weights(X, Y, seed)
    return LinearHead(codes=list(codes), W=W.astype(np.float32), b=b, calib_a=calib_a, calib_b=calib_b,
                      thresholds=thresholds, decisive=decisive)
