"""BoxMOT's BoostTrack on MOT17 half-val YOLOX-X detections: its result files (scored with ``mot-bench eval``)
and its tracker-only time per frame, for the side-by-side table of docs/leaderboard.md.

Run it with BoxMOT's own environment (``pip install boxmot==25.0.0``, AGPL-3.0: installed beside this project,
never copied into it; that run imports nothing of mot_bench), and the same loop with ours from this project's
environment (``--impl ours``, the same settings through our options), alternately, for the timing:

    python benchmarks/peer_boxmot_boosttrack.py --data ../shared/data --variant boosttrackpp --out DIR
    python benchmarks/peer_boxmot_boosttrack.py --data ../shared/data --variant boosttrackpp --out DIR2 --impl ours

BoxMOT's BoostTrack with the defaults of its ``configs/trackers/boosttrack.yaml`` (det_thresh 0.6, max_age 60,
min_hits 3, IoU 0.3, lambdas 0.5 / 0.25 / 0.25, DLO and DUO on, dlo_boost_coef 0.65, rich similarity, soft
boost and varying threshold on: BoostTrack++), except: no embeddings (``use_embeddings`` off: there are none
for these detections) and no camera motion (``use_cmc`` off: its ECC needs the images, which are not here).
``--variant boosttrack`` also turns the three BoostTrack++ switches off (the README's BoostTrack command).
Each sequence: the rows scoring >= 0.1 (YOLOX's ``test_conf``, as BoxMOT's own validation passes
``--conf 0.1``) of frames N//2+2..N, in file order, as a float32 (N, 6) array [x1, y1, x2, y2, score, class 0]
with a blank image of the sequence's size; frames without rows are skipped, as BoostTrack's ``main.py`` skips
them. Only ``tracker.update`` is timed. Output rows ``frame,id,x,y,w,h,conf,-1,-1,-1`` per sequence in
``DIR/<SEQ>.txt``.
"""

from __future__ import annotations

import argparse
import configparser
import time
from pathlib import Path

import numpy as np

SEQS = ("MOT17-02-SDP", "MOT17-04-SDP", "MOT17-05-SDP", "MOT17-09-SDP", "MOT17-10-SDP", "MOT17-11-SDP",
        "MOT17-13-SDP")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder")
    ap.add_argument("--variant", choices=["boosttrack", "boosttrackpp"], default="boosttrackpp")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--impl", choices=["boxmot", "ours"], default="boxmot")
    args = ap.parse_args()

    plus_plus = args.variant == "boosttrackpp"
    if args.impl == "boxmot":
        import boxmot
        from boxmot.trackers.box.boosttrack.tracker import BoostTrack

        version = f"boxmot {boxmot.__version__}"

        def make_tracker():
            return BoostTrack(det_thresh=0.6, max_age=60, min_hits=3, iou_threshold=0.3, use_cmc=False,
                              min_box_area=10, aspect_ratio_thresh=1.6, lambda_iou=0.5, lambda_mhd=0.25,
                              lambda_shape=0.25, use_dlo_boost=True, use_duo_boost=True, dlo_boost_coef=0.65,
                              s_sim_corr=False, use_rich_s=plus_plus, use_sb=plus_plus, use_vt=plus_plus,
                              use_embeddings=False)

        def track(tracker, dets, image, seq, frame_id):
            return tracker.update(dets, image)[:, :6]
    else:
        from mot_bench.registry import TRACKERS
        from mot_bench.types import Detections, Frame, SeqInfo

        version = "mot-bench"

        def make_tracker():  # the same settings: max_age 60 for every sequence, no CMC, no re-ID
            return TRACKERS.create(args.variant, {"max_age": 60, "cmc_method": "none", "with_reid": False})

        def track(tracker, dets, image, seq, frame_id):
            out = tracker.update(Detections(dets[:, :4], dets[:, 4]), Frame(seq, frame_id))
            return np.concatenate([out.tlbr, out.ids[:, None], out.scores[:, None]], axis=1)

    args.out.mkdir(parents=True, exist_ok=True)
    total_s, total_frames = 0.0, 0
    for name in SEQS:
        cp = configparser.ConfigParser()
        cp.read(args.data / "MOT17" / "train" / name / "seqinfo.ini")
        n, w, h = int(cp["Sequence"]["seqLength"]), int(cp["Sequence"]["imWidth"]), int(cp["Sequence"]["imHeight"])
        rows = np.loadtxt(args.data / "detections" / "MOT17" / "YOLOX_X_ablation" / f"{name}.txt", delimiter=",",
                          ndmin=2)
        tracker = make_tracker()
        seq = None
        if args.impl == "ours":
            seq = SeqInfo(name, args.data / "MOT17" / "train" / name, n, w, h, 30.0, first_frame=n // 2 + 2)
            tracker.reset(seq)
        image = np.zeros((h, w, 3), np.uint8)
        lines = []
        for f in range(n // 2 + 2, n + 1):
            r = rows[rows[:, 0] == f]
            dets = np.zeros((len(r), 6), np.float32)
            dets[:, 0:2] = r[:, 2:4]
            dets[:, 2:4] = r[:, 2:4] + r[:, 4:6]
            dets[:, 4] = r[:, 6]
            dets = dets[dets[:, 4] >= np.float32(0.1)]
            if not len(dets):
                continue
            t0 = time.perf_counter()
            out = track(tracker, dets, image, seq, f)
            total_s += time.perf_counter() - t0
            total_frames += 1
            for x1, y1, x2, y2, tid, conf in out:
                lines.append(f"{f},{int(tid)},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{conf:.6g},-1,-1,-1\n")
        (args.out / f"{name}.txt").write_text("".join(lines))
    print(f"{version} {args.variant}: {total_frames} frames, "
          f"{1000 * total_s / total_frames:.3f} ms/frame tracker-only ({total_frames / total_s:.0f} FPS)")


if __name__ == "__main__":
    main()
