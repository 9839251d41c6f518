"""TrackTrack: each rule of the official arithmetic on hand-built frames (iterative mutual arg-min matching with a
falling threshold, track-aware NMS, deleted detections of the looser-NMS set, the confidence and corner-angle
terms, the Kalman filter, numpy < 1.24 threshold semantics, the frame-rate lost-track length, the frame without
detections) and the official tracker's own rows on MOT17-09 half-val (tests/fixtures/tracktrack, PROVENANCE.md):
the YOLOX-X detections, and oracle detections with embeddings with and without a looser-NMS second set."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from test_sort import run_tracker

from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.precomputed import PrecomputedDetector
from mot_bench.detectors.public import PublicDetector
from mot_bench.options import search_space
from mot_bench.registry import TRACKERS
from mot_bench.trackers.common import cmc
from mot_bench.trackers.tracktrack import (
    LOST,
    NEW,
    TRACKED,
    TrackTrack,
    TrackTrackKalman,
    angle_distance,
    association_cost,
    deleted_detections,
    iterative_matching,
    measurement,
    track_aware_nms,
    track_velocity,
)
from mot_bench.types import Detections, Frame, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "tracktrack"
ORACLE = Path(__file__).parent / "fixtures" / "deepsort" / "MOT17-09-SDP-halfval-oracle.npz"
GMC = FIXTURES / "gmc"


def _make_inputs():
    spec = importlib.util.spec_from_file_location("tracktrack_make_inputs", FIXTURES / "make_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seq(fps: float = 30.0) -> SeqInfo:
    return SeqInfo("synthetic", ".", 400, 1920, 1080, fps)


def _box(x: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def _dets(boxes, scores, embs=None, loose: Detections | None = None) -> Detections:
    emb = None if embs is None else np.array(embs, np.float64).reshape(len(scores), -1)
    return Detections(np.array(boxes, np.float64).reshape(-1, 4), np.array(scores, np.float64), emb, loose=loose)


def _tracker(fps: float = 30.0, **opts) -> TrackTrack:
    trk = TrackTrack(cmc_method="none", **opts)
    trk.reset(_seq(fps))
    return trk


def _feed(trk: TrackTrack, frames: list[Detections]) -> list:
    return [trk.update(d, Frame(trk._seq, k + 1)) for k, d in enumerate(frames)]


# -- options --------------------------------------------------------------------------------------
def test_defaults_are_the_mot17_evaluation_settings():
    cfg = TrackTrack().config()
    assert cfg == {
        "name": "tracktrack", "preset": "mot17", "det_thresh": 0.6, "init_thresh": 0.7, "match_thresh": 0.7,
        "reduce_step": 0.05, "penalty_p": 0.2, "penalty_q": 0.4, "tai_thresh": 0.55, "min_len": 3,
        "lost_seconds": 2.0, "min_score": 0.1, "appearance": True, "zero_size_velocity": False,
        "aspect_ratio_thresh": 1.6, "min_box_area": 100.0, "cmc_method": "file", "gmc_dir": None,
        "cmc_downscale": 2,
    }
    assert set(search_space(TrackTrack)) == {"det_thresh", "init_thresh", "match_thresh", "reduce_step", "penalty_p",
                                            "penalty_q", "tai_thresh", "min_len", "lost_seconds"}
    assert TrackTrack.needs_camera_motion and not TrackTrack.needs_embeddings
    dance = TRACKERS.create("tracktrack", {"preset": "dancetrack"}).config()
    assert (dance["match_thresh"], dance["init_thresh"], dance["aspect_ratio_thresh"], dance["zero_size_velocity"]) \
        == (0.8, 0.6, None, True)
    mot20 = TRACKERS.create("tracktrack", {"preset": "mot20", "match_thresh": "0.6"}).config()
    assert (mot20["det_thresh"], mot20["init_thresh"], mot20["match_thresh"]) == (0.4, 0.4, 0.6)


@pytest.mark.parametrize(("fps", "frames"), [(30.0, 60), (14.0, 28), (25.0, 50), (29.97, 58)])
def test_lost_tracks_live_twice_the_frame_rate(fps, frames):
    """run.py: max_time_lost = int(frameRate) * 2; a track missed in that many frames comes back with its id
    (association runs before the age check), one frame more and it is gone. A far detection keeps every frame
    on the normal path."""
    far = _box(1500, 800)
    for missed, same in ((frames, True), (frames + 1, False)):
        trk = _tracker(fps)
        seen = [_dets([_box(100), far], [0.9, 0.9]) for k in range(5)]
        gone = [_dets([far], [0.9]) for _ in range(missed)]
        back = [_dets([_box(100), far], [0.9, 0.9]) for _ in range(3)]
        out = _feed(trk, seen + gone + back)
        first_id = out[4].ids[np.argmin(out[4].tlbr[:, 0])]
        last_id = out[-1].ids[np.argmin(out[-1].tlbr[:, 0])]
        assert bool(first_id == last_id) is same
    assert _tracker(fps, lost_seconds=0.5)._max_lost == int(int(fps) * 0.5)


# -- the matching ---------------------------------------------------------------------------------
def test_iterative_matching_is_mutual_argmin_with_a_falling_threshold():
    # round 1 (0.7): (0, 0) mutual; row 1's best is column 0, taken -> round 2 (0.65): 0.66 is too dear
    cost = np.array([[0.10, 0.20], [0.15, 0.66]])
    assert iterative_matching(cost.copy(), 0.7, 0.05) == [(0, 0)]
    # an assignment solver with a 0.7 limit would take (1, 1); with 0.64 the second round does
    cost[1, 1] = 0.64
    assert iterative_matching(cost.copy(), 0.7, 0.05) == [(0, 0), (1, 1)]
    # the threshold falls by repeated float subtraction: 0.7 - 0.05 = 0.6499999999999999 < 0.65
    cost[1, 1] = 0.65
    assert iterative_matching(cost.copy(), 0.7, 0.05) == [(0, 0)]
    # ties go to the first index (numpy argmin), and one round takes every mutual pair
    cost = np.array([[0.3, 0.3, 0.9], [0.9, 0.9, 0.2]])
    assert iterative_matching(cost.copy(), 0.7, 0.05) == [(0, 0), (1, 2)]
    # a pair at the threshold is not taken (strictly below)
    assert iterative_matching(np.array([[0.7]]), 0.7, 0.05) == []


def test_cost_combines_hiou_appearance_confidence_and_angle_with_group_penalties():
    track_boxes = np.array([[100.0, 100.0, 140.0, 200.0]])
    dets = np.array([[100, 100, 140, 200], [102, 110, 142, 210], [100, 100, 140, 200]], np.float32)
    scores = np.array([0.9, 0.5, 0.8], np.float32)
    feats_t = np.array([[1.0, 0.0]], np.float32)
    feats_d = np.array([[1.0, 0.0], [0.6, 0.8], [1.0, 0.0]], np.float32)
    vel = np.zeros((1, 4, 2))
    old = track_boxes.astype(np.float32)
    cost = association_cost(track_boxes, dets, feats_t, feats_d, np.array([0.9], np.float32),
                            np.array([0.8], np.float32), scores, vel, old, 1, 1, 0.2, 0.4)
    # column 0: IoU 1, hIoU 1, cosine 0, confidence |0.9 + 0.1 - 0.9|, angle 0.5 (zero velocity) * 0.9
    expect0 = 0.1 * np.float32(abs(np.float32(1.0) - np.float32(0.9))) + 0.05 * 0.5 * np.float32(0.9)
    assert cost[0, 0] == pytest.approx(expect0, abs=1e-6)
    # column 2 is the same box in the deleted group: + penalty_q; column 1 (low) carries penalty_p
    conf2 = 0.1 * abs(1.0 - 0.8)
    assert cost[0, 2] == pytest.approx(0.05 * 0.5 * 0.8 + conf2 + 0.4, abs=1e-6)
    assert cost[0, 1] > 0.2 + 0.5 * 0.2  # penalty plus half of the cosine distance 0.4
    # IoU <= 0.1 sets the cost to 1; without features the cosine term is 1
    far = np.array([[500, 100, 540, 200]], np.float32)
    assert association_cost(track_boxes, far, None, None, scores[:1], scores[:1], scores[:1], vel, old, 1, 0,
                            0.2, 0.4)[0, 0] == 1.0
    plain = association_cost(track_boxes, dets[:1], None, None, np.array([0.9], np.float32),
                             np.array([0.9], np.float32), scores[:1], vel, old, 1, 0, 0.2, 0.4)
    assert plain[0, 0] == pytest.approx(0.5 + 0.05 * 0.5 * 0.9, abs=1e-6)


def test_height_modulated_iou():
    """hIoU = vertical overlap / vertical span (no +1): a box shifted down by half its height keeps IoU's
    horizontal part but its distance grows by the hIoU factor."""
    track = np.array([[0.0, 0.0, 99.0, 99.0]])
    det = np.array([[0, 50, 99, 149]], np.float32)
    cost = association_cost(track, det, None, None, *(np.ones(1, np.float32),) * 3, np.zeros((1, 4, 2)),
                            det, 1, 0, 0.0, 0.0)
    iou = 50 * 100 / (2 * 100 * 100 - 50 * 100)
    h_iou = 49 / 149
    # confidence 0 (scores 1, 1, 1), angle 0.5 (zero velocity) times the score 1
    assert cost[0, 0] == pytest.approx(0.5 * (1 - h_iou * iou) + 0.5 + 0.05 * 0.5, abs=1e-12)


def test_corner_vectors_velocity_and_angle():
    old = np.array([[100, 100, 140, 200]], np.float32)
    new = np.array([110, 100, 150, 200], np.float32)
    # the official "bottom" corners take y2(new) - y1(old) = 100 for y but normalise by (dx, dy2) = (10, 0)
    vel = track_velocity(np.repeat(old, 3, axis=0), new)
    lt = np.array([1.0, 0.0])
    lb = np.array([10, 100]) / np.float32(10 + 1e-5)
    np.testing.assert_allclose(vel[0], 3 * lt, rtol=1e-6)
    np.testing.assert_allclose(vel[1], 3 * lb, rtol=1e-6)
    # the same box 1..3 frames back: zero for the top corners, but the bottom ones keep y = h over 1e-5
    same = track_velocity(np.repeat(new[None], 3, axis=0), new)
    assert np.array_equal(same[[0, 2]], np.zeros((2, 2)))
    assert same[1, 0] == same[3, 0] == 0 and same[1, 1] == same[3, 1] == 3 * np.float32(100 / np.float32(1e-5))
    # the angle: clipped dot of velocity and unit direction, arccos / pi, mean over corners, times the score
    right = np.array([[150, 100, 190, 200]], np.float32)
    left = np.array([[60, 100, 100, 200]], np.float32)
    moving_right = np.tile(np.array([1.0, 0.0]), (1, 4, 1))
    a_right = angle_distance(moving_right, old, right, np.array([1.0], np.float32))
    a_left = angle_distance(moving_right, old, left, np.array([1.0], np.float32))
    assert a_left[0, 0] > a_right[0, 0]
    # every corner's x-part points along the motion (the bottom ones' y-parts, divided by the dx norm,
    # only push the dot product past 1, which is clipped): angle ~0 to the right, ~1 to the left
    assert a_right[0, 0] < 1e-3 and a_left[0, 0] > 1 - 1e-3
    assert angle_distance(moving_right, old, left, np.array([0.5], np.float32))[0, 0] == \
        pytest.approx(0.5 * a_left[0, 0])


def test_velocity_looks_only_at_frame_f_minus_d():
    """The official get_prev_box ignores its loop index: the box of frame f - d, else the current box."""
    trk = _tracker()
    _feed(trk, [_dets([_box(100)], [0.9]), _dets([_box(104)], [0.9]), _dets([], [])])
    # frame 3 had nothing: the track (new, 2 updates) is dropped by update_without_detections
    assert trk.tracks == []
    trk = _tracker()
    far = _box(1500, 800)
    frames = [_dets([_box(100), far], [0.9, 0.9]), _dets([_box(104), far], [0.9, 0.9]),
              _dets([_box(108), far], [0.9, 0.9]), _dets([far], [0.9]), _dets([_box(116), far], [0.9, 0.9])]
    _feed(trk, frames)
    track = min(trk.tracks, key=lambda t: t.box[0])
    assert track.state == TRACKED and track.n_obs == 4
    # at frame 5: frame 4 missing (the current box instead), frames 3 and 2 present
    expect = track_velocity(np.array([_box(116), _box(108), _box(104)], np.float32), np.float32(_box(116)))
    assert np.array_equal(track.velocity, expect)
    assert track.velocity[0, 0] == pytest.approx(2.0, abs=1e-5)  # left-top: 0 + 1 + 1 (unit x vectors)


def test_confidence_term_projects_the_last_score_change():
    trk = _tracker()
    scores = [0.9, 0.8, 0.75]
    _feed(trk, [_dets([_box(100 + k)], [s]) for k, s in enumerate(scores)])
    (track,) = trk.tracks
    assert (track.score, track.prev_score) == (np.float32(0.75), np.float32(0.8))
    # cost difference between detections scoring 0.7 (= 0.75 + (0.75 - 0.8)) and 0.9: 0.1 * 0.2, float32
    boxes = np.array([_box(103)] * 2, np.float32)
    cost = association_cost(track.tlbr()[None], boxes, None, None, np.array([track.score]),
                            np.array([track.prev_score]), np.array([0.7, 0.9], np.float32),
                            np.zeros((1, 4, 2)), np.array([track.box]), 2, 0, 0.2, 0.4)
    angle_part = 0.05 * 0.5 * (0.9 - 0.7)
    assert cost[0, 1] - cost[0, 0] == pytest.approx(0.1 * 0.2 + angle_part, abs=1e-6)


# -- thresholds with the official numpy -----------------------------------------------------------
def test_det_thresh_compares_the_float32_score_in_float64():
    """float32(0.6) = 0.6000000238 > 0.6 under numpy < 1.24: high, so no penalty_p and the track goes on
    (without embeddings a low detection costs at least 0.5 + 0.2 and can never match)."""
    for score, continued in ((0.6, True), (0.59, False)):
        trk = _tracker()
        out = _feed(trk, [_dets([_box(100 + k)], [0.9]) for k in range(3)] + [_dets([_box(103)], [score])])
        assert (len(out[-1]) == 1) is continued


@pytest.mark.parametrize(("score", "starts"), [(0.7, False), (0.71, True)])
def test_init_thresh_is_a_float32_comparison(score, starts):
    trk = _tracker()
    _feed(trk, [_dets([_box(100)], [score])])
    assert (len(trk.tracks) == 1) is starts


def test_min_score_drops_detections_and_an_emptied_frame_predicts_tracked_tracks():
    """Scores below 0.1 never reach the tracker (detect.py --conf 0.1); a frame left with nothing is the
    official update_without_detections: new tracks are dropped, tracked ones stay tracked and are reported
    at their predicted box with their last score."""
    trk = _tracker()
    out = _feed(trk, [_dets([_box(100 + 4 * k), _box(900 + 3 * k, 500)], [0.9, 0.9 if k else 0.05])
                      for k in range(3)])
    assert len(out[-1]) == 1  # the second object started at frame 2: still new
    assert sorted(t.state for t in trk.tracks) == [NEW, TRACKED]
    tracked = next(t for t in trk.tracks if t.state == TRACKED)
    before = tracked.tlbr()
    out = trk.update(_dets([_box(500)], [0.09]), Frame(trk._seq, 4))
    assert [t.state for t in trk.tracks] == [TRACKED]
    assert len(out) == 1 and out.tlbr[0, 0] > before[0] and out.scores[0] == np.float32(0.9)


# -- track-aware NMS ------------------------------------------------------------------------------
def test_track_aware_nms():
    boxes = np.array([_box(100), _box(104), _box(300), _box(304), _box(600)], np.float64)
    scores = np.array([0.8, 0.9, 0.8, 0.8, 0.75], np.float32)
    track = np.array([_box(602)], np.float64)
    allow = track_aware_nms(boxes, scores, track, 0.55, 0.7)
    # 0 is processed first but a lower score suppresses nothing; 1 suppresses 0; 2 and 3 tie: both stay;
    # 4 overlaps an alive track
    assert allow.tolist() == [False, True, True, True, False]
    # a detection disallowed by a track does not suppress others
    allow = track_aware_nms(boxes[[4, 0]], np.array([0.9, 0.8], np.float32), track, 0.55, 0.7)
    assert allow.tolist() == [False, True]
    # no alive track: only the score and the other detections decide
    assert track_aware_nms(boxes[:2], scores[:2], np.zeros((0, 4)), 0.55, 0.7).tolist() == [False, True]


def test_a_new_track_next_to_a_tracked_one_is_not_started():
    trk = _tracker()
    _feed(trk, [_dets([_box(100 + k)], [0.9]) for k in range(3)])
    # a second box overlapping the track (IoU ~0.8) is suppressed by the track, one further away starts
    trk.update(_dets([_box(103), _box(106), _box(400)], [0.9, 0.85, 0.8]), Frame(trk._seq, 4))
    assert len(trk.tracks) == 2 and {round(float(t.box[0])) for t in trk.tracks} == {103, 400}


# -- deleted detections ---------------------------------------------------------------------------
def test_deleted_detections_are_looser_boxes_far_from_every_main_box():
    main = np.array([_box(100), _box(300)], np.float32)
    loose = np.array([_box(100), _box(100.5), _box(120), _box(700)], np.float32)
    # IoU (+1) with the main set: 1, 41/42.5-ish >= 0.97, about 0.35, 0
    assert deleted_detections(main, loose).tolist() == [False, False, True, True]
    assert deleted_detections(main, np.zeros((0, 4), np.float32)).tolist() == []


def test_a_deleted_detection_continues_a_track_the_stricter_nms_removed():
    """Two people, one in front of the other: the stricter NMS keeps only the front box, the looser one keeps
    both. With embeddings the occluded person's track takes its deleted box (penalty_q); without the looser set
    it is lost; deleted boxes scoring <= det_thresh are discarded."""
    e_a, e_b = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    start = [_dets([_box(100 + k), _box(125 + k)], [0.9, 0.9], [e_a, e_b]) for k in range(3)]
    occl = _box(128)

    def occluded(score: float, with_loose: bool) -> Detections:
        loose = _dets([_box(103), occl], [0.9, score], [e_a, e_b]) if with_loose else None
        return _dets([_box(103)], [0.9], [e_a], loose=loose)

    for score, with_loose, kept in ((0.8, True, True), (0.8, False, False), (0.55, True, False)):
        trk = _tracker()
        _feed(trk, start)
        b = next(t for t in trk.tracks if t.box[0] > 120)
        trk.update(occluded(score, with_loose), Frame(trk._seq, 4))
        assert (b.state == TRACKED) is kept
        assert (b.state == LOST) is (not kept)
        if kept:
            assert np.array_equal(b.box, np.float32(occl))


def test_loose_set_without_embeddings_is_refused_when_the_main_set_has_them():
    trk = _tracker()
    loose = _dets([_box(100), _box(400)], [0.9, 0.9])
    with pytest.raises(ValueError, match="looser-NMS"):
        trk.update(_dets([_box(100)], [0.9], [[1.0, 0.0]], loose=loose), Frame(trk._seq, 1))
    # appearance off: the embeddings are not used, the looser set is fine
    trk = _tracker(appearance=False)
    trk.update(_dets([_box(100)], [0.9], [[1.0, 0.0]], loose=loose), Frame(trk._seq, 1))


def test_low_score_detections_continue_a_track_with_appearance():
    e = [[1.0, 0.0]]
    frames = [_dets([_box(100 + k)], [0.9], e) for k in range(3)] + [_dets([_box(103)], [0.4], e)]
    assert len(_feed(_tracker(), frames)[-1]) == 1
    # the same without embeddings: cosine 1, so a low detection costs >= 0.5 + 0.2 = match_thresh
    assert len(_feed(_tracker(appearance=False), frames)[-1]) == 0


# -- Kalman filter and appearance -----------------------------------------------------------------
def test_kalman_filter_official_noise():
    box = np.array([100, 200, 140, 300], np.float32)
    z = measurement(box)
    assert z.tolist() == [120.0, 250.0, 40.0, 100.0]
    mean, cov = TrackTrackKalman.initiate(z)
    np.testing.assert_array_equal(np.diag(cov), np.square([80.0, 200.0, 80.0, 200.0, 400.0, 1000.0, 400.0, 1000.0]))
    mean[6] = 4.0  # w grows by 4: the process noise uses the predicted w = 44
    m2, c2 = TrackTrackKalman.multi_predict(mean[None], cov[None])
    assert m2[0, 2] == 44.0
    assert c2[0, 2, 2] == cov[2, 2] + cov[6, 6] + (44.0 / 20) ** 2
    assert c2[0, 6, 6] == cov[6, 6] + (44.0 / 160) ** 2
    # the measurement variance (w/20)^2 is scaled by (1 - score): a near-certain detection pulls the state there
    target = z + np.array([10.0, 0, 0, 0])
    sure, _ = TrackTrackKalman.update(m2[0], c2[0], target, 1 - 0.999)
    unsure, _ = TrackTrackKalman.update(m2[0], c2[0], target, 1 - 0.5)
    assert abs(sure[0] - target[0]) < abs(unsure[0] - target[0]) < 10


def test_feature_ema_weight_follows_the_score():
    trk = _tracker()
    e0, e1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    _feed(trk, [_dets([_box(100)], [0.9], [e0]), _dets([_box(101)], [0.6], [e1])])
    beta = 0.95 + (1 - 0.95) * (1 - np.float64(np.float32(0.6)))
    expect = np.array([np.float32(beta), np.float32(1 - beta)], np.float32)
    np.testing.assert_array_equal(trk.tracks[0].feat, expect / np.linalg.norm(expect))


# -- camera motion --------------------------------------------------------------------------------
def test_camera_pan_keeps_the_id_only_with_the_warp():
    """The camera pans 60 px a frame (boxes 40 px wide): without the warp the prediction misses."""
    pan = np.array([[1.0, 0.0, 60.0], [0.0, 1.0, 0.0]])
    for warp, same in ((pan, True), (None, False)):
        trk = _tracker()
        ids = []
        for k in range(6):
            out = trk.update(_dets([_box(100 + 60 * k)], [0.9]), Frame(trk._seq, k + 1, camera_motion=warp))
            ids.append(tuple(out.ids))
        # without the warp every frame starts a new track that is never matched: nothing is reported
        assert (len(ids[-1]) == 1 and ids[-1] == ids[2]) is same


def test_gmc_file_rows_by_frame_number(shared_data):
    """TrackTrack's GMC-MOT17-09.txt covers the whole sequence (525 rows, row i = frame i + 1); on half-val the
    runner's file warps (and the tracker's own lookup) take the rows of frames 264..525; BoT-SORT's half-val
    file (262 rows, row k = frame 264 + k) maps to the same frames."""
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    table = cmc.read_gmc_file(GMC / "GMC-MOT17-09.txt")
    assert len(table) == 525
    warps = cmc.sequence_warps(seq, "file", gmc_dir=GMC)
    np.testing.assert_array_equal(warps[1:], table[seq.first_frame:])
    assert np.array_equal(warps[0], cmc.identity())
    trk = TrackTrack(gmc_dir=str(GMC))
    trk.reset(seq)
    assert np.array_equal(trk._warp(Frame(seq, 300)), table[299])
    with pytest.raises(RuntimeError, match="gmc_dir"):
        TrackTrack().update(_dets([_box(1)], [0.9]), None)


# -- the official output --------------------------------------------------------------------------
def _check_rows(ours: np.ndarray, official: np.ndarray) -> None:
    """Frames, ids and order identical; boxes equal at run.py's one decimal; scores as run.py writes them
    (``round(score, 2)`` of the float32 score, in float32, printed in full)."""
    assert ours.shape[0] == official.shape[0]
    np.testing.assert_array_equal(ours[:, :2], official[:, :2])
    np.testing.assert_array_equal(np.round(ours[:, 2:6], 1), official[:, 2:6])
    np.testing.assert_array_equal(np.round(ours[:, 6].astype(np.float32), 2).astype(np.float64), official[:, 6])


def test_matches_official_tracktrack_on_mot17_09_half_val(shared_data):
    """YOLOX-X detections, no embeddings, no looser set, TrackTrack's GMC file: the official defaults."""
    official = np.loadtxt(FIXTURES / "MOT17-09-SDP-halfval.txt", delimiter=",")
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT17" / "YOLOX_X_ablation"))
    ours = run_tracker(TRACKERS.create("tracktrack", {"gmc_dir": str(GMC)}), det, seq)
    assert official.shape[0] == 2219
    _check_rows(ours, official)


@pytest.mark.parametrize(("fixture", "loose", "rows"), [("MOT17-09-SDP-halfval-oracle.txt", False, 2132),
                                                       ("MOT17-09-SDP-halfval-oracle-loose.txt", True, 1886)])
def test_matches_official_tracktrack_with_embeddings(shared_data, tmp_path, fixture, loose, rows):
    """Oracle detections with 32-d embeddings (tests/fixtures/deepsort); with the looser set, the tracked set is
    the stricter NMS of make_inputs.py and the oracle rows are the looser one (deleted detections matched)."""
    official = np.loadtxt(FIXTURES / fixture, delimiter=",")
    arr = np.load(ORACLE)["detections"]
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    (tmp_path / "main").mkdir()
    (tmp_path / "loose").mkdir()
    opts = {"det_dir": str(tmp_path / "main")}
    if loose:
        np.save(tmp_path / "main" / f"{seq.name}.npy", arr[_make_inputs().strict_keep(arr)])
        np.save(tmp_path / "loose" / f"{seq.name}.npy", arr)
        opts["loose_det_dir"] = str(tmp_path / "loose")
    else:
        np.save(tmp_path / "main" / f"{seq.name}.npy", arr)
    ours = run_tracker(TRACKERS.create("tracktrack", {"gmc_dir": str(GMC)}), PrecomputedDetector(**opts), seq)
    assert official.shape[0] == rows
    _check_rows(ours, official)
    if not loose:  # appearance changes the outcome on this input
        plain = run_tracker(TRACKERS.create("tracktrack", {"gmc_dir": str(GMC), "appearance": "false"}),
                            PrecomputedDetector(**opts), seq)
        assert plain.shape != ours.shape or not np.array_equal(plain, ours)


def test_runner_feeds_the_looser_set_and_camera_motion(shared_data, tmp_path):
    """mot-bench run with ``--detector-opt loose_det_dir`` and the runner's warps from the GMC file gives the
    official rows of the oracle + looser-set fixture (at the runner's two decimals); the looser file is
    checked before the run starts."""
    from mot_bench.data.motfile import read_mot_file
    from mot_bench.runner import RunOptions, run

    official = np.loadtxt(FIXTURES / "MOT17-09-SDP-halfval-oracle-loose.txt", delimiter=",")
    arr = np.load(ORACLE)["detections"]
    for sub in ("main", "loose"):
        (tmp_path / sub).mkdir()
    np.save(tmp_path / "main" / "MOT17-09-SDP.npy", arr[_make_inputs().strict_keep(arr)])
    np.save(tmp_path / "loose" / "MOT17-09-SDP.npy", arr)
    opts = RunOptions(detector="precomputed", tracker="tracktrack", data=str(shared_data), benchmark="MOT17",
                      split="half-val", seqs=["MOT17-09-SDP"], evaluate=False, progress=False,
                      detector_options={"det_dir": str(tmp_path / "main"), "loose_det_dir": str(tmp_path / "loose")},
                      tracker_options={"gmc_dir": str(GMC)}, out=str(tmp_path / "run"))
    result = run(opts)
    written = read_mot_file(result.folder.result_path("MOT17-09-SDP"), "result")
    np.testing.assert_array_equal(written[:, :2], official[:, :2])
    assert np.abs(written[:, 2:6] - official[:, 2:6]).max() <= 0.055 + 1e-9
    # a broken looser file of the public detector is one line naming it, before any work
    det_dir = shared_data / "detections" / "MOT17" / "YOLOX_X_ablation"
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "MOT17-09-SDP.txt").write_text("264,-1,1,2,3\n")
    bad = RunOptions(detector="public", tracker="tracktrack", data=str(shared_data), benchmark="MOT17",
                     split="half-val", seqs=["MOT17-09-SDP"], evaluate=False, progress=False,
                     detector_options={"det_dir": str(det_dir), "loose_det_dir": str(tmp_path / "bad")},
                     tracker_options={"gmc_dir": str(GMC)}, out=str(tmp_path / "run2"))
    with pytest.raises(ValueError, match=r"bad/MOT17-09-SDP.txt:1"):
        run(bad)
    assert not (tmp_path / "run2" / "results").exists()


def test_deterministic_and_ids_restart_per_sequence(shared_data):
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT17" / "YOLOX_X_ablation"))
    trk = TRACKERS.create("tracktrack", {"gmc_dir": str(GMC)})
    a = run_tracker(trk, det, seq)
    b = run_tracker(trk, det, seq)
    np.testing.assert_array_equal(a, b)
    assert a[:, 1].min() == 1


def test_zero_size_velocity_freezes_w_and_h_of_lost_and_new_tracks():
    """The DanceTrack rule (preset dancetrack): before predicting, a lost or new track's w, h velocities are
    zeroed; a tracked one keeps them."""
    growing = [_dets([(100, 100, 140 + 4 * k, 200 + 10 * k)], [0.9]) for k in range(4)]
    far = _dets([_box(1500, 800)], [0.9])
    widths = {}
    for zero in (False, True):
        trk = _tracker(zero_size_velocity=zero)
        _feed(trk, growing + [far, far])
        (track,) = [t for t in trk.tracks if t.box[0] < 1000]
        assert track.state == LOST
        widths[zero] = track.mean[2]
    assert widths[True] < widths[False]


def test_public_detector_hands_over_the_looser_set(tmp_path):
    """``loose_det_dir``: each frame's Detections.loose from <SEQ>.txt there, ``min_score`` applied to both sets,
    an empty looser set on a frame without rows; declared as an input file; float32 and read-only copies carry
    it."""
    from mot_bench.runner import _read_only

    seq = SeqInfo("S", tmp_path, 3, 640, 480, 30.0)
    (tmp_path / "main").mkdir()
    (tmp_path / "loose").mkdir()
    (tmp_path / "main" / "S.txt").write_text("1,-1,10,10,20,40,0.9,-1,-1,-1\n2,-1,10,10,20,40,0.9,-1,-1,-1\n")
    (tmp_path / "loose" / "S.txt").write_text("1,-1,10,10,20,40,0.9,-1,-1,-1\n1,-1,15,10,20,40,0.7,-1,-1,-1\n"
                                              "1,-1,50,10,20,40,0.2,-1,-1,-1\n")
    det = PublicDetector(det_dir=str(tmp_path / "main"), loose_det_dir=str(tmp_path / "loose"), min_score=0.5)
    assert det.input_files(seq) == {"det": tmp_path / "main" / "S.txt",
                                    "looser-NMS det": tmp_path / "loose" / "S.txt"}
    det.reset(seq)
    one, two = det(Frame(seq, 1)), det(Frame(seq, 2))
    assert len(one) == 1 and one.loose.scores.tolist() == [0.9, 0.7]
    assert len(two) == 1 and len(two.loose) == 0
    assert PublicDetector(det_dir=str(tmp_path / "main"))(Frame(seq, 1)).loose is None
    f32 = one.as_float32()
    assert f32.loose.tlbr.dtype == np.float32 and f32.loose.tlbr[1, 0] == 15
    shared = _read_only(one)
    with pytest.raises(ValueError):
        shared.loose.tlbr[0, 0] = 0
    with pytest.raises(ValueError, match="cannot carry"):
        Detections(one.tlbr, one.scores, loose=one)


def test_reid_stage_refuses_a_base_with_a_looser_set(tmp_path):
    """The reid stage embeds one set: a base detector with loose_det_dir is refused up front rather than
    handing TrackTrack a looser set without embeddings (or silently none)."""
    from mot_bench.detectors.reid.detector import ReIDDetector

    base = PublicDetector(det_dir=str(tmp_path), loose_det_dir=str(tmp_path))
    with pytest.raises(ValueError, match="loose_det_dir"):
        ReIDDetector.wrap(base, allow_random=True)


def test_reid_cache_key_ignores_the_unset_looser_set(tmp_path):
    """A reid cache made before loose_det_dir existed keeps its key (the option is always unset for its base)."""
    from mot_bench.detectors.reid.detector import ReIDDetector

    det = ReIDDetector.wrap(PublicDetector(det_dir=str(tmp_path)), allow_random=True)
    cfg = {"name": "public", "det_dir": str(tmp_path), "min_score": None}
    import hashlib
    import json

    assert det.base_config_hash() == hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]
