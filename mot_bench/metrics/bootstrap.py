"""Is a difference real? Paired bootstrap intervals for the difference of two runs on the same sequences.

The question: had other sequences (and other stretches of them) been picked, how much would the
difference in HOTA, MOTA, IDF1 and their parts have moved? The answer resamples the data, not the runs:

* **Two levels.** A replicate draws the sequences with replacement, then, inside every drawn copy, the
  sequence's blocks of ``block`` consecutive frames with replacement (as many blocks as it has: a
  non-overlapping block bootstrap, Carlstein 1986). Both runs get the very same draws (paired), so what
  the two runs share (a hard sequence, a crowded minute) cancels in the difference.
* **Blocks.** Default 30 frames: 1 s of MOT17 video. Errors persist for a while (a lost track is kept 30
  frames by ByteTrack, OC-SORT and BoT-SORT, an occlusion lasts seconds), so single frames are not
  independent; blocks keep that dependence inside them. A 300-frame half-val sequence still has 10
  blocks. Sequences that are not a multiple of the block length end with one shorter block.
* **Metrics from resampled sufficient statistics**, never from averaged per-sequence scores: every frame
  carries the counts its metrics are functions of (:data:`mot_bench.metrics.explain.FRAME_STATS`), a
  replicate sums them with the draw counts as weights, and the kit's own formulas
  (``final_fields`` of the fast engine's HOTA, CLEAR and Identity) turn the totals into metrics. With all
  weights 1 this gives the kit's combined values (integers exactly, ratios to float rounding).
* **Identical runs give exactly zero**: the same statistics, the same weights and the same operations, in
  a fixed order (an explicit sum over blocks, no BLAS whose summation order could change), give the same
  bits for both runs in every replicate.
* **HOTA.** AssA is not a sum over frames: its numerator sums, over id pairs, h = TPA^2 / (TPA + FNA +
  FPA), and TPA, FNA, FPA count over the whole sequence. A frame's statistic is therefore its first-order
  share of that sum (its empirical influence, :func:`mot_bench.metrics.explain.association_influence`):
  its matches' dh/dTPA plus its gt and tracker boxes' dh/d(box count), all evaluated at the whole
  sequence's counts. h is homogeneous of degree 1, so the shares of all frames add up to the kit's sum
  exactly (Euler's theorem): unit weights give the kit's AssA, a replicate's numerator is linear in the
  weights, so it is unbiased for the full-data sum (each weight has expectation 1), and AssA = sum / TP is
  a ratio of two such sums, centred on the kit's value to first order. A change confined to some frames
  (boxes lost for a moment) shows in those frames' shares, not smeared over the identity's whole life as it
  would be if each match simply carried its full-data association score. AssRe and AssPr likewise. Being
  linear, a replicate drawing few blocks many times can step outside [0, 1]; such values are clipped.
  Recomputing the id-pair counts inside each replicate instead would need the whole match list per
  replicate and adds a Jensen bias of its own.
* **What is held fixed**: each run's matchings (CLEAR's, HOTA's per-frame assignment, IDF1's global id
  assignment) are those of the full data. For IDF1 this is again the first-order view: the optimal
  assignment's value moves, to first order, as the fixed assignment's does (the envelope theorem), and a
  re-solved assignment per replicate would be biased upward (the best of many). The interval is about which
  frames and sequences were observed, not about re-running a tracker (the trackers here are deterministic).

Assumptions worth stating: sequences are exchangeable draws from the population of interest (with 3-7
sequences the sequence level is coarse, and a single sequence leaves the blocks alone to vary); blocks
longer than the errors' dependence; percentile intervals (``level``, default 95 %). Seeded: the same seed,
sequences and block length give the same interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mot_bench.metrics.explain import ALPHA_TAGS, FRAME_STATS
from mot_bench.metrics.fast import clear, hota, identity

DEFAULT_BLOCK = 30
DEFAULT_REPLICATES = 1000
DEFAULT_LEVEL = 0.95
# The metrics an interval can be asked for (TrackEval field names); ratios are fractions.
METRICS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "MOTA", "MOTP", "CLR_Re",
           "CLR_Pr", "IDF1", "IDP", "IDR", "IDSW", "CLR_FP", "CLR_FN", "CLR_TP", "Frag")
HEADLINE = ("HOTA", "MOTA", "IDF1")
_COL = {name: i for i, name in enumerate(FRAME_STATS)}


class BootstrapError(ValueError):
    """Two runs whose statistics cannot be paired (other sequences, frame ranges or block length)."""


def block_sums(frames: np.ndarray, block: int = DEFAULT_BLOCK) -> np.ndarray:
    """(frames, stats) -> (blocks, stats): sums over consecutive blocks of ``block`` frames (last one shorter)."""
    if block < 1:
        raise BootstrapError(f"block length must be >= 1 frame, got {block}")
    frames = np.asarray(frames, dtype=np.float64)
    if not len(frames):
        return np.zeros((0, frames.shape[1] if frames.ndim == 2 else len(FRAME_STATS)))
    return np.add.reduceat(frames, np.arange(0, len(frames), block), axis=0)


def metrics_from_totals(totals: np.ndarray) -> dict[str, np.ndarray]:
    """(replicates, stats) totals -> {metric: (replicates,)} with the fast engine's own final formulas."""
    t = np.atleast_2d(np.asarray(totals, dtype=np.float64))
    col = {name: t[:, i] for name, i in _COL.items()}
    gt, pred = col["gt"], col["pred"]
    ctp = col["clr_tp"]
    c = clear.final_fields({"CLR_TP": ctp, "CLR_FN": gt - ctp, "CLR_FP": pred - ctp, "IDSW": col["idsw"],
                            "MT": 0, "PT": 0, "ML": 0, "MOTP_sum": col["motp"], "CLR_Frames": 1})
    i = identity.final_fields({"IDTP": col["idtp"], "IDFN": gt - col["idtp"], "IDFP": pred - col["idtp"]})

    def per_alpha(part: str) -> np.ndarray:  # (alphas, replicates), as the HOTA fields are laid out
        return np.stack([col[f"{part}_{tag}"] for tag in ALPHA_TAGS])

    tp = per_alpha("hota_tp")

    def ratio(part: str) -> np.ndarray:  # a linearised replicate may step outside [0, 1] when few blocks exist
        return np.clip(per_alpha(part) / np.maximum(1.0, tp), 0.0, 1.0)

    h = hota.final_fields({
        "HOTA_TP": tp, "HOTA_FN": gt - tp, "HOTA_FP": pred - tp,
        "AssA": ratio("hota_ass"), "AssRe": ratio("hota_assre"), "AssPr": ratio("hota_asspr"),
        "LocA": np.maximum(1e-10, per_alpha("hota_loc")) / np.maximum(1e-10, tp),
    })
    out = {m: h[m].mean(axis=0) for m in ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA")}
    out.update({m: np.asarray(c[m], dtype=np.float64) for m in ("MOTA", "MOTP", "CLR_Re", "CLR_Pr")})
    out.update({m: np.asarray(i[m], dtype=np.float64) for m in ("IDF1", "IDP", "IDR")})
    out.update({"IDSW": col["idsw"], "CLR_FP": pred - ctp, "CLR_FN": gt - ctp, "CLR_TP": ctp, "Frag": col["frag"]})
    return out


@dataclass(frozen=True)
class Interval:
    """The paired bootstrap of ``metric(b) - metric(a)``: point difference on the full data, the
    percentile interval, and the replicates' mean and standard deviation."""

    metric: str
    delta: float
    low: float
    high: float
    mean: float
    std: float
    level: float
    replicates: int

    @property
    def excludes_zero(self) -> bool:
        """The interval lies on one side of zero: the difference is more than resampling noise."""
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    """How a bootstrap is drawn; recorded beside every interval so it can be repeated."""

    replicates: int = DEFAULT_REPLICATES
    block: int = DEFAULT_BLOCK
    seed: int = 0
    level: float = DEFAULT_LEVEL

    def __post_init__(self) -> None:
        if self.replicates < 2:
            raise BootstrapError(f"replicates must be >= 2, got {self.replicates}")
        if self.block < 1:
            raise BootstrapError(f"block length must be >= 1 frame, got {self.block}")
        if not 0 < self.level < 1:
            raise BootstrapError(f"level must be in (0, 1), got {self.level}")


def _check_paired(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> list[str]:
    if sorted(a) != sorted(b):
        raise BootstrapError(f"the runs cover different sequences ({', '.join(sorted(a))} vs "
                             f"{', '.join(sorted(b))}); a paired bootstrap needs the same ones")
    for seq in a:
        if np.shape(a[seq]) != np.shape(b[seq]):
            raise BootstrapError(f"{seq}: the runs' statistics differ in shape ({np.shape(a[seq])} vs "
                                 f"{np.shape(b[seq])}): other frame ranges or block lengths")
    if not a:
        raise BootstrapError("no sequences to resample")
    return sorted(a)


def draw_weights(blocks_per_seq: Sequence[int], settings: Settings, resample_sequences: bool = True
                 ) -> list[np.ndarray]:
    """Per sequence, (replicates, blocks) draw counts: sequences with replacement, then each drawn copy's
    blocks with replacement (the sum of m copies' block draws is one multinomial of m x blocks)."""
    rng = np.random.default_rng(settings.seed)
    n = len(blocks_per_seq)
    if resample_sequences:
        copies = rng.multinomial(n, np.full(n, 1.0 / n), size=settings.replicates)
    else:
        copies = np.ones((settings.replicates, n), dtype=np.int64)
    out = []
    for j, k in enumerate(blocks_per_seq):
        if k == 0:
            out.append(np.zeros((settings.replicates, 0)))
            continue
        out.append(rng.multinomial(copies[:, j] * k, np.full(k, 1.0 / k)).astype(np.float64))
    return out


def weighted_totals(blocks: Sequence[np.ndarray], weights: Sequence[np.ndarray]) -> np.ndarray:
    """(replicates, stats): sum over sequences and blocks of weight x block statistics, in a fixed order."""
    replicates = weights[0].shape[0]
    total = np.zeros((replicates, blocks[0].shape[1]))
    for sums, w in zip(blocks, weights, strict=True):
        for k in range(sums.shape[0]):
            total += w[:, k:k + 1] * sums[k]
    return total


def paired_intervals(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray], settings: Settings | None = None,
                     metrics: Sequence[str] = METRICS, resample_sequences: bool = True) -> dict[str, Interval]:
    """Intervals for ``metric(b) - metric(a)``; ``a`` and ``b`` map each sequence to its block sums
    (:func:`block_sums` of the per-frame statistics) with the same sequences and block grid.
    ``resample_sequences=False`` keeps every sequence once (the per-sequence intervals use it)."""
    settings = settings or Settings()
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise BootstrapError(f"no bootstrap for {', '.join(unknown)}; available: {', '.join(METRICS)}")
    names = _check_paired(a, b)
    blocks_a = [np.asarray(a[s], dtype=np.float64) for s in names]
    blocks_b = [np.asarray(b[s], dtype=np.float64) for s in names]
    weights = draw_weights([x.shape[0] for x in blocks_a], settings, resample_sequences)
    rep_a = metrics_from_totals(weighted_totals(blocks_a, weights))
    rep_b = metrics_from_totals(weighted_totals(blocks_b, weights))
    ones = [np.ones((1, x.shape[0])) for x in blocks_a]
    full_a = metrics_from_totals(weighted_totals(blocks_a, ones))
    full_b = metrics_from_totals(weighted_totals(blocks_b, ones))
    tail = 100 * (1 - settings.level) / 2
    out = {}
    for m in metrics:
        diff = rep_b[m] - rep_a[m]
        low, high = np.percentile(diff, [tail, 100 - tail])
        out[m] = Interval(m, float(full_b[m][0] - full_a[m][0]), float(low), float(high), float(diff.mean()),
                          float(diff.std(ddof=1)), settings.level, settings.replicates)
    return out


def per_sequence_intervals(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray],
                           settings: Settings | None = None, metrics: Sequence[str] = METRICS
                           ) -> dict[str, dict[str, Interval]]:
    """Per sequence, intervals from its blocks alone (each sequence seeded alike, so reproducible)."""
    names = _check_paired(a, b)
    return {s: paired_intervals({s: a[s]}, {s: b[s]}, settings, metrics, resample_sequences=False) for s in names}
