"""Post-processing of a tracker's MOTChallenge result rows: gap interpolation and GSI.

Opt-in steps applied to one sequence's result rows after tracking, before scoring. Rows are
MOTChallenge result rows ``frame, id, x, y, w, h, score, -1, -1, -1`` as an ``(N, 10)`` float64 array
(what :func:`mot_bench.data.motfile.read_mot_file` returns); every function returns a new array of
that shape, sorted by frame, then id, and never changes its input.

* ``interpolate``: linear interpolation of short gaps, the ``dti`` function of ByteTrack's
  ``tools/interpolation.py`` (OC-SORT ships the same function).
* ``gsi``: StrongSORT's Gaussian-smoothed interpolation (``GSI.py``): linear interpolation, then a
  Gaussian-process regression per track and coordinate.

An option's value may also be ``tracker.NAME``: the value of the tracker's option ``NAME`` for the
sequence at hand (its per-sequence value where the tracker has a per-sequence table), filled in by the
runner with :func:`bind`. UCMCTrack's script interpolates gaps shorter than each sequence's
coasted-deletion time: ``interpolate.max_gap=tracker.cdt``.

Both give the official scripts' numbers (``tests/test_postprocess.py`` checks them on real tracker
output, ``tests/fixtures/postprocess/PROVENANCE.md`` says how the references were made); where the
official scripts' output differs from what is returned here, it is only in what their file writers
do, said below. The runner calls :func:`apply` by name; :data:`METHODS` describes each method's
options for the CLI and the run's config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, cholesky
from scipy.spatial.distance import pdist, squareform

NUM_COLS = 10

# scikit-learn's GaussianProcessRegressor default noise level, which GSI.py leaves in place.
GPR_ALPHA = 1e-10


def _as_rows(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != NUM_COLS:
        raise ValueError(f"expected MOTChallenge rows of shape (N, {NUM_COLS}), got {rows.shape}")
    return rows


def _by_frame_then_id(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def _by_id_then_frame(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort((rows[:, 0], rows[:, 1]))]


def _track_slices(rows: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of each id's run of rows in rows sorted by id."""
    ids = rows[:, 1]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def interpolate(rows: np.ndarray, max_gap: int = 20, min_len: int = 25) -> np.ndarray:
    """Fill short gaps of long tracks with linearly interpolated boxes (ByteTrack's ``dti``).

    A track is interpolated when it has *more than* ``min_len`` rows (the official
    ``n_frame > n_min``); in it, two consecutive rows ``frame a`` and ``frame b`` with
    ``1 < b - a < max_gap`` get one new row for each frame ``a < f < b``, with box
    ``(f - a) * (box_b - box_a) / (b - a) + box_a`` (that expression, for identical floats), score 1
    and ``-1, -1, -1``. Tracks with at most ``min_len`` rows, gaps of ``max_gap`` frames or more, and
    all original rows are returned unchanged. Defaults are the function's own (``n_min=25,
    n_dti=20``); ByteTrack's ``__main__`` passes ``n_min=5``, OC-SORT's ``n_min=30``.

    Differences from the official script, all in its writer or order: it writes every row's score
    as -1 (here original scores are kept, interpolated rows get the 1 it assigns in memory) and boxes
    with ``str(float)``; it sorts by frame with numpy's unstable default sort, so rows of one frame
    come in an order that varies with numpy's version (here: by id). It takes a track's rows in file
    order; here they are sorted by frame first, which is the same for any frame-sorted result file.
    """
    rows = _as_rows(rows)
    if max_gap < 0 or min_len < 0:
        raise ValueError(f"max_gap and min_len must be >= 0, got {max_gap}, {min_len}")
    if len(rows) == 0:
        return rows.copy()
    rows = _by_id_then_frame(rows)
    new: list[np.ndarray] = []
    for s, e in _track_slices(rows):
        if e - s <= min_len:
            continue
        track = rows[s:e]
        frames = track[:, 0]
        gaps = frames[1:] - frames[:-1]
        for i in np.flatnonzero((gaps > 1) & (gaps < max_gap)):
            left_frame, right_frame = frames[i], frames[i + 1]
            left, right = track[i, 2:6], track[i + 1, 2:6]
            curr = left_frame + np.arange(1, int(right_frame - left_frame), dtype=np.float64)
            fill = np.empty((len(curr), NUM_COLS), np.float64)
            fill[:, 0] = curr
            fill[:, 1] = track[0, 1]
            # The official expression, evaluated in the same order for the same floats.
            fill[:, 2:6] = (curr - left_frame)[:, None] * (right - left) / (right_frame - left_frame) + left
            fill[:, 6] = 1.0
            fill[:, 7:] = -1.0
            new.append(fill)
    return _by_frame_then_id(np.vstack([rows, *new]))


def _linear_fill_all_columns(rows: np.ndarray, interval: int) -> np.ndarray:
    """GSI.py's linear step: every track (no minimum length), gaps ``1 < b - a < interval``.

    A new row is ``row_a + (row_b - row_a) / (b - a) * k`` over all ten columns, the official order
    of operations (which differs from ``interpolate``'s, so the floats differ in the last bits).
    """
    rows = _by_id_then_frame(rows)
    frames = rows[:, 0].astype(int)
    ids = rows[:, 1].astype(int)
    new: list[np.ndarray] = []
    gaps = frames[1:] - frames[:-1]
    for i in np.flatnonzero((ids[1:] == ids[:-1]) & (gaps > 1) & (gaps < interval)):
        pre, cur, d = rows[i], rows[i + 1], int(gaps[i])
        k = np.arange(1, d, dtype=np.float64)[:, None]
        new.append(pre + (cur - pre) / d * k)
    return _by_id_then_frame(np.vstack([rows, *new]))


def _gp_smooth(t: np.ndarray, values: np.ndarray, length_scale: float) -> np.ndarray:
    """Posterior mean at the training inputs of a zero-mean GP with a fixed RBF kernel.

    What ``GaussianProcessRegressor(RBF(length_scale, 'fixed')).fit(t, v).predict(t)`` computes (noise
    1e-10, no target normalisation, nothing to optimise), column by column, with the same scipy
    calls; the Cholesky factor is shared by the columns instead of being recomputed for each.
    """
    x = t.reshape(-1, 1) / length_scale
    k0 = squareform(np.exp(-0.5 * pdist(x, metric="sqeuclidean")))
    np.fill_diagonal(k0, 1)
    k = k0.copy()
    k[np.diag_indices_from(k)] += GPR_ALPHA
    chol = cholesky(k, lower=True, check_finite=False)
    out = np.empty_like(values)
    for c in range(values.shape[1]):
        weights = cho_solve((chol, True), values[:, c : c + 1], check_finite=False)
        out[:, c] = (k0 @ weights)[:, 0]
    return out


def gsi_length_scale(n_rows: int, tau: float = 10) -> float:
    """GSI's RBF length scale for a track of ``n_rows`` rows: ``tau * log(tau**3 / n)``, clipped to
    ``[1/tau, tau**2]``."""
    return float(np.clip(tau * np.log(tau**3 / n_rows), tau**-1, tau**2))


def gsi(rows: np.ndarray, interval: int = 20, tau: float = 10) -> np.ndarray:
    """Gaussian-smoothed interpolation (StrongSORT's ``GSI.py``, defaults ``interval=20, tau=10``).

    First every track's gaps ``1 < b - a < interval`` are filled linearly (no minimum track length,
    unlike :func:`interpolate`); then, per track, x, y, w and h are each replaced by the posterior
    mean of a Gaussian process over the frame number (RBF kernel with fixed length scale
    :func:`gsi_length_scale`, noise 1e-10) evaluated at the track's frames. Every output row has score
    1 and ``-1, -1, -1``; frames and ids are kept.

    Differences from the official script, all in its writer or order: it writes boxes with ``%.2f``
    and tracks in the iteration order of a Python ``set`` of ids (here: by frame, then id).
    """
    rows = _as_rows(rows)
    if interval < 0 or tau <= 0:
        raise ValueError(f"interval must be >= 0 and tau > 0, got {interval}, {tau}")
    if len(rows) == 0:
        return rows.copy()
    filled = _linear_fill_all_columns(rows, interval)
    out = np.empty_like(filled)
    for s, e in _track_slices(filled):
        track = filled[s:e]
        out[s:e, 0] = track[:, 0]
        out[s:e, 1] = track[:, 1]
        out[s:e, 2:6] = _gp_smooth(track[:, 0], track[:, 2:6], gsi_length_scale(e - s, tau))
    out[:, 6] = 1.0
    out[:, 7:] = -1.0
    return _by_frame_then_id(out)


@dataclass(frozen=True)
class Option:
    """One option of a method: its keyword, type, default and a help line for the CLI and config."""

    name: str
    type: type
    default: int | float
    help: str


@dataclass(frozen=True)
class Method:
    """A post-processing method: ``fn(rows, **options) -> rows``, with its declared options."""

    name: str
    fn: Callable[..., np.ndarray]
    options: tuple[Option, ...]
    help: str
    source: str

    def defaults(self) -> dict[str, int | float]:
        return {o.name: o.default for o in self.options}


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "interpolate",
            interpolate,
            (
                Option("max_gap", int, 20, "fill gaps of fewer than this many frames (official n_dti)"),
                Option("min_len", int, 25, "only tracks with more than this many rows (official n_min)"),
            ),
            "linear interpolation of short gaps in long tracks",
            "ByteTrack tools/interpolation.py dti (same in OC-SORT)",
        ),
        Method(
            "gsi",
            gsi,
            (
                Option("interval", int, 20, "linearly fill gaps of fewer than this many frames first"),
                Option("tau", float, 10.0, "sets the Gaussian process's RBF length scale per track"),
            ),
            "Gaussian-smoothed interpolation: linear fill, then Gaussian process regression per track",
            "StrongSORT GSI.py",
        ),
    )
}


TRACKER_REF = "tracker."


def tracker_reference(value: object) -> str | None:
    """``NAME`` for a value ``tracker.NAME`` (an option of the tracker), else None."""
    if isinstance(value, str) and value.startswith(TRACKER_REF):
        return value[len(TRACKER_REF):]
    return None


def resolve(name: str, **options: object) -> dict[str, int | float | str]:
    """The full option set of a method (defaults filled in, types converted), as config records it;
    ``tracker.NAME`` values are kept as they are (:func:`bind` fills them in per sequence).

    Unknown method names and options raise ``ValueError`` naming what is known.
    """
    if name not in METHODS:
        raise ValueError(f"unknown post-processing method {name!r}; known: {', '.join(sorted(METHODS))}")
    method = METHODS[name]
    known = {o.name: o for o in method.options}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"{name}: unknown option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    resolved = method.defaults()
    for key, value in options.items():
        kind = known[key].type
        ref = tracker_reference(value)
        if ref is not None:
            if not ref.isidentifier():
                raise ValueError(f"{name}: option {key}={value!r}: expected tracker.OPTION (an option name)")
            resolved[key] = str(value)
            continue
        try:
            converted = kind(float(value)) if kind is int else kind(value)
            if kind is int and converted != float(value):
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"{name}: option {key} must be {kind.__name__}, got {value!r}") from None
        resolved[key] = converted
    return resolved


def bind(name: str, options: dict[str, object], tracker: object | None) -> dict[str, int | float]:
    """``options`` of method ``name`` with each ``tracker.NAME`` replaced by the tracker's current value of
    option ``NAME`` (typed as the method's option); ``ValueError`` if there is no tracker or no such option."""
    out = dict(options)
    for key, value in options.items():
        ref = tracker_reference(value)
        if ref is None:
            continue
        opts = getattr(tracker, "options", None) if tracker is not None else None
        if opts is None or not hasattr(opts, ref):
            who = "no tracker" if tracker is None else f"tracker {getattr(tracker, 'name', tracker)!r}"
            raise ValueError(f"post-processing {name} option {key}={value}: {who} has no option {ref!r}")
        out[key] = getattr(opts, ref)
    return resolve(name, **out)  # type: ignore[return-value]


def apply(name: str, rows: np.ndarray, **options: object) -> np.ndarray:
    """Run post-processing method ``name`` on one sequence's result rows (``tracker.NAME`` values must be
    bound first, :func:`bind`)."""
    resolved = resolve(name, **options)
    unbound = [k for k, v in resolved.items() if tracker_reference(v) is not None]
    if unbound:
        raise ValueError(f"{name}: option(s) {', '.join(unbound)} name a tracker option: bind() them first")
    return METHODS[name].fn(rows, **resolved)


def config(name: str, **options: object) -> dict[str, object]:
    """What a run's config.json records for this step: method, every option's value, and its source."""
    return {"name": name, **resolve(name, **options), "source": METHODS[name].source}
