"""BoT-SORT: the camera warp of mean and covariance on hand-built tracks, the official output of
unconfirmed tracks, the float32 thresholds, determinism, and row-for-row equality with the official
tracker on MOT17-09 half-val (tests/fixtures/botsort, see its PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_sort import run_tracker

from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.public import PublicDetector
from mot_bench.options import search_space
from mot_bench.registry import TRACKERS
from mot_bench.trackers.botsort import BoTSORT, BoTSTrack
from mot_bench.trackers.common.jde import TrackState
from mot_bench.trackers.common.kalman import KalmanFilterXYAH, KalmanFilterXYWH
from mot_bench.types import Detections, Frame, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "botsort"


def _seq() -> SeqInfo:
    return SeqInfo("synthetic", ".", 100, 1920, 1080, 25.0)


def _dets(*boxes_scores) -> Detections:
    if not boxes_scores:
        return Detections.empty()
    return Detections([b for b, _ in boxes_scores], [s for _, s in boxes_scores])


def _box(x: float, y: float = 100.0) -> tuple[float, float, float, float]:
    return (x, y, x + 40.0, y + 100.0)


def _frame(seq: SeqInfo, k: int, warp: np.ndarray | None = None) -> Frame:
    return Frame(seq, k, camera_motion=warp)


def _shift(dx: float, dy: float = 0.0) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])


def _tracker(**kw) -> BoTSORT:
    trk = BoTSORT(cmc_method="none", **kw)
    trk.reset(_seq())
    return trk


# -- the camera warp ---------------------------------------------------------------------------
def test_warp_rotates_each_pair_of_mean_and_covariance_blocks():
    rng = np.random.default_rng(0)
    track = BoTSTrack(np.array([100.0, 200.0, 40.0, 90.0]), 0.9)
    track.mean = rng.normal(size=8) * 10
    a = rng.normal(size=(8, 8))
    track.covariance = a @ a.T
    mean0, cov0 = track.mean.copy(), track.covariance.copy()
    angle, scale = 0.1, 1.05
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    warp = np.hstack([rot, [[7.5], [-3.25]]])
    BoTSTrack.multi_gmc([track], warp)
    for i in range(4):  # (x, y), (w, h), (vx, vy), (vw, vh)
        expect = rot @ mean0[2 * i : 2 * i + 2] + (warp[:, 2] if i == 0 else 0)
        np.testing.assert_allclose(track.mean[2 * i : 2 * i + 2], expect, rtol=1e-12, atol=1e-12)
        for j in range(4):
            block = cov0[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            np.testing.assert_allclose(
                track.covariance[2 * i : 2 * i + 2, 2 * j : 2 * j + 2], rot @ block @ rot.T, rtol=1e-12, atol=1e-9
            )
    # The identity changes nothing, bit for bit.
    before = track.mean.copy(), track.covariance.copy()
    BoTSTrack.multi_gmc([track], np.eye(2, 3))
    assert np.array_equal(track.mean, before[0]) and np.array_equal(track.covariance, before[1])


def test_camera_pan_keeps_the_id_only_with_the_warp():
    """The camera pans 60 px per frame (boxes 40 px wide): without the warp the predicted box never
    overlaps the detection and a new id appears; with it the id is kept."""
    for use_warp in (True, False):
        trk = _tracker()
        seq = _seq()
        ids = set()
        for k in range(1, 6):
            warp = _shift(60.0) if (use_warp and k > 1) else None
            out = trk.update(_dets((_box(100 + 60 * k), 0.9)), _frame(seq, k, warp))
            ids |= set(out.ids.tolist())
        if use_warp:
            assert ids == {1}
        else:
            assert len(ids) == 5  # a new id in every frame


def test_warp_applies_to_lost_and_unconfirmed_tracks():
    trk = _tracker()
    seq = _seq()
    trk.update(_dets((_box(100), 0.9)), _frame(seq, 1))  # id 1, confirmed in frame 1
    trk.update(_dets((_box(100), 0.9), (_box(600), 0.9)), _frame(seq, 2))  # id 2 born, unconfirmed
    unconfirmed = [t for t in trk.tracked_stracks if not t.is_activated]
    assert [t.track_id for t in unconfirmed] == [2]
    mean_before = unconfirmed[0].mean.copy()
    # Frame 3: camera moves 300 px; id 1 is missed (becomes lost), id 2 is seen where the warp puts it.
    out = trk.update(_dets((_box(900), 0.9)), _frame(seq, 3, _shift(300.0)))
    assert unconfirmed[0].state == TrackState.TRACKED and unconfirmed[0].is_activated
    assert list(out.ids) == [2]
    assert mean_before[0] + 300 == pytest.approx(trk.tracked_stracks[0].mean[0], abs=1.0)
    lost = trk.lost_stracks
    assert [t.track_id for t in lost] == [1]
    x_lost = lost[0].mean[0]
    # Frame 4: a further pan of 100 px moves the lost track's predicted centre by that much.
    trk.update(_dets((_box(1000), 0.9)), _frame(seq, 4, _shift(100.0)))
    assert lost[0].mean[0] == pytest.approx(x_lost + 100.0, abs=1e-9)


# -- official output and thresholds -------------------------------------------------------------
def test_unconfirmed_tracks_are_reported_as_the_official_code():
    trk = _tracker()
    out = trk.update(_dets((_box(100), 0.9)))
    assert list(out.ids) == [1]
    out = trk.update(_dets((_box(100), 0.9), (_box(700), 0.8)))
    assert sorted(out.ids) == [1, 2]  # born this frame, not yet confirmed, written all the same
    assert not [t for t in trk.tracked_stracks if t.track_id == 2][0].is_activated
    out = trk.update(_dets((_box(100), 0.9)))
    assert list(out.ids) == [1]  # the unconfirmed track missed once is removed
    out = trk.update(_dets((_box(100), 0.9), (_box(700), 0.8)))
    assert sorted(out.ids) == [1, 3]  # its id is not reused


def test_output_filter_area_and_aspect():
    trk = _tracker()
    out = trk.update(_dets(((0, 0, 3, 3), 0.9), ((100, 100, 300, 200), 0.9), ((500, 100, 540, 200), 0.9)))
    assert list(out.ids) == [3]  # 3x3 box: area 9 <= 10; 200x100: w/h 2 > 1.6


@pytest.mark.parametrize(
    "score, alive",
    [(0.6, False), (0.59, True), (0.1, False), (0.11, True), (0.61, True)],
)
def test_scores_exactly_at_the_thresholds_fall_through_both_rounds(score, alive):
    """float32 0.6 is neither > 0.6 nor < 0.6, float32 0.1 is not > 0.1: such a box keeps no track."""
    trk = _tracker()
    for k in range(3):
        trk.update(_dets((_box(100 + k), 0.9)))
    out = trk.update(_dets((_box(103), score)))
    assert (list(out.ids) == [1]) is alive
    track = [t for t in trk.tracked_stracks + trk.lost_stracks if t.track_id == 1][0]
    assert (track.state == TrackState.TRACKED) is alive


@pytest.mark.parametrize("score, starts", [(0.7, False), (0.71, True), (0.65, False)])
def test_new_track_threshold_compares_the_float32_score_in_float64(score, starts):
    """Official code under numpy < 1.24: float32(0.7) = 0.69999999 < 0.7, so it starts no track."""
    trk = _tracker()
    out = trk.update(_dets((_box(100), score)))
    assert (len(out) == 1) is starts


def test_deterministic_and_reset_clears_state(shared_data):
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-02-SDP"])[0]
    seq.last_frame = seq.first_frame + 29
    public = PublicDetector(det_dir=str(shared_data / "detections" / "MOT17" / "YOLOX_X_ablation"))
    public.reset(seq)


    class ParsedOnce:  # the detection file parsed once for the three runs
        def reset(self, seq):
            pass

        def __call__(self, frame):
            return public(frame)

    det = ParsedOnce()
    gmc = str(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation")
    trk = BoTSORT(gmc_dir=gmc)
    a = run_tracker(trk, det, seq)
    b = run_tracker(trk, det, seq)  # the same object, reset
    c = run_tracker(BoTSORT(gmc_dir=gmc), det, seq)
    assert len(a) > 250
    assert np.array_equal(a, b) and np.array_equal(a, c)


# -- construction ------------------------------------------------------------------------------
def test_registry_defaults_and_search_space():
    trk = TRACKERS.create("botsort", {"cmc_method": "none"})
    assert isinstance(trk, BoTSORT) and trk.needs_camera_motion
    cfg = trk.config()
    assert cfg["track_high_thresh"] == 0.6 and cfg["track_low_thresh"] == 0.1 and cfg["new_track_thresh"] == 0.7
    assert cfg["track_buffer"] == 30 and cfg["match_thresh"] == 0.8 and cfg["min_box_area"] == 10
    assert cfg["aspect_ratio_thresh"] == 1.6 and cfg["frame_rate"] == 30.0 and BoTSORT().cmc_method == "file"
    for name, (low, high) in search_space(BoTSORT).items():
        assert low < high and hasattr(trk, name)
    trk.reset(SeqInfo("s", ".", 100, 640, 480, 7.0))
    assert trk.max_time_lost == 30  # frame rate 30 for every sequence, as tools/track.py


def test_file_method_needs_a_gmc_source():
    trk = BoTSORT()
    trk.reset(_seq())
    with pytest.raises(RuntimeError, match="gmc_dir"):
        trk.update(_dets((_box(100), 0.9)))
    # A warp handed in with the frame is enough.
    out = trk.update(_dets((_box(100), 0.9)), _frame(_seq(), 1, np.eye(2, 3)))
    assert len(out) == 1
    with pytest.raises(ValueError, match="cmc_method='optical': expected one of orb, sift, ecc, sparseOptFlow"):
        BoTSORT(cmc_method="optical")


def test_kalman_xywh_noise_scales_with_width_and_height():
    kf = KalmanFilterXYWH()
    mean, cov = kf.initiate(np.array([10.0, 20.0, 40.0, 100.0]))
    std = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(std, [4, 10, 4, 10, 2.5, 6.25, 2.5, 6.25])
    m1, c1 = kf.predict(mean, cov)
    m2, c2 = kf.multi_predict(mean[None], cov[None])
    np.testing.assert_allclose(m1, m2[0], rtol=1e-15)
    np.testing.assert_allclose(c1, c2[0], rtol=1e-15)
    _, pc = kf.project(mean, cov)
    np.testing.assert_allclose(np.diag(pc) - np.diag(cov)[:4], np.square([2, 5, 2, 5]))
    # Its update calls LAPACK directly: bit for bit the scipy cho_factor/cho_solve path.
    rng = np.random.default_rng(3)
    for _ in range(50):
        m, c = kf.predict(*kf.initiate(rng.uniform(10, 500, 4)))
        z = m[:4] + rng.normal(size=4) * 5
        ours, ref = kf.update(m, c, z), KalmanFilterXYAH.update(kf, m, c, z)
        assert np.array_equal(ours[0], ref[0]) and np.array_equal(ours[1], ref[1])


# -- the official output -----------------------------------------------------------------------
def _official_text(rows: np.ndarray, seq) -> str:
    """Our rows in tools/track.py's writer format: frames counted from 1 at the split's first frame,
    ``frame,id,x,y,w,h,score,-1,-1,-1`` with two decimals."""
    offset = seq.first_frame - 1
    return "".join(f"{int(r[0]) - offset},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.2f},"
                   "-1,-1,-1\n" for r in rows)


def _assert_same_text(ours: str, official_file: Path) -> None:
    official = official_file.read_text()
    assert ours.splitlines() == official.splitlines()  # (on failure pytest names the first differing row)
    assert ours == official


def test_matches_official_botsort_on_mot17_09_half_val(shared_data):
    """The official tracker's output file (tests/fixtures/botsort/PROVENANCE.md), byte for byte: the same
    rows in the same order, the same ids, boxes and scores as its writer prints them."""
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT17" / "YOLOX_X_ablation"))
    trk = TRACKERS.create("botsort", {"gmc_dir": str(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation")})
    ours = run_tracker(trk, det, seq)
    assert ours.shape[0] == 2429
    _assert_same_text(_official_text(ours, seq), FIXTURES / "MOT17-09-SDP.txt")


def test_image_method_computes_the_warp_from_the_frames():
    """``cmc_method='sparseOptFlow'`` with decoded frames: the tracker estimates the 30 px pan itself."""
    from test_cmc import _pair

    prev, curr = _pair(30, 0)
    seq = SeqInfo("synthetic", ".", 2, 640, 480, 30.0)
    ids = []
    for cmc_method in ("sparseOptFlow", "none"):
        trk = BoTSORT(cmc_method=cmc_method)
        trk.reset(seq)
        trk.update(_dets(((300, 200, 320, 260), 0.9)), Frame(seq, 1, image=prev))
        out = trk.update(_dets(((330, 200, 350, 260), 0.9)), Frame(seq, 2, image=curr))
        ids.append(list(out.ids))
    assert ids == [[1], [2]]


# -- re-ID (with_reid) ---------------------------------------------------------------------------
def _reid_dets(boxes, scores, dirs, dim: int = 4) -> Detections:
    return Detections(np.array(boxes, np.float64).reshape(-1, 4), np.array(scores, np.float64),
                      np.eye(dim)[list(dirs)])


def _track_with(feat: np.ndarray, tlwh=(100.0, 100.0, 40.0, 100.0)) -> BoTSTrack:
    t = BoTSTrack(np.array(tlwh), 0.9, feat)
    t.activate(KalmanFilterXYWH(), 1, 1)
    return t


def test_reid_cost_masks_halving_and_min_with_the_fused_iou_cost():
    """Appearance counts as cosine distance / 2, only where that is <= appearance_thresh (0.25) and the
    IoU distance before score fusion is <= proximity_thresh (0.5); the cost is its min with the fused
    IoU cost."""
    trk = BoTSORT(cmc_method="none", with_reid=True)
    e = np.eye(4)
    track = _track_with(e[0])
    near_same = BoTSTrack(np.array([104.0, 100.0, 40.0, 100.0]), np.float32(0.9), e[0])  # IoU dist 0.18
    near_45deg = BoTSTrack(np.array([104.0, 100.0, 40.0, 100.0]), np.float32(0.9), e[0] + e[1])  # cos d 0.29
    near_orth = BoTSTrack(np.array([104.0, 100.0, 40.0, 100.0]), np.float32(0.9), e[1])  # cos d 1
    near_30deg = BoTSTrack(np.array([104.0, 100.0, 40.0, 100.0]), np.float32(0.9),
                           np.array([np.cos(0.5), np.sin(0.5), 0, 0]))  # cos d 0.122 -> 0.061 halved
    far_same = BoTSTrack(np.array([128.0, 100.0, 40.0, 100.0]), np.float32(0.9), e[0])  # IoU dist 0.82
    dets = [near_same, near_45deg, near_30deg, far_same, near_orth]
    cost = trk._fused_distance([track], dets)[0]
    # IoU with the +1 pixel convention: 37 * 101 overlap of two 41 * 101 boxes (13 * 101 when 28 px apart)
    iou_d = 1 - np.array([37 / 45, 37 / 45, 37 / 45, 13 / 69, 37 / 45])
    fused = 1 - (1 - iou_d) * np.float32(0.9)
    assert cost[0] == pytest.approx(0.0, abs=1e-12)  # same direction: 0 < fused
    # 45 degrees: cosine distance 0.29 > 0.25, but halved (0.146) it passes and is below the fused cost
    np.testing.assert_allclose(cost[1], (1 - np.cos(np.pi / 4)) / 2, rtol=1e-9)
    assert cost[1] < fused[1]
    np.testing.assert_allclose(cost[2], (1 - np.cos(0.5)) / 2, rtol=1e-9)
    assert cost[3] == pytest.approx(fused[3])  # same appearance but too far: the proximity mask
    assert cost[4] == pytest.approx(fused[4])  # orthogonal: halved 0.5 > 0.25, the appearance mask
    trk_no = BoTSORT(cmc_method="none")
    np.testing.assert_allclose(trk_no._fused_distance([track], dets)[0], fused, rtol=1e-6)


def test_reid_halved_distance_is_compared_with_the_appearance_threshold():
    trk = BoTSORT(cmc_method="none", with_reid=True, appearance_thresh=0.15)
    e = np.eye(4)
    track = _track_with(e[0])
    det = BoTSTrack(np.array([104.0, 100.0, 40.0, 100.0]), np.float32(0.9), e[0] + e[1])
    half = (1 - np.cos(np.pi / 4)) / 2  # 0.146: kept under 0.15 only because it is halved
    assert trk._fused_distance([track], [det])[0, 0] == pytest.approx(half)
    trk.appearance_thresh = 0.14
    assert trk._fused_distance([track], [det])[0, 0] > 0.2  # masked: the fused IoU cost remains


def test_reid_keeps_identities_where_iou_alone_swaps_them():
    def run(**opts):
        trk = _tracker(**opts)
        for _ in range(3):
            trk.update(_reid_dets([_box(100), _box(110)], [0.9, 0.9], [0, 1]))
        out = trk.update(_reid_dets([_box(104), _box(106)], [0.9, 0.9], [1, 0]))
        first = next(t for t in trk.tracked_stracks if t.track_id == 1)
        return first, dict(zip(out.ids.tolist(), out.tlbr[:, 0].tolist(), strict=True))
    # track 1 (appearance 0, at x=100) takes the detection carrying appearance 0 (x=106) only with re-ID
    first, xs = run()
    assert xs[1] < xs[2] and first.curr_feat is None  # IoU: the nearer detection (x=104)
    first_reid, xs_reid = run(with_reid=True)
    assert np.array_equal(first_reid.curr_feat, np.eye(4)[0])  # appearance: the x=106 one
    assert xs_reid[1] > xs[1] and xs_reid[2] < xs[2]


def test_reid_feature_smoothing_and_low_score_matches_do_not_update_features():
    trk = _tracker(with_reid=True)
    feat0 = np.array([3.0, 4.0, 0.0, 0.0])
    d = Detections(np.array([_box(100)], np.float64), np.array([0.9]), feat0[None])
    trk.update(d)
    track = trk.tracked_stracks[0]
    assert np.array_equal(d.embeddings[0], feat0)  # the detector's array is not normalised in place
    first = feat0 / np.linalg.norm(feat0)
    first = first / np.linalg.norm(first)  # the first feature is normalised twice, as upstream
    assert np.array_equal(track.smooth_feat, first)
    trk.update(_reid_dets([_box(101)], [0.9], [2]))
    new = np.eye(4)[2]
    expect = 0.9 * first + (1 - 0.9) * new
    expect /= np.linalg.norm(expect)
    np.testing.assert_allclose(track.smooth_feat, expect, rtol=1e-15)
    assert np.linalg.norm(track.smooth_feat) == pytest.approx(1.0)
    assert np.array_equal(track.curr_feat, new)
    before = track.smooth_feat.copy()
    out = trk.update(_reid_dets([_box(102)], [0.3], [3]))  # low score: second association, IoU only
    assert len(out) == 1 and track.frame_id == 3 and track.score == np.float32(0.3)
    assert np.array_equal(track.smooth_feat, before) and np.array_equal(track.curr_feat, new)


def test_reid_needs_embeddings():
    trk = _tracker(with_reid=True)
    assert trk.needs_embeddings and not BoTSORT().needs_embeddings
    with pytest.raises(ValueError, match="embeddings"):
        trk.update(_dets((_box(100), 0.9)))


def test_reid_matches_official_botsort_on_mot17_09_half_val_oracle(shared_data, tmp_path):
    """Official BoT-SORT with re-ID (tests/fixtures/botsort/PROVENANCE.md) on the oracle detections and
    embeddings of tests/fixtures/deepsort, GMC file on: its output file byte for byte, ids included."""
    from mot_bench.detectors.precomputed import PrecomputedDetector

    arr = np.load(Path(__file__).parent / "fixtures" / "deepsort" / "MOT17-09-SDP-halfval-oracle.npz")["detections"]
    np.save(tmp_path / "MOT17-09-SDP.npy", arr)
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    det = PrecomputedDetector(det_dir=str(tmp_path))
    trk = TRACKERS.create("botsort", {"with_reid": "true",
                                      "gmc_dir": str(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation")})
    ours = run_tracker(trk, det, seq)
    assert ours.shape[0] == 2158
    _assert_same_text(_official_text(ours, seq), FIXTURES / "MOT17-09-SDP-halfval-oracle-reid.txt")
    # and re-ID changes the outcome on this input
    plain = run_tracker(TRACKERS.create("botsort", {"gmc_dir": str(shared_data / "gmc" / "BoT-SORT" /
                                                                   "MOT17_ablation")}), det, seq)
    assert plain.shape != ours.shape or not np.array_equal(plain, ours)
