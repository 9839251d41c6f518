"""StrongSORT: each switch on hand-built frames, the pinned Munkres solver, and equality with the official code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mot_bench.types import Detections, Frame, SeqInfo
from trackers.common.kalman import KalmanFilterXYAH
from trackers.common.munkres import munkres
from trackers.strongsort import StrongSortTracker

FIXTURES = Path(__file__).parent / "fixtures" / "deepsort"
OFF = {"bot": False, "ema": False, "nsa": False, "mc": False, "woc": False}


def _dets(boxes, feats, scores=None) -> Detections:
    tlbr = np.array([(x, y, x + w, y + h) for x, y, w, h in boxes], np.float64).reshape(-1, 4)
    return Detections(tlbr, np.array(scores or [0.9] * len(boxes), np.float64), np.array(feats, np.float64))


def _seq() -> SeqInfo:
    return SeqInfo("syn", ".", 100, 1920, 1080, 30.0)


def test_munkres_breaks_ties_like_scikit_learn_019_not_scipy() -> None:
    """Clipped costs tie; the pinned solver pairs row 0 with column 1 where scipy takes the diagonal."""
    c = np.array([[0.0, 0.40001, 0.40001], [0.0, 0.40001, 0.40001], [0.40001, 0.40001, 0.40001]])
    assert munkres(c).tolist() == [[0, 1], [1, 0], [2, 2]]
    assert np.stack(linear_sum_assignment(c), 1).tolist() == [[0, 0], [1, 1], [2, 2]]
    rng = np.random.default_rng(0)
    for _ in range(200):  # optimal like scipy, on rectangular matrices both ways round
        m = rng.random(tuple(rng.integers(1, 7, 2)))
        r, col = linear_sum_assignment(m)
        got = munkres(m)
        assert m[got[:, 0], got[:, 1]].sum() == pytest.approx(m[r, col].sum())
    assert munkres(np.zeros((0, 3))).shape == (0, 2)


def test_defaults_follow_opts_py() -> None:
    trk = StrongSortTracker()
    assert (trk.min_confidence, trk.max_cosine_distance, trk.nn_budget) == (0.6, pytest.approx(0.45), 1)
    base = StrongSortTracker(**OFF)
    assert (base.max_cosine_distance, base.nn_budget, base.switches.cascade) == (0.3, 100, True)
    assert StrongSortTracker(bot=True, mc=False).max_cosine_distance == 0.4


def test_ema_keeps_one_smoothed_normalised_feature() -> None:
    trk = StrongSortTracker(min_confidence=0.0)
    trk.reset(_seq())
    e0, e1 = np.eye(4)[0], np.eye(4)[1]
    trk.update(_dets([(100, 100, 40, 100)], [2 * e0]))
    trk.update(_dets([(100, 100, 40, 100)], [0.5 * e0 + 0.5 * e1]))
    (track,) = trk.tracks
    new = (0.5 * e0 + 0.5 * e1) / np.linalg.norm(0.5 * e0 + 0.5 * e1)
    expected = 0.9 * e0 + 0.1 * new
    assert len(track.features) == 1
    np.testing.assert_allclose(track.features[0], expected / np.linalg.norm(expected))


def test_nsa_scales_the_update_noise_by_confidence() -> None:
    kf = KalmanFilterXYAH()
    mean, cov = kf.initiate(np.array([100.0, 100.0, 0.4, 100.0]))
    meas = np.array([110.0, 100.0, 0.4, 100.0])
    plain, _ = kf.update(mean, cov, meas)
    sure, _ = kf.update(mean, cov, meas, confidence=0.9)
    assert abs(sure[0] - 110) < abs(plain[0] - 110)  # a confident detection pulls the state closer
    assert kf.update(mean, cov, meas, confidence=0.0)[0].tolist() == plain.tolist()
    on = StrongSortTracker(**{**OFF, "nsa": True}, min_confidence=0.0, n_init=1)
    off = StrongSortTracker(**OFF, min_confidence=0.0, n_init=1)
    for trk in (on, off):
        trk.reset(_seq())
        trk.update(_dets([(100, 100, 40, 100)], [np.eye(4)[0]], [0.95]))
        trk.update(_dets([(110, 100, 40, 100)], [np.eye(4)[0]], [0.95]))
    assert on.tracks[0].mean[0] != off.tracks[0].mean[0]


def test_mc_blends_motion_after_gating() -> None:
    trk = StrongSortTracker(**{**OFF, "mc": True}, min_confidence=0.0, n_init=1)
    trk.reset(_seq())
    for x in (100, 102):
        trk.update(_dets([(x, 100, 40, 100)], [np.eye(4)[0]]))
    t = trk.tracks[0]
    t.mean, t.covariance = trk.kf.predict(t.mean, t.covariance)
    meas = np.array([[124.0, 150.0, 0.4, 100.0], [2000.0, 150.0, 0.4, 100.0]])
    cost = trk._appearance_cost([0], [0, 1], meas, np.array([np.eye(4)[0], np.eye(4)[0]]))
    gd = trk.kf.gating_distance(t.mean, t.covariance, meas)
    assert cost[0, 0] == pytest.approx(0.02 * gd[0])  # appearance 0, plus 2 % of the Mahalanobis distance
    assert cost[0, 1] == pytest.approx(0.98 * 1e5 + 0.02 * gd[1])  # gated first, blended after


def test_woc_matches_every_confirmed_track_at_once() -> None:
    """Without the cascade, an equally similar older track can win the detection (row order decides)."""
    results = {}
    for woc in (False, True):
        trk = StrongSortTracker(**{**OFF, "woc": woc}, min_confidence=0.0, max_cosine_distance=0.5)
        trk.reset(_seq())
        e1, e2 = np.eye(4)[1], np.eye(4)[2]
        for _ in range(3):
            trk.update(_dets([(100, 100, 40, 100), (104, 100, 40, 100)], [e1, e2], [0.9, 0.8]))
        trk.update(_dets([(104, 100, 40, 100)], [e2]))
        trk.update(_dets([(102, 100, 40, 100)], [(e1 + e2) / np.sqrt(2)]))
        results[woc] = [(t.track_id, t.time_since_update) for t in trk.tracks]
    assert results[False] == [(1, 2), (2, 0)]  # cascade: the track seen last frame first
    assert results[True] == [(1, 0), (2, 1)]  # one Munkres over both: the tie goes to row 0


def test_ecc_moves_tracks_by_the_camera_warp_only_when_on() -> None:
    shift = np.array([[1.0, 0, 30.0], [0, 1.0, 0]])
    for ecc, expected in ((True, 130.0), (False, 100.0)):
        trk = StrongSortTracker(ecc=ecc, min_confidence=0.0)
        trk.reset(_seq())
        trk.update(_dets([(100, 100, 40, 100)], [np.eye(4)[0]]))
        frame = Frame(_seq(), 2, None)
        frame.camera_motion = shift
        trk.before_predict(frame)
        assert trk.tracks[0].tlwh()[0] == pytest.approx(expected)


@pytest.mark.parametrize(("name", "options"), [("strongsort", {}), ("strongsort-baseline", OFF)])
def test_rows_equal_the_official_code_on_mot17_09_half_val(shared_data, tmp_path, name, options) -> None:
    from mot_bench.runner import RunOptions, run

    arr = np.load(FIXTURES / "MOT17-09-SDP-halfval-oracle.npz")["detections"]
    np.save(tmp_path / "MOT17-09-SDP.npy", arr)
    run(RunOptions(detector="precomputed", detector_options={"det_dir": str(tmp_path)}, tracker="strongsort",
                   tracker_options=dict(options), data=str(shared_data), benchmark="MOT17", split="half-val",
                   seqs=["MOT17-09-SDP"], out=str(tmp_path / "run"), progress=False, evaluate=False))
    ours = (tmp_path / "run" / "results" / "MOT17-09-SDP.txt").read_text().splitlines()
    official = (FIXTURES / f"MOT17-09-SDP-halfval.{name}.txt").read_text().splitlines()
    assert len(ours) == len(official)
    a = np.array([[float(v) for v in line.split(",")[:6]] for line in ours])
    b = np.array([[float(v) for v in line.split(",")[:6]] for line in official])
    assert (a[:, :2] == b[:, :2]).all()
    assert np.abs(a[:, 2:] - b[:, 2:]).max() <= 0.01 + 1e-9
    assert (np.abs(a[:, 2:] - b[:, 2:]) > 1e-9).sum() <= len(a) // 100
