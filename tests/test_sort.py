"""SORT reproduces the numbers its authors published (abewley/sort README, MATLAB devkit) on their
own Faster R-CNN detections for MOT15 train, scored with our TrackEval wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from mot_bench.data.motfile import write_mot_file
from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.public import PublicDetector
from mot_bench.metrics import evaluate
from mot_bench.registry import TRACKERS
from mot_bench.trackers.sort import SortTracker
from mot_bench.types import Detections, Frame, SeqInfo

# abewley/sort README "Main Results": GT MT PT ML FP FN IDs FM MOTA(%)
PUBLISHED = {
    "TUD-Campus": (8, 6, 2, 0, 15, 113, 6, 9, 62.7),
    "ETH-Sunnyday": (30, 11, 16, 3, 319, 418, 22, 54, 59.1),
    "ETH-Pedcross2": (133, 17, 60, 56, 330, 3014, 77, 103, 45.4),
    "ADL-Rundle-8": (28, 6, 16, 6, 959, 3781, 103, 211, 28.6),
    "Venice-2": (26, 7, 9, 10, 1650, 4109, 57, 106, 18.6),
    "KITTI-17": (9, 1, 8, 0, 38, 225, 9, 16, 60.2),
}
OVERALL = (234, 48, 111, 75, 3311, 11660, 274, 499, 34.0)


def run_tracker(tracker, detector, seq: SeqInfo) -> np.ndarray:
    """Frame loop of the runner, minus timing: MOT result rows for one sequence."""
    tracker.reset(seq)
    detector.reset(seq)
    rows = []
    for f in seq.frame_ids:
        frame = Frame(seq, f)
        tr = tracker.update(detector(frame), frame)
        for box, tid, score in zip(tr.tlbr, tr.ids, tr.scores, strict=True):
            rows.append([f, tid, box[0], box[1], box[2] - box[0], box[3] - box[1], score, -1, -1, -1])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 10)


def _row(m: dict) -> tuple:
    return (m["MT"] + m["PT"] + m["ML"], m["MT"], m["PT"], m["ML"], m["CLR_FP"], m["CLR_FN"], m["IDSW"], m["Frag"])


@pytest.mark.slow
def test_sort_reproduces_published_mot15_table(shared_data, tmp_path):
    seqs = find_sequences(shared_data, "MOT15", "train", list(PUBLISHED))
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT15" / "SORT_FRCNN"))
    tracker = TRACKERS.create("sort")
    for seq in seqs:
        write_mot_file(tmp_path / f"{seq.name}.txt", run_tracker(tracker, det, seq))
    res = evaluate(seqs, tmp_path, benchmark="MOT15")
    for name, expected in PUBLISHED.items():
        m = res["per_sequence"][name]
        assert _row(m) == expected[:8], name
        assert round(100 * m["MOTA"], 1) == expected[8], name
    c = res["combined"]
    assert _row(c) == OVERALL[:8]
    assert round(100 * c["MOTA"], 1) == OVERALL[8]


def _dets(*boxes) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.ones(len(boxes), np.float32))


def test_output_rule_min_hits_and_max_age():
    trk = SortTracker()
    trk.reset(None)
    box = (100, 100, 150, 200)
    # During the first min_hits frames every updated track is reported at once.
    assert list(trk.update(_dets(box)).ids) == [1]
    assert list(trk.update(_dets(box)).ids) == [1]
    # A track born at frame 3 (frame_count <= min_hits) is reported at once; afterwards a track
    # needs min_hits consecutive updates after its birth (creation itself is not a hit).
    b2, b3 = (400, 100, 450, 200), (700, 100, 750, 200)
    assert sorted(trk.update(_dets(box, b2)).ids) == [1, 2]
    assert sorted(trk.update(_dets(box, b2, b3)).ids) == [1]
    assert sorted(trk.update(_dets(box, b2, b3)).ids) == [1]
    assert sorted(trk.update(_dets(box, b2, b3)).ids) == [1, 2]
    assert sorted(trk.update(_dets(box, b2, b3)).ids) == [1, 2, 3]
    # A missed frame: nothing reported (time_since_update >= 1) and, with max_age 1, the track survives
    # one miss but its hit streak restarts, so it needs min_hits fresh hits to be reported again.
    assert len(trk.update(_dets())) == 0
    assert len(trk.update(_dets(box))) == 0
    assert len(trk.update(_dets(box))) == 0
    assert list(trk.update(_dets(box)).ids) == [1]
    # Two misses: the track is deleted and the box gets a new id.
    trk.update(_dets())
    trk.update(_dets())
    trk.update(_dets(box))
    assert max(t.id for t in trk.tracks) + 1 == 4


def test_ids_restart_and_boxes_follow_the_filter():
    trk = SortTracker(min_hits=0)
    for _ in range(2):
        trk.reset(None)
        out = trk.update(_dets((10, 10, 20, 40)))
        assert list(out.ids) == [1]
        # The first report is the filter's initial state: the detection itself.
        np.testing.assert_allclose(out.tlbr[0], [10, 10, 20, 40], atol=1e-9)
        out = trk.update(_dets((12, 10, 22, 40)))
        assert list(out.ids) == [1]
        assert 10 < out.tlbr[0, 0] < 12  # posterior between prediction and measurement
    assert trk.config() == {"name": "sort", "max_age": 1, "min_hits": 0, "iou_threshold": 0.3}
