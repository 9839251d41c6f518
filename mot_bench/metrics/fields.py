"""The one table of metric fields: name (TrackEval's), title, direction, kind, default check tolerance,
and where each appears. ``reports`` (leaderboard, comparison, check, HTML) and the CLI summaries read it;
nothing else lists metric names, directions or formats.

Kinds: ``percent`` (a 0..1 ratio in metrics.json, shown x100 as MOTChallenge does), ``count`` (an integer
count), ``fps`` (frames per second, from timing), ``seconds``. Tolerances are in metrics.json units:
allowed change = max(abs, rel * |baseline value|); a field without one is not checked by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Kind = Literal["percent", "count", "fps", "seconds"]
KINDS = ("percent", "count", "fps", "seconds")

PERCENT_TOLERANCE = MappingProxyType({"abs": 0.005, "rel": 0.0})  # half a point of HOTA/MOTA/IDF1...
COUNT_TOLERANCE = MappingProxyType({"abs": 2.0, "rel": 0.02})  # two switches, or 2% of a large count
TRAJECTORY_TOLERANCE = MappingProxyType({"abs": 1.0, "rel": 0.02})  # MT/ML: a handful on a small sample


@dataclass(frozen=True)
class Field:
    """How to read, show and check one metric field."""

    name: str  # the key in metrics.json (TrackEval's field name) or in the timing summary (FPS)
    title: str  # what a table header shows
    higher_is_better: bool | None  # None: neither direction is "better" (e.g. PT)
    kind: Kind
    tolerance: MappingProxyType | None = None  # default `mot-bench check` tolerance; None: not checked
    leaderboard: bool = False  # a column of the leaderboard
    per_sequence: bool | None = None  # a column of the per-sequence tables; None: as ``leaderboard``
    compare: bool = False  # a column of comparisons against a base run
    summary: bool = False  # a column of `mot-bench run`'s closing summary
    table: bool = False  # a column of `mot-bench eval`'s table
    alpha_curve: bool = False  # HOTA family: plotted against the localisation threshold alpha
    help: str = ""  # one line for a tooltip

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"metric field {self.name}: kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def percent(self) -> bool:
        return self.kind == "percent"


_P, _C = "percent", "count"
FIELDS: tuple[Field, ...] = (
    Field("HOTA", "HOTA", True, _P, PERCENT_TOLERANCE, leaderboard=True, compare=True, summary=True, table=True,
          alpha_curve=True,
          help="Higher Order Tracking Accuracy: geometric mean of detection and association accuracy"),
    Field("DetA", "DetA", True, _P, PERCENT_TOLERANCE, leaderboard=True, compare=True, table=True, alpha_curve=True,
          help="Detection accuracy (HOTA's detection part)"),
    Field("AssA", "AssA", True, _P, PERCENT_TOLERANCE, leaderboard=True, compare=True, table=True, alpha_curve=True,
          help="Association accuracy (HOTA's association part)"),
    Field("LocA", "LocA", True, _P, PERCENT_TOLERANCE),
    Field("DetRe", "DetRe", True, _P),
    Field("DetPr", "DetPr", True, _P),
    Field("AssRe", "AssRe", True, _P),
    Field("AssPr", "AssPr", True, _P),
    Field("MOTA", "MOTA", True, _P, PERCENT_TOLERANCE, leaderboard=True, compare=True, summary=True, table=True,
          help="Multiple Object Tracking Accuracy: 1 - (FN + FP + IDSW) / GT"),
    Field("MOTP", "MOTP", True, _P, PERCENT_TOLERANCE, table=True),
    Field("IDF1", "IDF1", True, _P, PERCENT_TOLERANCE, leaderboard=True, compare=True, summary=True, table=True,
          help="Identity F1: share of detections matched to the right identity"),
    Field("IDP", "IDP", True, _P),
    Field("IDR", "IDR", True, _P),
    Field("IDSW", "IDSW", False, _C, COUNT_TOLERANCE, leaderboard=True, compare=True, summary=True, table=True,
          help="Identity switches (lower is better)"),
    Field("CLR_FP", "FP", False, _C, COUNT_TOLERANCE, leaderboard=True, compare=True, summary=True, table=True,
          help="False positives (lower is better)"),
    Field("CLR_FN", "FN", False, _C, COUNT_TOLERANCE, leaderboard=True, compare=True, summary=True, table=True,
          help="False negatives, missed boxes (lower is better)"),
    Field("MT", "MT", True, _C, TRAJECTORY_TOLERANCE, leaderboard=True, table=True,
          help="Mostly tracked trajectories (>= 80% covered)"),
    Field("PT", "PT", None, _C),
    Field("ML", "ML", False, _C, TRAJECTORY_TOLERANCE, leaderboard=True, table=True,
          help="Mostly lost trajectories (<= 20% covered; lower is better)"),
    Field("Frag", "Frag", False, _C, COUNT_TOLERANCE, table=True),
    Field("CLR_TP", "TP", True, _C),
    Field("FPS", "FPS", True, "fps", compare=True,
          help="Frames per second of the whole pipeline, warm-up frames excluded"),
)

METRIC_FIELDS: dict[str, Field] = {f.name: f for f in FIELDS}

# Views of the table, in its order.
LEADERBOARD = tuple(f.name for f in FIELDS if f.leaderboard)
PER_SEQUENCE = tuple(f.name for f in FIELDS if (f.leaderboard if f.per_sequence is None else f.per_sequence))
COMPARE = tuple(f.name for f in FIELDS if f.compare)
SUMMARY = tuple(f.name for f in FIELDS if f.summary)
TABLE = tuple(f.name for f in FIELDS if f.table)
ALPHA_CURVES = tuple(f.name for f in FIELDS if f.alpha_curve)
CHECKED = tuple(f.name for f in FIELDS if f.tolerance is not None)


def default_tolerances() -> dict[str, dict[str, float]]:
    """``{metric: {"abs", "rel"}}`` for every field checked by default (a fresh, mutable copy)."""
    return {f.name: dict(f.tolerance) for f in FIELDS if f.tolerance is not None}


def resolve(name: str) -> str:
    """A field name or its title (``FP`` for ``CLR_FP``), any case -> the field name; KeyError if unknown."""
    for f in FIELDS:
        if name.lower() in (f.name.lower(), f.title.lower()):
            return f.name
    known = ", ".join(sorted({f.title for f in FIELDS}))
    raise KeyError(f"unknown metric {name!r}; expected one of: {known}")
