"""Scoring: official MOTChallenge metrics, by TrackEval itself or by our bit-identical ``fast`` engine."""

from mot_bench.metrics.common import DEFAULT_ENGINE, ENGINES
from mot_bench.metrics.official import (
    BENCHMARKS,
    METRICS,
    EvalError,
    check_eval_dependencies,
    evaluate,
    infer_benchmark,
)

__all__ = ["BENCHMARKS", "DEFAULT_ENGINE", "ENGINES", "METRICS", "EvalError", "check_eval_dependencies", "evaluate",
           "infer_benchmark"]
