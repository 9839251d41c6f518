"""Helpers for the engine parity tests: field-by-field exact comparison and random MOT data."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from mot_bench.types import SeqInfo

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def trackeval_direct():
    """benchmarks/bench_eval.py's ``trackeval_direct``: TrackEval's Evaluator + MotChallenge2DBox on the files."""
    spec = importlib.util.spec_from_file_location("bench_eval", REPO / "benchmarks" / "bench_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.trackeval_direct


def assert_same_as_trackeval(ours: dict, ref: dict) -> None:
    """Every field TrackEval reports, per sequence and COMBINED_SEQ, is equal (exactly: same code, same input)."""
    import trackeval

    quiet = {"PRINT_CONFIG": False}
    metric_objs = [trackeval.metrics.HOTA(quiet), trackeval.metrics.CLEAR(quiet), trackeval.metrics.Identity(quiet),
                   trackeval.metrics.Count()]
    keys = [*ours["per_sequence"], "COMBINED_SEQ"]
    assert sorted(ref) == sorted(keys)
    checked = 0
    for key in keys:
        got = ours["combined"] if key == "COMBINED_SEQ" else ours["per_sequence"][key]
        want = ref[key]["pedestrian"]
        for m in metric_objs:
            r = want[m.get_name()]
            for f in m.float_array_fields:
                assert got[f] == float(np.mean(r[f])), (key, f)
                assert got[f"{f}_alpha"] == [float(v) for v in r[f]], (key, f)
            for f in m.integer_array_fields:
                assert got[f"{f}_alpha"] == [int(v) for v in r[f]], (key, f)
            for f in m.float_fields + m.integer_fields:
                assert got[f] == r[f], (key, f)
            checked += len(m.fields)
    assert checked > 40 * len(keys)


def field_diffs(fast: dict, ref: dict) -> list[tuple[str, str, object, object]]:
    """Every (sequence or COMBINED, field, fast value, reference value) that is not exactly equal."""
    out = []
    assert fast.keys() == ref.keys()
    assert list(fast["per_sequence"]) == list(ref["per_sequence"])
    for key in fast:
        if key not in ("per_sequence", "combined"):
            assert fast[key] == ref[key], key
    pairs = [*((name, fast["per_sequence"][name], ref["per_sequence"][name]) for name in ref["per_sequence"]),
             ("COMBINED", fast["combined"], ref["combined"])]
    for name, got, want in pairs:
        assert got.keys() == want.keys(), (name, set(got) ^ set(want))
        for field, value in want.items():
            if got[field] != value or type(got[field]) is not type(value):
                out.append((name, field, got[field], value))
    return out


def assert_identical(fast: dict, ref: dict) -> int:
    """All fields equal with ``==`` (floats bit for bit, alpha lists element by element); returns the count."""
    diffs = field_diffs(fast, ref)
    assert not diffs, diffs[:10]
    return sum(len(v) for v in ref["per_sequence"].values()) + len(ref["combined"])


def random_sequence(rng: np.random.Generator, root: Path, name: str, benchmark: str, length: int,
                    crowd: float, first: int = 1, last: int = 0) -> tuple[SeqInfo, np.ndarray]:
    """A random gt file (distractor classes, zero-marked rows, empty frames, id reuse, crowds, exact
    duplicates) and a tracker output made from it (jitter, misses, false positives, id switches)."""
    seq_dir = root / "gt" / name
    (seq_dir / "gt").mkdir(parents=True)
    n_ids = int(rng.integers(1, 12))
    rows = []
    for obj in range(1, n_ids + 1):
        start = int(rng.integers(1, length + 1))
        stop = int(rng.integers(start, length + 1))
        x, y = rng.uniform(0, 200 * (1 - crowd) + 20), rng.uniform(0, 100)
        w, h = rng.uniform(5, 60), rng.uniform(10, 120)
        cls = int(rng.choice([1, 1, 1, 1, 2, 6, 7, 8, 12, 3, 9]))
        for f in range(start, stop + 1):
            if rng.random() < 0.1:
                continue  # gaps: the same id reappears later
            zero = 0 if rng.random() < 0.1 else 1
            rows.append([f, obj, round(x + rng.normal(0, 2), 2), round(y + rng.normal(0, 2), 2), round(w, 1),
                         round(h, 1), zero, cls, round(float(rng.random()), 3)])
    gt = np.array(rows, dtype=np.float64).reshape(-1, 9)
    if benchmark == "MOT15":  # 10-column 3D format: column 7 is the "active" flag, 8-10 world coordinates
        gt = np.concatenate([gt[:, :7], np.full((len(gt), 3), -1.0)], axis=1)
    _write(seq_dir / "gt" / "gt.txt", gt)
    trk = []
    for r in gt:
        if rng.random() < 0.2:
            continue
        tid = r[1] + (100 if rng.random() < 0.15 else 0)  # sometimes another id for the same object
        jitter = rng.normal(0, 4 * crowd + 0.5, 4)
        trk.append([r[0], tid, r[2] + jitter[0], r[3] + jitter[1], abs(r[4] + jitter[2]), abs(r[5] + jitter[3]),
                    1.0, -1, -1, -1])
        if rng.random() < 0.05:  # an exact duplicate box under another id: ties for the solver
            trk.append([r[0], tid + 1000, r[2], r[3], r[4], r[5], 1.0, -1, -1, -1])
    for _ in range(int(rng.integers(0, 3 * length))):
        trk.append([int(rng.integers(1, length + 1)), int(rng.integers(200, 210)), rng.uniform(0, 220),
                    rng.uniform(0, 100), rng.uniform(5, 60), rng.uniform(10, 120), 0.5, -1, -1, -1])
    trk_arr = np.array(trk, dtype=np.float64).reshape(-1, 10)
    if len(trk_arr):  # one id per frame: drop repeats
        _, keep = np.unique(trk_arr[:, 0] * 100000 + trk_arr[:, 1], return_index=True)
        trk_arr = trk_arr[np.sort(keep)]
    seq = SeqInfo(name, seq_dir, length, 640, 480, 30.0, first_frame=first, last_frame=last or length)
    return seq, trk_arr


def _write(path: Path, rows: np.ndarray) -> None:
    lines = [",".join(repr(float(v)) if i >= 2 else str(int(v)) for i, v in enumerate(r)) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def write_results(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, rows)


def grid_sequence(rng: np.random.Generator, root: Path, name: str, benchmark: str, length: int,
                  first: int = 1) -> tuple[SeqInfo, np.ndarray]:
    """Boxes on a coarse integer grid (zero widths included): many exactly equal IoUs, i.e. ties for
    every Hungarian solve, where only calling the solver on the same matrix gives the same answer."""
    seq_dir = root / "gt" / name
    (seq_dir / "gt").mkdir(parents=True)

    def boxes(frame: int, n: int, pool: int, min_w: int) -> list[list[float]]:
        ids = rng.choice(np.arange(1, pool), n, replace=False)
        return [[frame, int(i), 10 * int(rng.integers(0, 6)), 10 * int(rng.integers(0, 3)),
                 10 * int(rng.integers(min_w, 4)), 10 * int(rng.integers(1, 4))] for i in ids]

    gt, trk = [], []
    for f in range(1, length + 1):
        for r in boxes(f, int(rng.integers(0, 12)), 40, 1):
            gt.append(r + [int(rng.random() > 0.1), int(rng.choice([1, 1, 1, 2, 6, 7, 8, 12])), 1])
        trk += [r + [1, -1, -1, -1] for r in boxes(f, int(rng.integers(0, 12)), 30, 0)]
    gt_arr = np.array(gt, dtype=np.float64).reshape(-1, 9)
    if benchmark == "MOT15":
        gt_arr = np.concatenate([gt_arr[:, :7], np.full((len(gt_arr), 3), -1.0)], axis=1)
    _write(seq_dir / "gt" / "gt.txt", gt_arr)
    seq = SeqInfo(name, seq_dir, length, 640, 480, 30.0, first_frame=first)
    return seq, np.array(trk, dtype=np.float64).reshape(-1, 10)
