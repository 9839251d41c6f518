"""OC-SORT: each unusual rule of the official code on hand-built frames, and the official tracker's own
output on MOT17-09 half-val (YOLOX-X detections) reproduced row for row (tests/fixtures/ocsort)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_sort import run_tracker

from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.public import PublicDetector
from mot_bench.options import search_space
from mot_bench.registry import TRACKERS
from mot_bench.trackers.common.association import ASSOCIATION_FUNCS, iou_batch, lapjv_pairs
from mot_bench.trackers.ocsort import OCSortTracker, _kf_predict, _kf_update, _state_to_tlbr, _tlbr_to_z
from mot_bench.types import Detections, Frame, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "ocsort"


def _seq() -> SeqInfo:
    return SeqInfo("synthetic", ".", 100, 1920, 1080, 30.0)


def _dets(*boxes_scores) -> Detections:
    if not boxes_scores:
        return Detections.empty()
    return Detections([b for b, _ in boxes_scores], [s for _, s in boxes_scores])


def _box(x: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def _tracker(**opts) -> OCSortTracker:
    trk = OCSortTracker(**opts)
    trk.reset(_seq())
    return trk


def _predicted_box(trk: OCSortTracker, t: int = 0) -> np.ndarray:
    """Where track ``t`` will be predicted in the next frame (the tracker's state is not touched)."""
    x = trk._x[t : t + 1].copy()
    if x[0, 6, 0] + x[0, 2, 0] <= 0:
        x[0, 6, 0] = 0.0
    nx, _ = _kf_predict(x, trk._P[t : t + 1])
    return _state_to_tlbr(nx)[0]


def test_defaults_are_the_mot17_evaluation_settings():
    cfg = OCSortTracker().config()
    assert cfg == {
        "name": "ocsort", "preset": "mot17", "det_thresh": 0.6, "iou_threshold": 0.3, "asso_func": "iou", "delta_t": 3,
        "inertia": 0.2, "max_age": 30, "min_hits": 3, "use_byte": False, "min_box_area": 100.0,
        "aspect_ratio_thresh": 1.6, "skip_empty_frames": True,
    }
    assert set(search_space(OCSortTracker)) <= set(cfg)


def test_registry_options_and_bad_values():
    opts = {"use_byte": "true", "asso_func": "giou", "delta_t": "2", "aspect_ratio_thresh": "none"}
    trk = TRACKERS.create("ocsort", opts)
    cfg = trk.config()
    assert cfg["use_byte"] is True and cfg["asso_func"] == "giou" and cfg["delta_t"] == 2
    assert cfg["aspect_ratio_thresh"] is None
    with pytest.raises(ValueError, match="asso_func"):
        OCSortTracker(asso_func="ctdis")
    with pytest.raises(ValueError, match="max_age"):
        OCSortTracker(max_age=-1)


def test_output_rule_first_min_hits_frames_and_ids():
    """Frames 1..min_hits: a new track is written in its birth frame from its Kalman state (the
    w / (h + 1e-6) round trip moves the box a hair); once observed, from its last detection exactly.
    Later a track needs min_hits consecutive updates; unconfirmed tracks use up ids."""
    trk = _tracker()
    a = _box(100)
    out = trk.update(_dets((a, 0.9)))
    assert list(out.ids) == [1]
    assert not np.array_equal(out.tlbr[0], np.float32(a)) and np.allclose(out.tlbr[0], a, atol=1e-3)
    b = _box(400)
    out = trk.update(_dets((a, 0.9), (b, 0.9)))
    assert list(out.ids) == [2, 1]  # newest track first
    assert np.array_equal(out.tlbr[1], np.float32(a).astype(np.float64))  # last observation
    assert not np.array_equal(out.tlbr[0], np.float32(b))  # born now: Kalman state
    trk.update(_dets((a, 0.9), (b, 0.9)))
    c = _box(700)
    # Frame 4: track 2 (born in frame 2) has 2 hits in a row; id 3 is born and not written.
    assert sorted(trk.update(_dets((a, 0.9), (b, 0.9), (c, 0.9))).ids) == [1]
    assert sorted(trk.update(_dets((a, 0.9), (b, 0.9))).ids) == [1, 2]  # id 3 missed
    d = _box(1000)
    for _ in range(3):  # id 4: born, then two hits
        assert sorted(trk.update(_dets((a, 0.9), (b, 0.9), (d, 0.9))).ids) == [1, 2]
    assert sorted(trk.update(_dets((a, 0.9), (b, 0.9), (d, 0.9))).ids) == [1, 2, 4]


def test_score_thresholds_are_strict_in_float32():
    """0.6 is not a high score and 0.1 not a low one (float32 scores against the float thresholds)."""
    for score, n_tracks in ((0.6, 0), (0.61, 1), (0.1, 0)):
        trk = _tracker(use_byte=True)
        trk.update(_dets((_box(100), score)))
        assert len(trk.tracks) == n_tracks, score


def test_byte_stage_keeps_a_track_with_low_score_boxes():
    for use_byte in (False, True):
        trk = _tracker(use_byte=use_byte)
        for i in range(4):
            trk.update(_dets((_box(100 + 3 * i), 0.9), (_box(900), 0.9)))
        out = trk.update(_dets((_box(112), 0.4), (_box(900), 0.9)))
        assert (1 in out.ids) is use_byte
        assert len(trk.tracks) == 2  # a low-score box never starts a track
        if use_byte:
            assert np.array_equal(out.tlbr[list(out.ids).index(1)], np.float32(_box(112)))
            assert out.scores[list(out.ids).index(1)] == pytest.approx(0.4)


def test_momentum_picks_the_detection_in_the_direction_of_motion():
    """Two boxes overlap the prediction; the one behind the last observation overlaps more. With the
    direction term (inertia 0.2) the box ahead wins; without it (inertia 0) the IoU decides."""
    chosen = {}
    for inertia in (0.2, 0.0):
        trk = _tracker(inertia=inertia, delta_t=1)
        for i in range(6):
            trk.update(_dets((_box(100 + 5 * i), 0.9)))
        pred = _predicted_box(trk)
        ahead, behind = _box(pred[0] + 12), _box(pred[0] - 10)
        ious = iou_batch(np.array([ahead, behind]), pred[None])[:, 0]
        assert ious[1] > ious[0] > 0.3  # both candidates, so the solver runs
        out = trk.update(_dets((ahead, 0.9), (behind, 0.9)))
        chosen[inertia] = out.tlbr[list(out.ids).index(1)]
    assert np.allclose(chosen[0.2], np.float32(ahead))
    assert np.allclose(chosen[0.0], np.float32(behind))


def test_single_candidate_shortcut_ignores_the_direction_term():
    """One track, two boxes, only one above the IoU threshold: matched on IoU alone, although the
    direction term would have made the solver take the other box (then dropped below threshold)."""
    trk = OCSortTracker()
    trk_box = np.array([[0.0, 0.0, 100.0, 100.0]])
    dets = np.array([[-48, 0, 52, 100, 1.0], [55, 0, 155, 100, 1.0]], dtype=np.float32)  # IoU .351, .290
    velocities = np.array([[0.0, 1.0]], dtype=np.float32)  # moving right, towards the second box
    previous = np.array([[0, 0, 100, 100, 1.0]], dtype=np.float32)
    matched, u_dets, u_trks = trk._first_round(dets, trk_box, velocities, previous)
    assert matched.tolist() == [[0, 0]] and u_dets.tolist() == [1] and len(u_trks) == 0
    solver = lapjv_pairs(-(iou_batch(dets, trk_box) + trk._momentum(dets, velocities, previous)))
    assert solver.tolist() == [[1, 0]]


def test_unmatched_detections_keep_the_official_order():
    """Never-assigned detections first (sorted), then those of pairs dropped below the threshold: the
    order in which new tracks get their ids when no later round re-sorts them."""
    trk = OCSortTracker()
    track = np.array([[0.0, 0.0, 100.0, 100.0]])
    previous = np.array([[0, 0, 100, 100, 0.9]], dtype=np.float32)
    low = np.array([[65, 0, 165, 100, 0.9], [-55, 0, 45, 100, 0.9]], dtype=np.float32)  # IoU .21, .29
    matched, u_dets, u_trks = trk._first_round(low, track, np.zeros((1, 2)), previous)
    assert len(matched) == 0 and u_dets.tolist() == [0, 1] and u_trks.tolist() == [0]
    low = low[::-1].copy()  # the solver's pick (IoU .29, dropped) is now row 0: it goes last
    matched, u_dets, u_trks = trk._first_round(low, track, np.zeros((1, 2)), previous)
    assert len(matched) == 0 and u_dets.tolist() == [1, 0] and u_trks.tolist() == [0]


def test_recovery_matches_on_the_last_observation():
    """A fast object stops while unseen: its prediction runs away, but the box at its last observed
    place is re-associated through the last observation (no new track)."""
    trk = _tracker(skip_empty_frames=False)
    for i in range(6):
        trk.update(_dets((_box(100 + 30 * i, w=100), 0.9)))
    last = _box(250, w=100)
    for _ in range(3):
        trk.update(_dets())
    assert iou_batch(np.array([last]), _predicted_box(trk)[None])[0, 0] < 0.3
    trk.update(_dets((last, 0.9)))
    assert len(trk.tracks) == 1 and trk.tracks[0].time_since_update == 0
    assert trk.tracks[0].hits == 6  # the birth box is not a hit
    trk.update(_dets((last, 0.9)))
    assert list(trk.update(_dets((last, 0.9))).ids) == [1]


def test_re_update_across_a_gap_follows_the_virtual_trajectory():
    """ORU: a track re-found after 3 missed frames rewinds its filter to the first missed frame and
    re-runs it along the straight path from its last observation to the new box (update, predict,
    ...), then applies the new box once more. The object sped up from 8 to 20 px/frame while unseen."""
    xs = [100 + 8.0 * i for i in range(6)] + [None] * 3 + [140 + 20.0 * 4]
    trk = _tracker(skip_empty_frames=False)
    for x in xs:
        trk.update(_dets((_box(x, w=200.0), 0.9)) if x is not None else _dets())
    assert len(trk.tracks) == 1 and trk.tracks[0].hits == 6
    oru_x = trk._x[0, :, 0]

    def predict(x, P):
        if x[0, 6, 0] + x[0, 2, 0] <= 0:
            x[0, 6, 0] = 0.0
        return _kf_predict(x, P)

    def update(x, P, z):
        return _kf_update(x, P, z[None])

    z = _tlbr_to_z(np.array([_box(x or 0.0, w=200.0) for x in xs], dtype=np.float32))
    x = np.zeros((1, 7, 1))
    x[0, :4] = z[0]
    P = np.diag([10.0] * 4 + [1e4] * 3)[None]
    for f in range(1, 7):  # observed frames 1..5, then the prediction of the first missed frame
        x, P = predict(x, P)
        if f < 6:
            x, P = update(x, P, z[f])
    frozen = x.copy(), P.copy()
    plain = (x, P)
    for _ in range(7, 10):  # without ORU: predictions, then the new box
        plain = predict(*plain)
    plain_x = update(*plain, z[9])[0][0, :, 0]
    x, P = frozen  # with ORU, by hand: boxes every 20 px from the last observation (x = 140)
    for k in range(1, 5):
        x, P = update(x, P, _tlbr_to_z(np.array([_box(140 + 20.0 * k, w=200.0)], dtype=np.float32))[0])
        if k < 4:
            x, P = _kf_predict(x, P)
    hand_x = update(x, P, z[9])[0][0, :, 0]
    np.testing.assert_allclose(oru_x, hand_x, rtol=1e-6)
    assert not np.allclose(oru_x, plain_x, rtol=1e-6)
    assert trk.tracks[0].anchor[1].dtype == np.float64  # virtual boxes are float64 (numpy int64 gap)
    assert abs(oru_x[0] - 320.0) < abs(plain_x[0] - 320.0) - 1.0  # closer to the box's true centre


def test_evaluator_filter_area_and_aspect_ratio():
    wide = (100.0, 100.0, 300.0, 200.0)  # w/h = 2 > 1.6
    tiny = (500.0, 100.0, 508.0, 112.0)  # area 96 <= 100
    for opts, expected in (({}, [1]), ({"aspect_ratio_thresh": None}, [1, 2]), ({"min_box_area": 0.0}, [1, 3])):
        trk = _tracker(**opts)
        out = trk.update(_dets((_box(700), 0.9), (wide, 0.9), (tiny, 0.9)))
        assert sorted(out.ids) == expected, opts


def test_empty_frames_do_not_advance_the_tracker_as_in_the_evaluator():
    for skip, age in ((True, 1), (False, 3)):
        trk = _tracker(skip_empty_frames=skip)
        trk.update(_dets((_box(100), 0.9)))
        trk.update(_dets())
        trk.update(_dets())
        trk.update(_dets((_box(100), 0.9)))
        assert trk.tracks[0].age == age and trk.frame_count == 4 - 2 * skip


@pytest.mark.parametrize("name", sorted(ASSOCIATION_FUNCS))
def test_similarity_functions_shape_range_and_dtype(name):
    a = np.array([[0, 0, 10, 20, 0.9], [5, 5, 15, 25, 0.8]], dtype=np.float32)
    b = np.array([[0, 0, 10, 21], [100, 100, 110, 120], [2, 1, 12, 22]], dtype=np.float64)
    sim = ASSOCIATION_FUNCS[name](a, b)
    assert sim.shape == (2, 3) and sim.dtype == np.float64
    assert np.all(sim >= -1e-9) and np.all(sim <= 1 + 1e-9)
    assert sim[0, 0] == sim[0].max()  # identical boxes are the closest pair
    with np.errstate(invalid="ignore"):  # ciou of identical boxes is 0/0, upstream too
        assert ASSOCIATION_FUNCS[name](a, a.copy()).dtype == np.float32  # no casts: float32 stays float32


def _halfval(shared_data, name: str, frames: int | None = None):
    seq = find_sequences(shared_data, "MOT17", "half-val", [name])[0]
    if frames is not None:
        seq.last_frame = seq.first_frame + frames - 1
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT17" / "YOLOX_X_ablation"))
    return seq, det


def test_deterministic_and_ids_restart_per_sequence(shared_data):
    seq, det = _halfval(shared_data, "MOT17-09-SDP", frames=60)
    trk = TRACKERS.create("ocsort")
    first = run_tracker(trk, det, seq)
    again = run_tracker(trk, det, seq)
    assert len(first) > 100 and np.array_equal(first, again) and again[:, 1].min() == 1


def test_matches_the_official_code_on_mot17_09_halfval(shared_data):
    """The official tracker's output (see tests/fixtures/ocsort/PROVENANCE.md), byte for byte in its
    writer's format (``write_results_no_score``: the id as a float, boxes rounded to 0.1 with Python's
    ``round``): the same rows in the same order, the same ids; and every live track's Kalman state at
    frames 1, 10, 20, ... and the last, printed with ``repr``, byte for byte too (rows hide small state
    differences: a float32 ORU trajectory moved states by 2e-7 relative and left every row unchanged)."""
    seq, det = _halfval(shared_data, "MOT17-09-SDP")
    assert (seq.first_frame, seq.last_frame) == (264, 525)
    trk = TRACKERS.create("ocsort")
    trk.reset(seq)
    det.reset(seq)
    rows, states = [], []
    for k, f in enumerate(seq.frame_ids, start=1):
        out = trk.update(det(Frame(seq, f)), Frame(seq, f))
        for box, tid in zip(out.tlbr, out.ids, strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            rows.append(f"{k},{float(tid)},{round(x1, 1)},{round(y1, 1)},{round(x2 - x1, 1)},{round(y2 - y1, 1)},"
                        "-1,-1,-1,-1\n")
        if k == 1 or k % 10 == 0 or f == seq.last_frame:
            states += [",".join([str(k), str(t.id + 1), *(repr(float(v)) for v in trk._x[i, :, 0])]) + "\n"
                       for i, t in enumerate(trk.tracks)]
    for ours, name in (("".join(rows), "MOT17-09-SDP-halfval.txt"),
                       ("".join(states), "MOT17-09-SDP-halfval-states.txt")):
        official = (FIXTURES / name).read_text()
        assert ours.splitlines() == official.splitlines()  # (on failure pytest names the first differing row)
        assert ours == official
    assert len(rows) == 2226 and len(states) == 300
