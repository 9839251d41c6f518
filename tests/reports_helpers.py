"""Build small but realistic run folders through RunFolder, for the report and check tests."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.results import RunFolder
from mot_bench.timing import STAGES

ALPHAS = [round(0.05 * i, 2) for i in range(1, 20)]
SEQS = {"TUD-Campus": 71, "TUD-Stadtmitte": 179}
GT_DETS = {"TUD-Campus": 359, "TUD-Stadtmitte": 1156}


def seq_metrics(det_a: float, ass_a: float, idsw: int, fp: int, fn: int, gt: int) -> dict[str, Any]:
    """TrackEval-shaped fields whose parts agree (HOTA = sqrt(DetA*AssA), MOTA from the counts)."""
    # alpha curves fall off with the localisation threshold, with the given means
    shape = np.linspace(1.35, 0.2, 19)
    shape /= shape.mean()
    det_alpha = np.clip(det_a * shape, 0, 1)
    ass_alpha = np.clip(ass_a * np.linspace(1.1, 0.9, 19), 0, 1)
    hota_alpha = np.sqrt(det_alpha * ass_alpha)
    tp = gt - fn
    return {
        "HOTA": float(hota_alpha.mean()),
        "DetA": float(det_alpha.mean()),
        "AssA": float(ass_alpha.mean()),
        "LocA": 0.78,
        "MOTA": 1 - (fn + fp + idsw) / gt,
        "MOTP": 0.74,
        "IDF1": min(1.0, 0.9 * ass_a + 0.1),
        "IDP": 0.7,
        "IDR": 0.6,
        "IDSW": idsw,
        "Frag": idsw + 3,
        "MT": 3,
        "PT": 4,
        "ML": 1,
        "CLR_TP": tp,
        "CLR_FP": fp,
        "CLR_FN": fn,
        "HOTA_alpha": hota_alpha.tolist(),
        "DetA_alpha": det_alpha.tolist(),
        "AssA_alpha": ass_alpha.tolist(),
        "LocA_alpha": [0.78] * 19,
        "alphas": ALPHAS,
    }


def make_run(path: Path, label: str, tracker: str = "sort", detector: str = "public", quality: float = 0.0,
             ms_track: float = 0.4, tracker_options: dict[str, Any] | None = None,
             seqs: dict[str, int] | None = None, device: str = "cpu") -> Path:
    """A complete run folder; ``quality`` shifts accuracy (positive is better), ``ms_track`` the tracker cost."""
    seqs = seqs or SEQS
    folder = RunFolder(path)
    config = {
        "detector": {"name": detector, "min_score": 0.0},
        "tracker": {"name": tracker, "max_age": 1, "min_hits": 3, "iou_threshold": 0.3, **(tracker_options or {})},
        "data": {"root": "/data", "benchmark": "MOT15", "split": "train",
                 "sequences": [{"name": s, "first_frame": 1, "last_frame": n} for s, n in seqs.items()]},
        "device": device, "precision": "fp32", "warmup_frames": 3, "label": label,
        "created": "2026-11-25T12:00:00Z", "command": "mot-bench run",
    }
    env = {"cpu": "Test CPU @ 2.0GHz", "cpu_count": 2, "gpu": None, "device": device, "torch": "2.14.1"}
    folder.start(config, env)
    per_seq = {}
    rng = np.random.default_rng(zlib.crc32(label.encode()))
    for i, (seq, n) in enumerate(seqs.items()):
        rows = []
        for f in range(1, n + 1):
            row = {"frame": f, "warmup": 1.0 if f <= 3 else 0.0, "read": 0.002, "preprocess": 0.0, "model": 0.0005,
                   "postprocess": 0.0, "track": ms_track / 1000 * (1 + 0.2 * rng.random()), "write": 0.0001,
                   "decode": 0.001}
            if f <= 3:
                row["track"] *= 5  # warm-up frames are slow, and must not count
            row["total"] = sum(row.get(s, 0.0) for s in STAGES)
            rows.append(row)
        folder.write_timing(seq, rows)
        (folder.results_dir / f"{seq}.txt").write_text("1,1,10,10,20,40,1,-1,-1,-1\n", encoding="utf-8")
        gt = GT_DETS.get(seq, 500)
        per_seq[seq] = seq_metrics(0.40 + quality + 0.02 * i, 0.45 + quality, max(0, 12 - int(100 * quality)),
                                   max(0, 40 - int(200 * quality)), max(0, 120 - int(300 * quality)), gt)
    combined = seq_metrics(0.41 + quality, 0.45 + quality, sum(m["IDSW"] for m in per_seq.values()),
                           sum(m["CLR_FP"] for m in per_seq.values()), sum(m["CLR_FN"] for m in per_seq.values()),
                           sum(GT_DETS.get(s, 500) for s in seqs))
    folder.write_metrics({"benchmark": "MOT15", "per_sequence": per_seq, "combined": combined})
    return path


_REAL: dict[str, Path] = {}


def real_sample_run(root: Path, tracker: str, label: str | None = None, **tracker_options: Any) -> Path:
    """A real ``mot-bench run`` (public detections) on the bundled TUD-Campus sample, cached per process."""
    from mot_bench.runner import RunOptions, run

    key = f"{tracker}:{label}:{sorted(tracker_options.items())}"
    if key not in _REAL or not _REAL[key].is_dir():
        out = root / (label or tracker).replace("+", "_").replace(" ", "_")
        run(RunOptions(detector="public", tracker=tracker, tracker_options=tracker_options, out=str(out),
                       label=label, progress=False))
        _REAL[key] = out
    return _REAL[key]
