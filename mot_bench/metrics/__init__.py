"""Scoring: official MOTChallenge metrics computed by TrackEval itself (see :mod:`.official`)."""

from mot_bench.metrics.official import (
    BENCHMARKS,
    METRICS,
    EvalError,
    check_eval_dependencies,
    evaluate,
    infer_benchmark,
)

__all__ = ["BENCHMARKS", "METRICS", "EvalError", "check_eval_dependencies", "evaluate", "infer_benchmark"]
