"""StrongSORT: each switch on hand-built frames, the pinned Munkres solver, and equality with the official code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mot_bench.trackers.common.kalman import KalmanFilterXYAH
from mot_bench.trackers.common.munkres import munkres
from mot_bench.trackers.strongsort import StrongSortTracker
from mot_bench.types import Detections, Frame, SeqInfo

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
    """The result file is byte-identical to the official StrongSORT output (tests/fixtures/deepsort/PROVENANCE.md):
    same rows in the same order, ids included, boxes as its writer prints them."""
    from mot_bench.runner import RunOptions, run

    arr = np.load(FIXTURES / "MOT17-09-SDP-halfval-oracle.npz")["detections"]
    np.save(tmp_path / "MOT17-09-SDP.npy", arr)
    run(RunOptions(detector="precomputed", detector_options={"det_dir": str(tmp_path)}, tracker="strongsort",
                   tracker_options=dict(options), data=str(shared_data), benchmark="MOT17", split="half-val",
                   seqs=["MOT17-09-SDP"], out=str(tmp_path / "run"), progress=False, evaluate=False))
    ours = (tmp_path / "run" / "results" / "MOT17-09-SDP.txt").read_bytes()
    official = (FIXTURES / f"MOT17-09-SDP-halfval.{name}.txt").read_bytes()
    assert ours.splitlines() == official.splitlines()  # (on failure pytest names the first differing row)
    assert ours == official


PAN = 40  # px per frame: boxes 40 px wide no longer overlap their previous place


def _panning_sequence(root: Path, length: int = 8) -> Path:
    """A camera panning right by PAN px per frame over three people standing still: in the image the
    whole scene (low-frequency background, people) moves left by PAN px per frame."""
    import cv2

    rng = np.random.default_rng(7)
    width, height = 640, 360
    world = cv2.resize(rng.integers(0, 256, (8, 16), dtype=np.uint8), (width + PAN * (length - 1), height),
                       interpolation=cv2.INTER_CUBIC)
    world = cv2.cvtColor(world, cv2.COLOR_GRAY2BGR)
    people = [(300, 60, (40, 40, 220)), (420, 150, (40, 220, 40)), (540, 200, (220, 40, 40))]  # world x, y, colour
    for x, y, colour in people:
        world[y : y + 100, x : x + 40] = colour
    seq_dir = root / "MOT17" / "train" / "PAN-01"
    (seq_dir / "img1").mkdir(parents=True)
    (seq_dir / "gt").mkdir()
    gt = []
    for f in range(1, length + 1):
        left = PAN * (f - 1)
        cv2.imwrite(str(seq_dir / "img1" / f"{f:06d}.jpg"), world[:, left : left + width])
        gt += [f"{f},{i + 1},{x - left},{y},40,100,1,1,1\n" for i, (x, y, _) in enumerate(people)]
    (seq_dir / "gt" / "gt.txt").write_text("".join(gt))
    (seq_dir / "seqinfo.ini").write_text(f"[Sequence]\nname=PAN-01\nimDir=img1\nframeRate=30\nseqLength={length}\n"
                                         f"imWidth={width}\nimHeight={height}\nimExt=.jpg\n")
    return root


def test_ecc_through_the_runner_keeps_ids_across_a_camera_pan_and_caches_the_warps(tmp_path, monkeypatch) -> None:
    from mot_bench.data import frames as frames_mod
    from mot_bench.runner import RunOptions, run

    root = _panning_sequence(tmp_path / "data")
    decodes, seen = [], []
    decode = frames_mod.decode_image
    monkeypatch.setattr(frames_mod, "decode_image", lambda seq, f: decodes.append(f) or decode(seq, f))
    before = StrongSortTracker.before_predict
    monkeypatch.setattr(StrongSortTracker, "before_predict",
                        lambda self, frame: seen.append(frame.camera_motion) or before(self, frame))
    opts = dict(detector="oracle", detector_options={"with_embeddings": True}, tracker="strongsort",
                data=str(root), benchmark="MOT17", progress=False, evaluate=False, cmc_cache=str(tmp_path / "cmc"))

    def ids(out: str, ecc: bool) -> np.ndarray:
        res = run(RunOptions(out=str(tmp_path / out), tracker_options={"ecc": ecc}, **opts))
        text = (res.folder.path / "results" / "PAN-01.txt").read_text().split()
        return np.array([[float(v) for v in line.split(",")[:2]] for line in text]).reshape(-1, 2), res

    rows, res = ids("on", True)
    assert decodes == list(range(1, 9))  # the frames decoded once, for the warps (the oracle needs no pixels)
    assert len(seen) == 8 and np.array_equal(seen[0], np.eye(2, 3))
    warps = np.stack(seen[1:])
    np.testing.assert_allclose(warps[:, :, :2], np.broadcast_to(np.eye(2), (7, 2, 2)), atol=0.01)
    np.testing.assert_allclose(warps[:, :, 2], np.broadcast_to([-PAN, 0], (7, 2)), atol=1.0)  # content moves left
    assert sorted(set(rows[:, 1])) == [1, 2, 3] and len(rows) == 3 * 6  # confirmed from frame 3, same ids
    assert res.folder.read_config()["camera_motion"] == {"method": "ecc_strongsort", "downscale": 10,
                                                         "gmc_dir": None, "provided_by": "runner"}
    cached = list((tmp_path / "cmc").rglob("*.npy"))
    assert [f.name for f in cached] == ["PAN-01-ecc_strongsort-1-8-s0.1-r2.npy"]
    np.testing.assert_array_equal(np.load(cached[0])[1:], warps)

    decodes.clear(), seen.clear()
    again, _ = ids("again", True)  # another run folder, same cache: no pixels, the same warps
    assert decodes == [] and np.array_equal(again, rows) and np.array_equal(np.stack(seen[1:]), warps)

    seen.clear()
    off, res = ids("off", False)  # without ECC each frame's people are new tentative tracks: none confirmed
    assert decodes == [] and seen == [None] * 8 and len(off) == 0
    assert "camera_motion" not in res.folder.read_config()
