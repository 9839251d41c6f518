"""Deep OC-SORT: its rules on hand-built frames (adaptive weights, confidence-weighted embedding EMA, the
w/h-scaled Kalman noise, camera motion) and the official tracker's own output on MOT17-09 half-val with
oracle embeddings reproduced row for row (tests/fixtures/deepocsort, see its PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.precomputed import load_npy
from mot_bench.options import search_space
from mot_bench.registry import TRACKERS
from mot_bench.trackers.common import cmc
from mot_bench.trackers.deepocsort import DeepOCSortTracker, adaptive_weights, measurement_noise, process_noise
from mot_bench.types import Detections, Frame, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "deepocsort"
ORACLE = Path(__file__).parent / "fixtures" / "deepsort" / "MOT17-09-SDP-halfval-oracle.npz"


def _seq() -> SeqInfo:
    return SeqInfo("synthetic", ".", 100, 1920, 1080, 30.0)


def _emb(*dirs: int, dim: int = 4) -> np.ndarray:
    return np.eye(dim)[list(dirs)]


def _dets(boxes, scores, embs) -> Detections:
    return Detections(np.array(boxes, np.float64).reshape(-1, 4), np.array(scores, np.float64),
                      np.array(embs, np.float64).reshape(len(scores), -1))


def _box(x: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def _tracker(**opts) -> DeepOCSortTracker:
    trk = DeepOCSortTracker(**opts)
    trk.reset(_seq())
    return trk


def test_defaults_are_the_mot17_evaluation_settings():
    cfg = DeepOCSortTracker().config()
    assert cfg == {
        "name": "deepocsort", "det_thresh": 0.6, "iou_threshold": 0.3, "asso_func": "iou", "delta_t": 3,
        "inertia": 0.2, "w_assoc_emb": 0.75, "alpha_fixed_emb": 0.95, "aw_param": 0.5, "embedding": True,
        "adaptive_weight": True, "cmc": True, "new_kf": True, "gmc_dir": None, "max_age": 30, "min_hits": 3,
        "min_box_area": 10.0, "aspect_ratio_thresh": 1.6, "skip_empty_frames": True,
    }
    assert set(search_space(DeepOCSortTracker)) <= set(cfg)
    trk = TRACKERS.create("deepocsort", {"new_kf": "false", "cmc": "off", "aw_param": "1"})
    assert trk.config()["new_kf"] is False and trk.config()["cmc"] is False and trk.config()["aw_param"] == 1.0
    assert DeepOCSortTracker.needs_embeddings and not DeepOCSortTracker.needs_camera_motion
    assert not DeepOCSortTracker(embedding=False).needs_embeddings


def test_adaptive_weights_add_half_the_clamped_top_two_gap_of_row_and_column():
    cost = np.array([[0.9, 0.2, 0.1], [0.5, 0.45, 0.0]], np.float32)
    w = adaptive_weights(cost.copy(), 0.75, 0.5)
    assert w.dtype == np.float32
    rows = np.minimum([0.9 - 0.2, 0.5 - 0.45], 0.5) / 2  # row 0's gap 0.7 is capped at 0.5
    cols = np.minimum([0.9 - 0.5, 0.45 - 0.2, 0.1 - 0.0], 0.5) / 2
    np.testing.assert_allclose(w, 0.75 + rows[:, None] + cols[None, :], rtol=1e-6)
    # one column: no row term (there is no second best); one row: no column term
    np.testing.assert_allclose(adaptive_weights(cost[:, :1].copy(), 0.75, 0.5), 0.75 + (0.9 - 0.5) / 2, rtol=1e-6)
    np.testing.assert_allclose(adaptive_weights(cost[:1].copy(), 0.75, 0.5), 0.75 + 0.5 / 2, rtol=1e-6)
    # the loop upstream writes, bit for bit
    rng = np.random.default_rng(0)
    c = rng.random((5, 7)).astype(np.float32)
    ref = np.zeros_like(c)
    for i in range(5):
        s = np.sort(c[i])[::-1]
        ref[i] += min(s[0] - s[1], 0.3) / 2
    for j in range(7):
        s = np.sort(c[:, j])[::-1]
        ref[:, j] += min(s[0] - s[1], 0.3) / 2
    assert np.array_equal(adaptive_weights(c, 0.75, 0.3), np.full_like(c, 0.75) + ref)


def test_appearance_decides_between_two_overlapping_candidates():
    """Two tracks side by side, then both detections land between them: IoU alone would swap them, the
    embedding keeps each identity (and with embedding off the IoU order wins)."""
    def run(**opts):
        trk = _tracker(min_hits=1, **opts)
        for _ in range(3):
            trk.update(_dets([_box(100), _box(130)], [0.95, 0.95], _emb(0, 1)))
        out = trk.update(_dets([_box(112), _box(121)], [0.95, 0.95], _emb(1, 0)))
        return {round(float(b[0])): int(i) for b, i in zip(out.tlbr, out.ids, strict=True)}
    assert run() == {121: 1, 112: 2}
    assert run(embedding=False) == {112: 1, 121: 2}


@pytest.mark.parametrize("score", [0.61, 0.8, 1.0])
def test_embedding_ema_weight_follows_the_detection_confidence(score):
    trk = _tracker()
    trk.update(_dets([_box(100)], [0.9], _emb(0)))
    e0 = trk.tracks[0].emb.copy()
    trk.update(_dets([_box(102)], [score], _emb(1)))
    s = np.float32(score)
    trust = (s - 0.6) / (1 - 0.6)
    a = 0.95 + (1 - 0.95) * (1 - trust)  # float32: 0.95 at score 1, -> 1 as the score falls to det_thresh
    expect = a * e0 + (1 - a) * np.eye(4, dtype=np.float32)[1]
    expect /= np.linalg.norm(expect)
    got = trk.tracks[0].emb
    assert got.dtype == np.float32 and np.array_equal(got, expect)
    assert got[1] == pytest.approx((1 - a) / np.hypot(a, 1 - a), rel=1e-6)
    assert np.linalg.norm(got) == pytest.approx(1.0, abs=1e-6)


def test_new_kalman_filter_noise_scales_with_width_and_height():
    """P0 from the float32 box ((w/20)^2 x4 on positions, (w/160)^2 x100 on velocities); the prediction
    adds Q of the state's w, h; a track missed in the previous frame predicts with vw = vh = 0."""
    trk = _tracker()
    trk.update(_dets([_box(100, w=40, h=100), _box(600, w=80, h=200)], [0.9, 0.9], _emb(0, 1)))
    for t, (w, h) in zip(trk.tracks, [(40, 100), (80, 200)], strict=True):
        w32, h32 = np.float32(w), np.float32(h)
        p0 = np.diag([(w32 / 20) ** 2 * 4, (h32 / 20) ** 2 * 4] * 2 + [(w32 / 160) ** 2 * 100,
                                                                        (h32 / 160) ** 2 * 100] * 2)
        np.testing.assert_allclose(t.kf.P, p0, rtol=1e-6)
        assert t.kf.P.dtype == np.float64
    small, big = trk.tracks
    assert np.allclose(big.kf.P, 4 * small.kf.P)  # twice the size, four times the variance
    np.testing.assert_allclose(process_noise(40.0, 100.0).diagonal(),
                               [4, 25, 4, 25, 1 / 16, 25 / 64, 1 / 16, 25 / 64])
    np.testing.assert_allclose(measurement_noise(40.0, 100.0).diagonal(), [4, 25, 4, 25])
    P_before = small.kf.P.copy()
    trk.update(_dets([_box(104, w=42, h=104), _box(600, w=80, h=200)], [0.9, 0.9], _emb(0, 1)))
    # predicted covariance = F P F' + Q(40, 100); the update then shrinks it
    F = np.eye(8)
    F[:4, 4:] = np.eye(4)
    prior = F @ P_before @ F.T + process_noise(40.0, 100.0)
    assert small.kf.P[0, 0] < prior[0, 0]
    # velocity from the update, then a miss: the next prediction keeps w, h
    assert small.kf.x[6, 0] != 0 and small.kf.x[7, 0] != 0
    trk.update(_dets([_box(600, w=80, h=200)], [0.9], _emb(1)))
    w, h = small.kf.x[2, 0], small.kf.x[3, 0]
    trk.update(_dets([_box(600, w=80, h=200)], [0.9], _emb(1)))
    assert small.kf.x[2, 0] == w and small.kf.x[3, 0] == h


def test_old_filter_when_new_kf_is_off():
    trk = _tracker(new_kf=False)
    trk.update(_dets([_box(100)], [0.9], _emb(0)))
    assert trk.tracks[0].kf.x.shape == (7, 1)
    assert trk.tracks[0].kf.x[2, 0] == pytest.approx(4000.0)


def test_camera_motion_moves_states_and_observations():
    """A warp moves the Kalman mean (centre by the translation), and the observation boxes the direction
    and recovery terms read; the last observation is moved twice when recent, as upstream."""
    seq = _seq()
    trk = _tracker()
    trk.update(_dets([_box(100)], [0.9], _emb(0)), Frame(seq, 1))
    trk.update(_dets([_box(100)], [0.9], _emb(0)), Frame(seq, 2))
    t = trk.tracks[0]
    x0, last0 = t.kf.x.copy(), t.last_obs.copy()
    shift = np.array([[1.0, 0.0, 10.0], [0.0, 1.0, 0.0]])
    trk.update(Detections.empty(4), Frame(seq, 3, camera_motion=shift))  # skipped: no detections
    assert np.array_equal(t.kf.x, x0)
    trk.update(_dets([_box(900)], [0.9], _emb(1)), Frame(seq, 3, camera_motion=shift))
    assert t.last_obs[0] == last0[0] + 20  # moved as the last observation and as the age-1 observation
    assert t.kf.x[0, 0] == pytest.approx(x0[0, 0] + 10 + x0[4, 0])


def test_identity_warp_equals_no_compensation(shared_data):
    """Without camera motion the identity is used, which changes no bit: same rows as cmc off."""
    ref = _run_halfval(shared_data, cmc=False, det_thresh=0.3)
    assert _run_halfval(shared_data, det_thresh=0.3) == ref  # no gmc_dir, no frame.camera_motion
    assert _run_halfval(shared_data, det_thresh=0.3, warp=np.eye(2, 3)) == ref


def test_deterministic_and_ids_restart_per_sequence(shared_data):
    trk = DeepOCSortTracker(gmc_dir=str(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation"))
    a = _run_halfval(shared_data, tracker=trk)
    assert a == _run_halfval(shared_data, tracker=trk)  # reset(seq) clears every track and the id counter
    assert min(float(r.split(",")[1]) for r in a) == 1.0


def test_camera_motion_from_the_runner_equals_the_gmc_file(shared_data):
    """The warps handed over as frame.camera_motion give the official rows, as gmc_dir does."""
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    warps = cmc.file_warps(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation", seq)
    ours = _run_halfval(shared_data, warp=warps, det_thresh=0.3)
    _assert_same_rows(ours, FIXTURES / "MOT17-09-SDP-halfval.thresh03.txt")


def _run_halfval(shared_data, gmc: bool = False, warp: np.ndarray | dict | None = None,
                 tracker: DeepOCSortTracker | None = None, **opts) -> list[str]:
    """Our rows on MOT17-09 half-val, in the official writer's format (frames from 1 within half-val)."""
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    per_frame = _oracle()
    if gmc:
        opts["gmc_dir"] = str(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation")
    trk = tracker or DeepOCSortTracker(**opts)
    trk.reset(seq)
    rows = []
    for k, f in enumerate(seq.frame_ids, start=1):
        motion = warp.get(f) if isinstance(warp, dict) else warp
        out = trk.update(per_frame.get(f, Detections.empty(32)), Frame(seq, f, camera_motion=motion))
        for box, tid in zip(out.tlbr, out.ids, strict=True):
            t = [float(v) for v in box]
            rows.append(f"{k},{float(tid)},{round(t[0], 1)},{round(t[1], 1)},{round(t[2] - t[0], 1)},"
                        f"{round(t[3] - t[1], 1)},-1,-1,-1,-1")
    return rows


_CACHE: dict[str, dict[int, Detections]] = {}


def _oracle() -> dict[int, Detections]:
    if "oracle" not in _CACHE:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "MOT17-09-SDP.npy"
            np.save(path, np.load(ORACLE)["detections"])
            _CACHE["oracle"] = load_npy(path)
    return _CACHE["oracle"]


def _assert_same_rows(ours: list[str], official_file: Path) -> None:
    """The official output file, row for row and byte for byte: same order, same ids, same printed boxes."""
    official = official_file.read_text()
    assert ours == official.splitlines()  # (on failure pytest names the first differing row)
    assert "".join(f"{row}\n" for row in ours) == official


@pytest.mark.parametrize(("fixture", "opts"), [
    ("MOT17-09-SDP-halfval.txt", {}),
    ("MOT17-09-SDP-halfval.thresh03.txt", {"det_thresh": 0.3}),
    ("MOT17-09-SDP-halfval.thresh03-new_kf_off.txt", {"det_thresh": 0.3, "new_kf": False}),
    ("MOT17-09-SDP-halfval.thresh03-cmc_off.txt", {"det_thresh": 0.3, "cmc": False}),
    ("MOT17-09-SDP-halfval.thresh03-emb_off.txt", {"det_thresh": 0.3, "embedding": False,
                                                  "adaptive_weight": False}),
])
def test_matches_the_official_code_on_mot17_09_halfval(shared_data, fixture, opts):
    _assert_same_rows(_run_halfval(shared_data, gmc=True, **opts), FIXTURES / fixture)
