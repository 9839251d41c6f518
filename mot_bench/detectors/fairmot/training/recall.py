"""Detection recall/precision of a trained detector against gt, apart from the tracking metrics.

    python -m mot_bench.detectors.fairmot.training.recall recall TRAIN_DIR --data ROOT --benchmark B --split S \
        --seqs A,B
"""

from __future__ import annotations

import json

import numpy as np

from mot_bench.detectors.fairmot.anchor_head import iou_matrix
from mot_bench.detectors.fairmot.training.dataset import training_rows
from mot_bench.types import Frame


def detection_recall(detector, seqs, thresholds: tuple[float, ...] = (0.4,), iou_thres: float = 0.5,
                     frame_stride: int = 1) -> dict[str, dict[str, dict[str, float]]]:
    """Per sequence and score threshold: share of gt boxes (the training's pedestrian rule) matched one-to-one
    (greedy by IoU) by a detection at IoU >= ``iou_thres``, and the precision of those detections.

    Run the detector with a conf_thres at or below the smallest threshold. A check of the detector alone,
    apart from the tracking metrics.
    """
    import cv2

    out: dict[str, dict[str, dict[str, float]]] = {}
    for seq in seqs:
        rows = training_rows(seq)
        detector.reset(seq)
        acc = {t: [0, 0, 0] for t in thresholds}  # matched, gt, detections
        for fid in list(seq.frame_ids)[::frame_stride]:
            gt = rows[rows[:, 0] == fid]
            dets = detector(Frame(seq, fid, cv2.imread(str(seq.image_path(fid)))))
            g = np.stack([gt[:, 2], gt[:, 3], gt[:, 2] + gt[:, 4], gt[:, 3] + gt[:, 5]], 1)
            for t in thresholds:
                boxes = dets.tlbr[dets.scores >= t].astype(np.float64)
                acc[t][1] += len(g)
                acc[t][2] += len(boxes)
                if len(g) == 0 or len(boxes) == 0:
                    continue
                iou = iou_matrix(g, boxes)
                while True:
                    i, j = np.unravel_index(iou.argmax(), iou.shape)
                    if iou[i, j] < iou_thres:
                        break
                    acc[t][0] += 1
                    iou[i, :] = -1
                    iou[:, j] = -1
        out[seq.name] = {str(t): {"recall": a[0] / a[1] if a[1] else float("nan"),
                                  "precision": a[0] / a[2] if a[2] else float("nan"), "gt": a[1], "detections": a[2]}
                         for t, a in acc.items()}
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line of the recall tool (see the module docstring)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mot_bench.detectors.fairmot.training.recall")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recall", help="detection recall/precision of a trained checkpoint vs score threshold")
    r.add_argument("train_dir")
    r.add_argument("--data", required=True)
    r.add_argument("--benchmark")
    r.add_argument("--split", default="half-val")
    r.add_argument("--seqs")
    r.add_argument("--thresholds", default="0.05,0.1,0.2,0.3,0.4")
    r.add_argument("--frame-stride", type=int, default=1)
    args = ap.parse_args(argv)
    from mot_bench.data.sequences import find_sequences
    from mot_bench.detectors.fairmot.detector import FairMOTDetector
    from mot_bench.detectors.fairmot.training.trainer import detector_options

    ths = tuple(float(x) for x in args.thresholds.split(","))
    det = FairMOTDetector(**detector_options(args.train_dir, {"conf_thres": min(ths)}))
    seqs = find_sequences(args.data, args.benchmark, args.split, args.seqs.split(",") if args.seqs else None)
    print(json.dumps(detection_recall(det, seqs, ths, frame_stride=args.frame_stride), indent=1))


if __name__ == "__main__":
    main()
