"""The ``fast`` scoring engine: TrackEval 1.3.0's MOTChallenge numbers, bit for bit, vectorised.

One module per metric (hota, clear, identity, count), the dataset preprocessing in :mod:`.preprocess`,
and :class:`FastEvaluator` / :func:`evaluate_fast` in :mod:`.evaluator`.
"""

from mot_bench.metrics.fast.evaluator import FastEvaluator, evaluate_fast

__all__ = ["FastEvaluator", "evaluate_fast"]
