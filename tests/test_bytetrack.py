"""ByteTrack: the two-stage association on crafted frames, the official bookkeeping rules, and a
sane, deterministic run on real MOT15 detections (SORT's Faster R-CNN boxes, scores in 0..1)."""

from __future__ import annotations

import numpy as np
import pytest
from test_sort import run_tracker

from mot_bench.data.motfile import write_mot_file
from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.public import PublicDetector
from mot_bench.metrics import evaluate
from mot_bench.registry import TRACKERS
from mot_bench.trackers.bytetrack import ByteTracker
from mot_bench.trackers.common.jde import STrack, TrackState, remove_duplicate_stracks
from mot_bench.types import Detections, SeqInfo


def _seq(fps: float = 30.0) -> SeqInfo:
    return SeqInfo("synthetic", ".", 100, 1920, 1080, fps)


def _dets(*boxes_scores) -> Detections:
    if not boxes_scores:
        return Detections.empty()
    return Detections([b for b, _ in boxes_scores], [s for _, s in boxes_scores])


def _box(x: float, y: float = 100.0) -> tuple[float, float, float, float]:
    return (x, y, x + 40.0, y + 100.0)


def test_low_score_box_keeps_a_track_alive():
    """Frames 1-3 high score, then 0.3: the second association keeps the id and the output; with
    the low threshold above 0.3 the same boxes are ignored and the track goes lost."""
    for low, alive in ((0.1, True), (0.35, False)):
        trk = ByteTracker(low_thresh=low)
        trk.reset(_seq())
        for i in range(3):
            out = trk.update(_dets((_box(100 + 2 * i), 0.9)))
            assert list(out.ids) == [1]
        for i in range(3, 8):
            out = trk.update(_dets((_box(100 + 2 * i), 0.3)))
            if alive:
                assert list(out.ids) == [1]
                assert out.scores[0] == pytest.approx(0.3)  # the track takes the matched box's score
                assert abs(out.tlbr[0, 0] - (100 + 2 * i)) < 2
            else:
                assert len(out) == 0
                assert trk.lost_stracks and trk.lost_stracks[0].state == TrackState.LOST
        # A low-score box never starts a track, and cannot revive a lost one (step 3 only sees
        # tracked tracks): only the high-score box re-finds track 1.
        out = trk.update(_dets((_box(116), 0.95)))
        assert list(out.ids) == [1]


def test_new_tracks_need_det_thresh_and_confirmation():
    trk = ByteTracker(preset="demo")  # track_thresh 0.5 -> new tracks need score >= 0.6
    trk.reset(_seq())
    out = trk.update(_dets((_box(100), 0.9), (_box(500), 0.55)))
    assert list(out.ids) == [1]  # first frame: activated at once; 0.55 starts nothing (< 0.6)
    out = trk.update(_dets((_box(100), 0.9), (_box(500), 0.55), (_box(900), 0.8)))
    assert list(out.ids) == [1]  # born in frame 2: unconfirmed, not reported
    out = trk.update(_dets((_box(100), 0.9), (_box(900), 0.8)))
    assert sorted(out.ids) == [1, 2]  # confirmed by its second hit
    # An unconfirmed track missed once is removed; its id is never reused.
    keep = ((_box(100), 0.9), (_box(900), 0.8))
    assert sorted(trk.update(_dets(*keep, (_box(1300), 0.8))).ids) == [1, 2]  # id 3 born, unconfirmed
    assert sorted(trk.update(_dets(*keep)).ids) == [1, 2]  # id 3 removed
    assert sorted(trk.update(_dets(*keep, (_box(1300), 0.8))).ids) == [1, 2]  # id 4 born
    assert sorted(trk.update(_dets(*keep, (_box(1300), 0.8))).ids) == [1, 2, 4]


@pytest.mark.parametrize("fps, buffer", [(30.0, 30), (14.0, 14), (7.0, 7)])
def test_lost_buffer_scales_with_frame_rate(fps, buffer):
    trk = ByteTracker()
    trk.reset(_seq(fps))
    assert trk.max_time_lost == buffer
    for _ in range(3):
        trk.update(_dets((_box(100), 0.9)))
    for _ in range(buffer):  # lost for `buffer` frames: still re-findable
        trk.update(_dets())
    assert list(trk.update(_dets((_box(100), 0.9))).ids) == [1]
    for _ in range(buffer + 2):  # expired (one extra frame: the official list bookkeeping)
        trk.update(_dets())
    trk.update(_dets((_box(100), 0.9)))
    assert list(trk.update(_dets((_box(100), 0.9))).ids) == [2]


def test_output_filter_area_and_aspect_ratio():
    wide = (100.0, 100.0, 300.0, 200.0)  # w/h = 2 > 1.6
    tiny = (500.0, 100.0, 502.0, 104.0)  # area 8 <= 10 (demo preset)
    small = (900.0, 100.0, 908.0, 112.0)  # area 96: kept by the demo filter (> 10), not by tools/track.py's (> 100)
    for opts, expected in (({"preset": "demo"}, [1, 4]), ({"preset": "demo", "aspect_ratio_thresh": None}, [1, 2, 4]),
                           ({"preset": "demo", "min_box_area": 0.0}, [1, 3, 4]), ({}, [1])):
        trk = ByteTracker(**opts)
        trk.reset(_seq())
        out = trk.update(_dets((_box(700), 0.9), (wide, 0.9), (tiny, 0.9), (small, 0.9)))
        assert sorted(out.ids) == expected, opts


def test_remove_duplicate_keeps_the_older_track():
    def track(tid, start, now, box):
        t = STrack(np.array([box[0], box[1], box[2] - box[0], box[3] - box[1]]), 0.9)
        t.track_id, t.start_frame, t.frame_id = tid, start, now
        return t

    old, young = track(1, 1, 10, _box(100)), track(2, 8, 10, _box(101))
    far = track(3, 1, 10, _box(600))
    a, b = remove_duplicate_stracks([young, far], [old])
    assert [t.track_id for t in a] == [3] and [t.track_id for t in b] == [1]
    a, b = remove_duplicate_stracks([old], [young])
    assert [t.track_id for t in a] == [1] and b == []


def test_defaults_are_the_official_mot17_evaluation_and_demo_is_a_preset():
    """tools/track.py: track_thresh 0.6, match_thresh 0.9, min_box_area 100, track_buffer 30, mot20 off;
    its evaluator's buffers (14 for MOT17-05/06 at 14 fps, 25 for MOT17-13/14 at 25 fps, else 30) are the
    sequence frame rate's; tools/demo_track.py's values are the ``demo`` preset."""
    cfg = ByteTracker().config()
    assert {k: cfg[k] for k in ("preset", "track_thresh", "low_thresh", "match_thresh", "track_buffer", "mot20",
                                "min_box_area", "aspect_ratio_thresh", "frame_rate")} == {
        "preset": "mot17", "track_thresh": 0.6, "low_thresh": 0.1, "match_thresh": 0.9, "track_buffer": 30,
        "mot20": False, "min_box_area": 100.0, "aspect_ratio_thresh": 1.6, "frame_rate": None}
    for fps, official_buffer in ((14.0, 14), (25.0, 25), (30.0, 30)):
        trk = ByteTracker()
        trk.reset(_seq(fps))
        assert trk.max_time_lost == official_buffer
    demo = TRACKERS.create("bytetrack", {"preset": "demo"}).config()
    assert (demo["track_thresh"], demo["match_thresh"], demo["min_box_area"]) == (0.5, 0.8, 10.0)
    assert TRACKERS.create("bytetrack", {"preset": "demo", "track_thresh": "0.55"}).track_thresh == 0.55


def test_registry_options_and_config():
    trk = TRACKERS.create("bytetrack", {"track_thresh": "0.6", "mot20": "false", "aspect_ratio_thresh": "none"})
    cfg = trk.config()
    assert cfg["name"] == "bytetrack" and cfg["track_thresh"] == 0.6 and cfg["mot20"] is False
    assert cfg["aspect_ratio_thresh"] is None and trk.det_thresh == pytest.approx(0.7)
    assert set(cfg) >= {"low_thresh", "match_thresh", "track_buffer", "min_box_area", "frame_rate"}


@pytest.mark.slow
def test_real_mot15_detections_sane_and_deterministic(shared_data, tmp_path):
    names = ["TUD-Campus", "ETH-Sunnyday", "KITTI-17"]
    seqs = find_sequences(shared_data, "MOT15", "train", names)
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT15" / "SORT_FRCNN"))
    trk = TRACKERS.create("bytetrack")
    first = {s.name: run_tracker(trk, det, s) for s in seqs}
    for s in seqs:
        again = run_tracker(trk, det, s)
        assert np.array_equal(again, first[s.name]), s.name
        assert again[:, 1].min() == 1  # ids restart per sequence
        write_mot_file(tmp_path / f"{s.name}.txt", again)
    res = evaluate(seqs, tmp_path, benchmark="MOT15", metrics=("CLEAR", "Identity"))
    for name in names:
        m = res["per_sequence"][name]
        assert m["MOTA"] > 0.5, (name, m["MOTA"])
        assert m["IDSW"] < 20, (name, m["IDSW"])
        assert m["IDF1"] > 0.5, (name, m["IDF1"])
