"""UCMCTrack: the ground-plane mapping and its covariance, the mapped Mahalanobis cost with its log-det term
and the filterpy arithmetic (bit for bit), the track states and their rules on hand-built frames, the
official per-sequence table, head padding, the camera file's checks, and row-for-row equality with the
official code on MOT17-09 (tests/fixtures/ucmctrack, see its PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.motfile import read_mot_file
from mot_bench.data.sequences import find_sequences
from mot_bench.data.validate import InputCheckError
from mot_bench.detectors.public import PublicDetector
from mot_bench.options import search_space
from mot_bench.postprocess import interpolate
from mot_bench.registry import TRACKERS
from mot_bench.runner import track_rows
from mot_bench.trackers.ucmctrack import (
    COASTED,
    CONFIRMED,
    TENTATIVE,
    GroundPlane,
    UCMCTracker,
    read_camera_file,
)
from mot_bench.tune import Workload
from mot_bench.types import Detections, Frame, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "ucmctrack"
CAMERA = """RotationMatrices
0 -1 0
-0.17365 0 -0.98481
0.98481 0 -0.17365

TranslationVectors
0 1500 5000

IntrinsicMatrix
1000 0 960
0 1000 540
0 0 1
"""
YOLOX = ("detections", "MOT17", "YOLOX_X_ablation")


@pytest.fixture()
def cams(tmp_path) -> Path:
    """A camera 1.5 m above the ground looking 10 degrees down (ground origin at image point (960, 840))."""
    folder = tmp_path / "cams"
    folder.mkdir()
    (folder / "SYN-01.txt").write_text(CAMERA)
    return folder


def _seq(name: str = "SYN-01", fps: float = 30.0) -> SeqInfo:
    return SeqInfo(name, ".", 200, 1920, 1080, fps)


def _tracker(cams: Path, **kw) -> UCMCTracker:
    kw = {"cam_dir": str(cams), "per_sequence": None, "cmc": False, **kw}
    trk = UCMCTracker(**kw)
    trk.reset(_seq())
    return trk


def _box(u: float, v: float, w: float = 50.0, h: float = 150.0) -> tuple[float, float, float, float]:
    """A box whose foot point (bottom centre) is (u, v)."""
    return (u - w / 2, v - h, u + w / 2, v)


def _dets(*boxes_scores) -> Detections:
    if not boxes_scores:
        return Detections.empty()
    return Detections(np.array([b for b, _ in boxes_scores], dtype=np.float64),
                      np.array([s for _, s in boxes_scores], dtype=np.float64))


def _step(trk: UCMCTracker, k: int, *boxes_scores, warp=None):
    return trk.update(_dets(*boxes_scores), Frame(trk._seq, k, camera_motion=warp))


# -- the camera ---------------------------------------------------------------------------------
def test_ground_mapping_round_trip_and_its_covariance_is_the_mapped_image_noise(cams):
    plane = read_camera_file(cams / "SYN-01.txt")
    x, y = np.array([0.0, 1.0, 3.0, -0.5]), np.array([0.0, 0.5, -1.0, 2.0])
    u, v = plane.to_image(x, y)
    assert (u[0], v[0]) == pytest.approx((960.0, 840.0))
    back, _ = plane.to_ground(u, v)
    np.testing.assert_allclose(back[:, :, 0], np.stack([x, y], 1), atol=1e-9)
    # R = J diag(su^2, sv^2) J' with J the Jacobian of image -> ground at the point
    su, sv = np.array([2.0, 7.5, 13.0, 4.0]), np.array([2.0, 7.5, 10.0, 4.0])
    _, cov = plane.to_ground(u, v, su, sv)
    eps = 1e-3
    for k in range(len(u)):
        du = (plane.to_ground(u[k:k + 1] + eps, v[k:k + 1])[0] - plane.to_ground(u[k:k + 1] - eps, v[k:k + 1])[0])
        dv = (plane.to_ground(u[k:k + 1], v[k:k + 1] + eps)[0] - plane.to_ground(u[k:k + 1], v[k:k + 1] - eps)[0])
        jac = np.hstack([du[0], dv[0]]) / (2 * eps)
        np.testing.assert_allclose(cov[k], jac @ np.diag([su[k] ** 2, sv[k] ** 2]) @ jac.T, rtol=1e-5)


def test_measurement_noise_comes_from_the_box_height_clipped(cams):
    """sigma_u = clip(0.05 h, 2, 13), sigma_v = clip(0.05 h, 2, 10) pixels at the foot point (the official
    ``getUVError``): a 300 px box has (13, 10), a 30 px one (2, 2), a 100 px one (5, 5)."""
    trk = _tracker(cams)
    for h, (su, sv) in ((300.0, (13.0, 10.0)), (30.0, (2.0, 2.0)), (100.0, (5.0, 5.0))):
        y, R, w, hh = trk._measure(np.array([_box(900.0, 950.0, w=40.0, h=h)]))
        xy, cov = trk._plane.to_ground(np.array([900.0]), np.array([950.0]), np.array([su]), np.array([sv]))
        np.testing.assert_array_equal(y, xy)
        np.testing.assert_array_equal(R, cov)
        assert (w[0], hh[0]) == (40.0, h)


def _mapped(plane: GroundPlane, foot_points):
    u = np.array([p[0] for p in foot_points])
    v = np.array([p[1] for p in foot_points])
    h = np.array([p[2] for p in foot_points])
    return plane.to_ground(u, v, np.clip(0.05 * h, 2, 13), np.clip(0.05 * h, 2, 10))


def test_camera_file_errors_name_file_and_line(tmp_path):
    cases = [
        (CAMERA.replace("IntrinsicMatrix", "Intrinsics"), r"cam\.txt: no IntrinsicMatrix section"),
        (CAMERA.replace("0 1500 5000", "0 1500"), r"cam\.txt:7: TranslationVectors row '0 1500'; expected 3"),
        (CAMERA.replace("1000 0 960", "1000 0 x"), r"cam\.txt:10: IntrinsicMatrix row .*expected 3 numbers"),
        (CAMERA + "RotationMatrices\n1 0 0\n0 1 0\n0 0 1\n", r"cam\.txt:13: second RotationMatrices"),
        (CAMERA.split("IntrinsicMatrix")[0] + "IntrinsicMatrix\n1000 0 960\n",
         r"cam\.txt:10: IntrinsicMatrix ends after 1 row"),
        (CAMERA.replace("-0.17365 0 -0.98481", "0 0 0").replace("0.98481 0 -0.17365", "0 0 0"), "maps the ground"),
    ]
    for text, message in cases:
        (tmp_path / "cam.txt").write_text(text)
        with pytest.raises(InputCheckError, match=message):
            read_camera_file(tmp_path / "cam.txt")


def test_camera_parameters_are_required_and_checked_before_any_work(tmp_path, cams):
    with pytest.raises(ValueError, match="needs cam_dir"):
        UCMCTracker(per_sequence=None).input_files(_seq())
    from mot_bench.data.synthetic import make_sequence

    root = tmp_path / "data"
    for name in ("SYN-01", "SYN-02"):
        make_sequence(root / "MOT17" / "train", name, length=5, write_images=False)
    res = CliRunner().invoke(main, ["run", "--data", str(root), "--benchmark", "MOT17", "--tracker", "ucmctrack",
                                    "--tracker-opt", f"cam_dir={cams}", "--tracker-opt", "cmc=false",
                                    "--out", str(tmp_path / "run"), "--no-progress"])
    assert res.exit_code == 2
    assert f"{cams / 'SYN-02.txt'}: no such file; tracker 'ucmctrack' reads its camera file for sequence SYN-02" \
        in res.output
    assert not (tmp_path / "run" / "results").exists()


# -- the arithmetic -----------------------------------------------------------------------------------
def _walkers(trk: UCMCTracker, frames: int, start: int = 1, people=((700, 850), (1200, 800), (950, 950))):
    """People walking right 4 px per frame (foot points), scores 0.9."""
    for k in range(start, start + frames):
        _step(trk, k, *[(_box(u + 4 * k, v), 0.9) for u, v in people])


def test_cost_and_kalman_steps_equal_the_per_track_filterpy_arithmetic_bit_for_bit(cams):
    trk = _tracker(cams, wx=0.5, wy=1.0)
    _walkers(trk, 6)
    x0, P0 = trk.x.copy(), trk.P.copy()
    F, Q = trk._F, trk._Q
    # predict, per track with np.dot as filterpy does
    xs = [np.dot(F, x) for x in x0]
    Ps = [1.0 * np.dot(np.dot(F, p), F.T) + Q for p in P0]
    dets = _dets(*[(_box(700 + 4 * 7 + d, 850 + d), 0.9) for d in (0.0, 3.0)])
    tlbr = dets.tlbr
    y, R = trk._plane.to_ground(tlbr[:, 0] + (tlbr[:, 2] - tlbr[:, 0]) / 2, tlbr[:, 3],
                                np.clip(0.05 * (tlbr[:, 3] - tlbr[:, 1]), 2, 13),
                                np.clip(0.05 * (tlbr[:, 3] - tlbr[:, 1]), 2, 10))
    H = np.array([[1, 0, 0, 0], [0, 0, 1, 0]])
    expect = np.zeros((2, 3))
    for i in range(2):
        for j in range(3):
            diff = y[i] - np.dot(H, xs[j])
            S = np.dot(H, np.dot(Ps[j], H.T)) + R[i]
            expect[i, j] = np.dot(diff.T, np.dot(np.linalg.inv(S), diff))[0, 0] + np.log(np.linalg.det(S))
    trk.x = np.matmul(F, trk.x)
    trk.P = 1.0 * np.matmul(np.matmul(F, trk.P), F.T) + Q
    np.testing.assert_array_equal(trk.x, np.array(xs))
    np.testing.assert_array_equal(trk.P, np.array(Ps))
    np.testing.assert_array_equal(trk._cost(y, R, np.arange(2), np.arange(3)), expect)
    # filterpy's update (explicit inverse, Joseph form) of track 0 with detection 1
    x, P, z, r = xs[0], Ps[0], y[1], R[1]
    PHT = np.dot(P, H.T)
    S = np.dot(H, PHT) + r
    K = np.dot(PHT, np.linalg.inv(S))
    x = x + np.dot(K, z - np.dot(H, x))
    I_KH = np.eye(4) - np.dot(K, H)
    P = np.dot(np.dot(I_KH, P), I_KH.T) + np.dot(np.dot(K, r), K.T)
    trk._update(np.array([0]), y[[1]], R[[1]])
    np.testing.assert_array_equal(trk.x[0], x)
    np.testing.assert_array_equal(trk.P[0], P)


def test_log_det_term_prefers_the_more_certain_track(cams):
    """Two tracks at the same distance in Mahalanobis terms: the cost differs by the log-determinant, so a
    detection goes to the track with the smaller covariance, where a plain Mahalanobis gate would tie."""
    trk = _tracker(cams)
    _walkers(trk, 4, people=((700, 850), (1200, 850)))
    trk.P[1] *= 4.0  # same mean offset, four times the variance
    y, R = _mapped(trk._plane, [(800, 850, 150.0)])
    trk.x[:, 0, 0] = y[0, 0, 0] + np.array([0.1, 0.2])
    trk.x[:, 2, 0] = y[0, 1, 0]
    cost = trk._cost(y, R, np.array([0]), np.array([0, 1]))
    S = [trk.P[j][[0, 2]][:, [0, 2]] + R[0] for j in range(2)]
    for j in range(2):
        d = np.array([trk.x[j, 0, 0] - y[0, 0, 0], 0.0])
        assert cost[0, j] == pytest.approx(d @ np.linalg.inv(S[j]) @ d + np.log(np.linalg.det(S[j])), rel=1e-12)
    assert np.log(np.linalg.det(S[1])) > np.log(np.linalg.det(S[0]))


# -- the track states ---------------------------------------------------------------------------------
def test_tentative_tracks_are_confirmed_on_the_third_frame_and_die_on_one_miss(cams):
    trk = _tracker(cams)
    out = [len(_step(trk, k, (_box(900 + 4 * k, 900), 0.9))) for k in (1, 2, 3)]
    assert out == [0, 0, 1] and list(trk.status) == [CONFIRMED] and list(trk.ids) == [1]
    # a second person appears, is seen twice, missed once: gone, its id consumed
    _step(trk, 4, (_box(900 + 16, 900), 0.9), (_box(1400, 700), 0.9))
    _step(trk, 5, (_box(900 + 20, 900), 0.9), (_box(1404, 700), 0.9))
    assert list(trk.status) == [CONFIRMED, TENTATIVE]
    _step(trk, 6, (_box(900 + 24, 900), 0.9))
    assert list(trk.ids) == [1]
    tracks = _step(trk, 7, (_box(900 + 28, 900), 0.9), (_box(1400, 700), 0.9))
    assert list(tracks.ids) == [1] and list(trk.ids) == [1, 3]  # the new track is id 3, not 2


def test_output_is_the_detection_box_and_score_of_confirmed_matched_tracks(cams):
    trk = _tracker(cams)
    _walkers(trk, 3, people=((900, 900),))
    box = _box(913.25, 901.5, w=52.5, h=149.0)
    tracks = _step(trk, 4, (box, 0.83))
    np.testing.assert_array_equal(tracks.tlbr[0], box)
    assert tracks.scores[0] == 0.83


def test_thresholds_are_inclusive_and_low_detections_never_start_tracks(cams):
    trk = _tracker(cams)  # conf_thresh 0.5, high_score 0.6
    for k in (1, 2, 3):
        _step(trk, k, (_box(700, 850), 0.6), (_box(1200, 800), 0.59999), (_box(1500, 1000), 0.49999))
    assert list(trk.ids) == [1]  # only the 0.6 box started a track (>= high_score)
    # a low detection (>= 0.5, < 0.6) keeps a confirmed track in the second round and is written
    tracks = _step(trk, 4, (_box(700, 850), 0.5))
    assert list(tracks.ids) == [1] and tracks.scores[0] == 0.5
    tracks = _step(trk, 5, (_box(700, 850), 0.49999))  # below conf_thresh: dropped, the track is missed
    assert len(tracks) == 0


def test_scores_compare_in_float64(cams):
    """The official compares Python floats: a float32 score of 0.7 (0.69999999) is below high_score 0.7,
    where a float32 comparison would call it high; float32(0.6) = 0.60000002 is above 0.6."""
    for high, score, starts in ((0.7, 0.7, False), (0.6, 0.6, True)):
        trk = _tracker(cams, high_score=high)
        for k in (1, 2, 3):
            trk.update(Detections(np.array([_box(700, 850)]), np.array([score], dtype=np.float32)), Frame(trk._seq, k))
        assert (len(trk.ids) == 1) == starts


def test_missed_confirmed_tracks_stay_confirmed_until_a_frame_with_a_low_detection(cams):
    """Without low detections the second round does not run: a confirmed track missed by the first round
    keeps its status and outlives cdt; the first frame with a low detection (anywhere) coasts it and, its
    death count being past cdt, deletes it at once."""
    trk = _tracker(cams, cdt=3)
    _walkers(trk, 3, people=((700, 850),))
    for k in range(4, 10):  # six frames with no detection at all
        _step(trk, k)
    assert list(trk.status) == [CONFIRMED] and trk.death[0] == 7
    _step(trk, 10, (_box(1500, 1000), 0.55))  # a low detection far away: coasted, then deleted
    assert len(trk.ids) == 0

    trk = _tracker(cams, cdt=3)
    _walkers(trk, 3, people=((700, 850),))
    _step(trk, 4, (_box(1500, 1000), 0.55))
    assert list(trk.status) == [COASTED] and trk.death[0] == 2
    _step(trk, 5)
    assert len(trk.ids) == 0  # coasted, death count 3 = cdt: deleted, low detections or not


def test_coasted_tracks_come_back_confirmed_with_their_id(cams):
    trk = _tracker(cams, cdt=30)
    _walkers(trk, 3, people=((700, 850),))
    _step(trk, 4, (_box(1500, 1000), 0.55))
    _step(trk, 5, (_box(1500, 1000), 0.55))
    assert list(trk.status) == [COASTED]
    tracks = _step(trk, 6, (_box(700 + 24, 850), 0.9))
    assert list(tracks.ids) == [1] and list(trk.status) == [CONFIRMED]


def test_camera_warp_keeps_the_id_through_a_camera_jump(cams):
    """The camera jumps once (frame 6) so that a person standing still moves 150 px (about 2 m on the
    ground): with the warp the prediction moves along, without it the track is lost and a new one starts."""
    jump = np.array([[1.0, 0.0, 150.0], [0.0, 1.0, 0.0]])
    ids = {}
    for cmc in (True, False):
        trk = _tracker(cams, cmc=cmc, cmc_method="none")
        got = []
        for k in range(1, 12):
            u = 600 if k < 6 else 750
            tracks = _step(trk, k, (_box(u, 900), 0.9), warp=jump if k == 6 else np.eye(2, 3))
            got += list(tracks.ids)
        ids[cmc] = got
    assert ids[True] == [1] * 9 and len(set(ids[False])) == 2


def test_cmc_reads_the_gmc_file_when_no_warp_is_handed_over(cams, tmp_path):
    gmc = tmp_path / "gmc"
    gmc.mkdir()
    rows = [f"{k}\t1.000000\t0.000000\t{40.0 if k else 0.0:.6f}\t0.000000\t1.000000\t0.000000\t" for k in range(12)]
    (gmc / "GMC-SYN-01.txt").write_text("\n".join(rows) + "\n")
    seq = SeqInfo("SYN-01", ".", 12, 1920, 1080, 30.0)
    with_file = UCMCTracker(cam_dir=str(cams), per_sequence=None, gmc_dir=str(gmc))
    handed = UCMCTracker(cam_dir=str(cams), per_sequence=None, gmc_dir=str(gmc))
    with_file.reset(seq)
    handed.reset(seq)
    pan = np.array([[1.0, 0.0, 40.0], [0.0, 1.0, 0.0]])
    for k in range(1, 13):
        dets = _dets((_box(600 + 40 * k, 900), 0.9))
        a = with_file.update(dets, Frame(seq, k))
        b = handed.update(dets, Frame(seq, k, camera_motion=pan if k > 1 else np.eye(2, 3)))
        assert list(a.ids) == list(b.ids)
        np.testing.assert_array_equal(with_file.x, handed.x)
    assert set(a.ids) == {1}


def test_head_padding_adds_the_tentative_frames_of_confirmed_tracks_only(cams):
    trk = _tracker(cams, head_padding=True)
    rows = []
    for k in range(1, 7):
        people = [(_box(700 + 4 * k, 850), 0.9)]
        if k in (2, 3):  # a track that never gets confirmed
            people.append((_box(1400, 700), 0.9))
        rows.append(track_rows(k, _step(trk, k, *people)))
    online = np.concatenate(rows)
    assert list(online[:, 0]) == [3, 4, 5, 6]
    padded = trk.finish(online)
    assert list(padded[:, 0]) == [1, 2, 3, 4, 5, 6] and set(padded[:, 1]) == {1}
    np.testing.assert_allclose(padded[0, 2:6], [700 + 4 - 25, 850 - 150, 50, 150])
    assert _tracker(cams).finish(online) is online  # off: the online rows as they are


# -- options and the official table -------------------------------------------------------------------
def test_defaults_are_the_official_mot17_validation_table(cams):
    trk = UCMCTracker(cam_dir=str(cams))
    assert trk.per_sequence == "mot17-val" and trk.cmc and trk.cmc_method == "file" and not trk.head_padding
    expect = {"MOT17-02-SDP": (30.0, 0.1, 0.2, 10.0, 30), "MOT17-05-FRCNN": (14.0, 0.1, 3.0, 10.0, 10),
              "MOT17-10-SDP": (30.0, 5.0, 5.0, 60.0, 10), "MOT17-13-DPM": (25.0, 5.0, 5.0, 40.0, 10)}
    for name, values in expect.items():
        o = trk.sequence_options(_seq(name))
        assert (o.fps, o.wx, o.wy, o.a, o.cdt, o.conf_thresh, o.high_score, o.vmax) == (*values, 0.5, 0.6, 0.5)
    o = UCMCTracker(cam_dir=str(cams), a=12).sequence_options(_seq("MOT17-10-SDP"))
    assert (o.a, o.wx) == (12.0, 5.0)  # explicit beats the table
    o = trk.sequence_options(_seq("MOT17-01-SDP"))  # not in the table: the options as given
    assert (o.fps, o.wx, o.a, o.cdt) == (None, 0.1, 10.0, 30)
    test = UCMCTracker(cam_dir=str(cams), per_sequence="mot17-test").sequence_options(_seq("MOT17-03-SDP"))
    assert (test.conf_thresh, test.vmax, test.cmc) == (0.26, 0.4, False)
    # the Kalman step follows the sequence's fps; none: the sequence's own
    trk = UCMCTracker(cam_dir=str(cams), per_sequence=None)
    (cams / "MOT17-05-SDP.txt").write_text(CAMERA)
    trk.reset(_seq("MOT17-05-SDP", fps=20.0))
    assert trk._dt == 1.0 / 20.0
    trk = UCMCTracker(cam_dir=str(cams))
    trk.reset(_seq("MOT17-05-SDP", fps=20.0))
    assert trk._dt == 1.0 / 14.0 and trk.cdt == 10


def test_registry_list_and_search_space():
    assert isinstance(TRACKERS.create("ucmctrack"), UCMCTracker)
    space = search_space(UCMCTracker)
    assert set(space) == {"wx", "wy", "vmax", "a", "cdt", "high_score", "conf_thresh"}
    res = CliRunner().invoke(main, ["list", "trackers", "ucmctrack"])
    assert res.exit_code == 0
    assert "sequence preset mot17-val: MOT17-02 (fps=30, wx=0.1, wy=0.2, a=10, cdt=30)" in res.output
    assert "cam_dir" in res.output and "head_padding" in res.output


# -- the official code ------------------------------------------------------------------------------------
def _official(name: str) -> np.ndarray:
    rows = np.loadtxt(FIXTURES / f"MOT17-09-SDP.{name}.txt.gz", delimiter=",").reshape(-1, 10)
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def _same_rows(ours: np.ndarray, official: np.ndarray, box_tol: float, scores: bool = True) -> None:
    """Same frames, same ids (the official counter), boxes within ``box_tol``, scores to 2 decimals."""
    ours = ours[np.lexsort((ours[:, 1], ours[:, 0]))]
    assert ours.shape == official.shape
    np.testing.assert_array_equal(ours[:, :2], official[:, :2])
    assert np.abs(ours[:, 2:6] - official[:, 2:6]).max() <= box_tol
    if scores:
        np.testing.assert_array_equal(np.round(ours[:, 6], 2), official[:, 6])


def _run(shared_data, split: str, gmc: Path, **opts) -> tuple[np.ndarray, UCMCTracker]:
    seq = find_sequences(shared_data, "MOT17", split, ["MOT17-09-SDP"])[0]
    det = PublicDetector(det_dir=str(shared_data.joinpath(*YOLOX)))
    trk = TRACKERS.create("ucmctrack", {"cam_dir": str(FIXTURES / "cam_para"), "gmc_dir": str(gmc), **opts})
    trk.reset(seq)
    det.reset(seq)
    rows = [track_rows(f, trk.update(det(Frame(seq, f)), Frame(seq, f))) for f in seq.frame_ids]
    return trk.finish(np.concatenate(rows)), trk


def test_matches_official_online_output_on_mot17_09(shared_data):
    """run_ucmc without --hp on every frame of MOT17-09 (the validation script tracks them all), the
    official MOT17-09 settings (fps 30, wx 0.5, wy 1.0, a 10, cdt 30, cmc with the GMC file)."""
    ours, trk = _run(shared_data, "train", FIXTURES / "gmc")
    assert (trk.wx, trk.wy, trk.a, trk.cdt, trk.fps) == (0.5, 1.0, 10.0, 30, 30.0)
    _same_rows(ours, _official("full.online"), 1e-9)
    assert len(ours) == 4428


def test_matches_official_online_output_on_mot17_09_half_val(shared_data):
    """The official tracker over frames 264..525 only; the half-val GMC files of BoT-SORT (the same rows)."""
    ours, _ = _run(shared_data, "half-val", shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation")
    _same_rows(ours, _official("halfval.online"), 1e-9)
    assert len(ours) == 2331


def test_matches_official_head_padding_and_its_interpolation_on_mot17_09(shared_data):
    ours, trk = _run(shared_data, "train", FIXTURES / "gmc", head_padding=True)
    _same_rows(ours, _official("full.hp"), 1e-9, scores=False)  # the official --hp writer prints -1 scores
    final = interpolate(ours, max_gap=trk.cdt, min_len=3)  # run_ucmc: dti(n_min=3, n_dti=cdt)
    _same_rows(final, _official("full.official"), 1e-9, scores=False)


def test_the_official_evaluation_output_through_mot_bench_run(shared_data, tmp_path):
    """`mot-bench run` with head padding and interpolate(min_len=3, max_gap=tracker.cdt) writes what
    run_mot17_val.bat leaves for scoring; results_raw/ holds the head-padded rows."""
    out = tmp_path / "run"
    res = CliRunner().invoke(main, [
        "run", "--data", str(shared_data), "--benchmark", "MOT17", "--split", "train", "--seqs", "MOT17-09-SDP",
        "--det-dir", str(shared_data.joinpath(*YOLOX)), "--tracker", "ucmctrack",
        "--tracker-opt", f"cam_dir={FIXTURES / 'cam_para'}", "--tracker-opt", f"gmc_dir={FIXTURES / 'gmc'}",
        "--tracker-opt", "head_padding=true", "--postprocess", "interpolate",
        "--postprocess-opt", "interpolate.min_len=3", "--postprocess-opt", "interpolate.max_gap=tracker.cdt",
        "--out", str(out), "--no-progress", "--no-eval"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    written = read_mot_file(out / "results" / "MOT17-09-SDP.txt", "result")
    _same_rows(written, _official("full.official"), 0.005 + 1e-9, scores=False)
    raw = read_mot_file(out / "results_raw" / "MOT17-09-SDP.txt", "result")
    _same_rows(raw, _official("full.hp"), 0.005 + 1e-9, scores=False)
    config = json.loads((out / "config.json").read_text())
    assert config["tracker"]["per_sequence_table"]["MOT17-09"] == {"fps": 30.0, "wx": 0.5, "wy": 1.0, "a": 10.0,
                                                                   "cdt": 30}
    assert config["camera_motion"]["provided_by"] == "runner"


def test_tune_trials_score_what_mot_bench_run_scores(shared_data, tmp_path):
    """Two MOT17 half-val sequences with their own rows of the official table: a tuner trial (camera files
    read once per worker) and `mot-bench run` of the same configuration give the same metrics."""
    det_dir = shared_data.joinpath(*YOLOX)
    fixed = {"cam_dir": str(FIXTURES / "cam_para"), "gmc_dir": str(shared_data / "gmc" / "BoT-SORT" /
                                                                   "MOT17_ablation")}
    spec = {"tracker": "ucmctrack", "fixed": fixed, "data": str(shared_data), "benchmark": "MOT17",
            "split": "half-val", "seqs": ["MOT17-05-SDP", "MOT17-09-SDP"], "detector": "public",
            "detector_options": {"det_dir": str(det_dir)}, "cmc_cache": str(tmp_path / "cmc")}
    work = Workload(spec)
    params = {"vmax": 0.8}
    result = work.run_trial(params)
    assert "error" not in result, result.get("traceback")
    work.run_trial({"vmax": 0.9})
    assert len(work.inputs) == 2  # one camera file per sequence, read once for both trials
    cfg = tmp_path / "trial.json"
    cfg.write_text(json.dumps({"tracker": "ucmctrack", "options": {**fixed, **params}}))
    run_dir = tmp_path / "rerun"
    res = CliRunner().invoke(main, ["run", "--data", str(shared_data), "--benchmark", "MOT17", "--split", "half-val",
                                    "--seqs", "MOT17-05-SDP,MOT17-09-SDP", "--det-dir", str(det_dir),
                                    "--tracker-config", str(cfg), "--out", str(run_dir), "--no-progress",
                                    "--cmc-cache", str(tmp_path / "cmc")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    combined = json.loads((run_dir / "metrics.json").read_text())["combined"]
    assert result["metrics"]["HOTA"] > 0.5
    for metric in ("HOTA", "MOTA", "IDF1", "IDSW", "CLR_FP", "CLR_FN"):
        assert combined[metric] == result["metrics"][metric], metric


def test_tune_searches_what_the_per_sequence_table_does_not_set():
    """With the official table active, its options (fps, wx, wy, a, cdt) stay per sequence and trial 0 is the
    official configuration; without the table every declared range is searched."""
    from mot_bench.tune import build_space

    params, _ = build_space("ucmctrack")
    assert set(params) == {"vmax", "high_score", "conf_thresh"}
    params, fix = build_space("ucmctrack", fix={"per_sequence": "none"})
    assert set(params) == {"wx", "wy", "vmax", "a", "cdt", "high_score", "conf_thresh"}
    assert fix == {"per_sequence": "none"}
    params, _ = build_space("ucmctrack", space={"a": [5, 20]})  # named in --space: searched, one value for all
    assert set(params) == {"a"}
