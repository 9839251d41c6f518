"""BoxMOT's HybridSort on the MOT17 half-val YOLOX-X detections, for the side-by-side rows of docs/leaderboard.md.

Run it in BoxMOT's own environment (``pip install boxmot``; nothing of this project is imported), then score the
folder it writes with ``mot-bench eval``:

    python benchmarks/boxmot_hybridsort.py --data SHARED_DATA --config official --out OUT/official
    python benchmarks/boxmot_hybridsort.py --data SHARED_DATA --config boxmot --out OUT/boxmot
    mot-bench eval --gt-root SHARED_DATA --benchmark MOT17 --split half-val --results OUT/official

Configurations: ``official`` sets BoxMOT's HybridSort to the official MOT17-val exp's values (det/track
threshold 0.6, IoU 0.25, height-modulated IoU, delta_t 3, inertia 0.05, max_age 30, min_hits 3, BYTE on with
low threshold 0.1, TCM in both rounds with weight 1); ``boxmot`` uses the defaults of BoxMOT's own
``configs/trackers/hybridsort.yaml`` (its tuned values). Both run without appearance embeddings (the detection
files have none) and without camera-motion compensation (there are no MOT17 images here; BoxMOT's default is
ECC on images). Each frame's rows scoring >= 0.1 (YOLOX's test_conf) go in as float32 (x1, y1, x2, y2, score,
class 0); the output goes through the official evaluator's filter (w*h > 100, w/h <= 1.6) and is written as
MOTChallenge rows, frames numbered as in the sequence. Tracker-only time (the update calls) is printed per
sequence.
"""

from __future__ import annotations

import argparse
import configparser
import time
from pathlib import Path

import numpy as np

SEQS = ("MOT17-02-SDP", "MOT17-04-SDP", "MOT17-05-SDP", "MOT17-09-SDP", "MOT17-10-SDP", "MOT17-11-SDP",
        "MOT17-13-SDP")
OFFICIAL = dict(det_thresh=0.6, track_thresh=0.6, iou_threshold=0.25, asso_func="hmiou", delta_t=3, inertia=0.05,
                max_age=30, min_hits=3, use_byte=True, low_thresh=0.1, TCM_first_step=True, TCM_byte_step=True,
                TCM_byte_step_weight=1.0)


def boxmot_defaults() -> dict:
    """The ``default`` of every option in BoxMOT's hybridsort.yaml (nested ``activates`` included)."""
    import boxmot
    import yaml

    spec = yaml.safe_load((Path(boxmot.__file__).parent / "configs" / "trackers" / "hybridsort.yaml").read_text())
    out: dict = {}

    def walk(block: dict) -> None:
        for key, value in block.items():
            if isinstance(value, dict) and "default" in value:
                out[key] = value["default"]
                walk(value.get("activates", {}))

    walk(spec)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the shared data folder")
    ap.add_argument("--config", choices=("official", "boxmot"), required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    from boxmot.trackers.box.hybridsort.tracker import HybridSort

    opts = dict(OFFICIAL) if args.config == "official" else boxmot_defaults()
    opts.update(use_embeddings=False, cmc_method=None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data)
    total_time, total_frames = 0.0, 0
    for seq in SEQS:
        ini = configparser.ConfigParser()
        ini.read(data / "MOT17" / "train" / seq / "seqinfo.ini")
        n = int(ini["Sequence"]["seqLength"])
        height, width = int(ini["Sequence"]["imHeight"]), int(ini["Sequence"]["imWidth"])
        rows = np.loadtxt(data / "detections" / "MOT17" / "YOLOX_X_ablation" / f"{seq}.txt", delimiter=",", ndmin=2)
        image = np.zeros((height, width, 3), dtype=np.uint8)  # frame dimensions only; no pixels are used
        tracker = HybridSort(**opts)
        lines, elapsed = [], 0.0
        for f in range(n // 2 + 2, n + 1):
            d = rows[rows[:, 0] == f]
            dets = np.zeros((len(d), 6), dtype=np.float32)
            dets[:, 0:2] = d[:, 2:4]
            dets[:, 2:4] = d[:, 2:4] + d[:, 4:6]
            dets[:, 4] = d[:, 6]
            dets = dets[dets[:, 4] >= np.float32(0.1)]
            t0 = time.perf_counter()
            res = tracker.update(dets, image)
            elapsed += time.perf_counter() - t0
            for r in res:
                w, h = r[2] - r[0], r[3] - r[1]
                if w * h > 100 and not w / h > 1.6:
                    lines.append(f"{f},{int(r[4])},{r[0]:.2f},{r[1]:.2f},{w:.2f},{h:.2f},-1,-1,-1,-1\n")
        (out / f"{seq}.txt").write_text("".join(lines))
        frames = n - n // 2 - 1
        total_time += elapsed
        total_frames += frames
        print(f"{seq}: {frames} frames, {len(lines)} rows, {1000 * elapsed / frames:.3f} ms/frame (update calls)")
    print(f"all: {total_frames} frames, {total_frames / total_time:.0f} frames/s (tracker only)")


if __name__ == "__main__":
    main()
