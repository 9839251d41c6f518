"""BoostTrack, BoostTrack+ and BoostTrack++: each unusual rule of the official arithmetic on hand-built frames
(DLO/DUO boosts, Mahalanobis softmax, the shape-similarity bug, soft buffered IoU, track confidence, lost-track
table, numpy-1 promotion, camera update), and the official tracker's own output reproduced row for row on
MOT17-09 half-val (YOLOX-X detections; oracle embeddings for the re-ID variants) and on PETS09-S2L1 with the
official ECC cache (tests/fixtures/boosttrack, see its PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.motfile import format_rows, read_mot_file
from mot_bench.data.sequences import find_sequences
from mot_bench.data.synthetic import make_sequence
from mot_bench.detectors.precomputed import load_npy
from mot_bench.detectors.public import PublicDetector
from mot_bench.options import search_space
from mot_bench.registry import TRACKERS
from mot_bench.runner import RunOptions, run, track_rows
from mot_bench.trackers.boosttrack import (
    CHI2_99_4DOF,
    BoostTrackPlusTracker,
    BoostTrackPPTracker,
    BoostTrackTracker,
    kalman_update,
    mahalanobis_similarity,
    measurements,
    official_max_age,
    shape_similarity,
    soft_biou,
    track_confidence,
)
from mot_bench.trackers.common import cmc
from mot_bench.trackers.common.association import iou_batch
from mot_bench.types import Detections, Frame, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "boosttrack"
ORACLE = Path(__file__).parent / "fixtures" / "deepsort" / "MOT17-09-SDP-halfval-oracle.npz"
YOLOX = ("detections", "MOT17", "YOLOX_X_ablation")
GMC = ("gmc", "BoT-SORT", "MOT17_ablation")


def _seq(name: str = "synthetic") -> SeqInfo:
    return SeqInfo(name, ".", 100, 1920, 1080, 30.0)


def _box(x: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def _dets(boxes, scores, embs=None) -> Detections:
    return Detections(np.array(boxes, np.float64).reshape(-1, 4), np.array(scores, np.float64),
                      None if embs is None else np.array(embs, np.float64).reshape(len(scores), -1))


def _tracker(cls=BoostTrackTracker, **opts):
    opts.setdefault("cmc_method", "none")
    trk = cls(**opts)
    trk.reset(_seq())
    return trk


def _ids(out) -> list[int]:
    return [int(i) for i in out.ids]


# ------------------------------------------------------------------------------------------------- options


def test_three_names_default_to_the_readme_commands():
    base = BoostTrackTracker().config()
    assert base == {
        "name": "boosttrack", "preset": "mot17", "det_thresh": 0.6, "iou_threshold": 0.3, "min_hits": 3,
        "max_age": None, "max_age_lookup": "video", "lambda_iou": 0.5, "lambda_mhd": 0.25, "lambda_shape": 0.25,
        "dlo_boost": True, "duo_boost": True, "dlo_boost_coef": 0.65, "rich_similarity": False,
        "soft_boost": False, "varying_threshold": False, "with_reid": False, "shape_similarity_corrected": False,
        "cmc_method": "ecc_boosttrack", "gmc_dir": None, "min_det_score": 0.1, "skip_empty_frames": True,
        "min_box_area": 10.0, "aspect_ratio_thresh": 1.6,
    }
    plus = BoostTrackPlusTracker().config()
    assert plus == {**base, "name": "boosttrackplus", "with_reid": True}
    pp = BoostTrackPPTracker().config()
    assert pp == {**base, "name": "boosttrackpp", "with_reid": True, "rich_similarity": True, "soft_boost": True,
                  "varying_threshold": True}
    assert not BoostTrackTracker().needs_embeddings and BoostTrackPPTracker().needs_embeddings
    assert not BoostTrackPPTracker(with_reid=False).needs_embeddings
    assert BoostTrackTracker().needs_camera_motion and not BoostTrackTracker(cmc_method="none").needs_camera_motion
    mot20 = TRACKERS.create("boosttrackpp", {"preset": "mot20", "with_reid": "off"}).config()
    assert (mot20["det_thresh"], mot20["dlo_boost_coef"], mot20["with_reid"]) == (0.4, 0.5, False)
    assert {"det_thresh", "iou_threshold", "max_age", "lambda_iou", "lambda_mhd", "lambda_shape",
            "dlo_boost_coef"} <= set(search_space(BoostTrackTracker))
    assert set(search_space(BoostTrackPPTracker)) == set(search_space(BoostTrackTracker))


def test_the_tuner_searches_the_declared_ranges():
    from mot_bench.tune import build_space

    params, fixed = build_space("boosttrackpp", fix={"cmc_method": "none"})
    assert fixed == {"cmc_method": "none"}
    assert {name: (p.kind, p.low, p.high) for name, p in params.items()} == {
        "det_thresh": ("float", 0.3, 0.8), "iou_threshold": ("float", 0.1, 0.5), "min_hits": ("int", 1, 5),
        "max_age": ("int", 10, 90), "lambda_iou": ("float", 0.0, 1.0), "lambda_mhd": ("float", 0.0, 1.0),
        "lambda_shape": ("float", 0.0, 1.0), "dlo_boost_coef": ("float", 0.3, 0.9),
    }


def test_lost_track_length_comes_from_the_official_table_by_sequence_name():
    assert official_max_age("MOT17-09-FRCNN") == 60 and official_max_age("MOT17-13-FRCNN") == 50
    assert official_max_age("MOT17-05-FRCNN") == 30  # 14 fps: max(28, 30)
    assert official_max_age("MOT20-03") == 50 and official_max_age("MOT17-14-DPM") == 50
    # the table names MOT17's training videos only with -FRCNN: -SDP is the same video ...
    assert official_max_age("MOT17-09-SDP") == 60 and official_max_age("MOT17-13-DPM") == 50
    # ... unless the lookup is the official one of the name as given
    assert official_max_age("MOT17-09-SDP", "exact") == 30 and official_max_age("MOT17-01-SDP", "exact") == 60
    assert official_max_age("PETS09-S2L1") == 30 and official_max_age(None) == 30
    trk = BoostTrackTracker(cmc_method="none")
    trk.reset(_seq("MOT17-10-SDP"))
    assert trk._max_age == 60
    trk = BoostTrackTracker(cmc_method="none", max_age=12)
    trk.reset(_seq("MOT17-10-SDP"))
    assert trk._max_age == 12


def test_a_track_is_dropped_after_max_age_missed_frames():
    trk = _tracker(max_age=2, min_hits=1)
    trk.update(_dets([_box(100)], [0.9]))
    for _ in range(3):  # missed frames 1, 2, 3 (a far detection keeps the frames coming)
        trk.update(_dets([_box(1500, y=800)], [0.9]))
    assert 1 not in trk._ids + 1
    assert list(trk._ids + 1) == [2]


# -------------------------------------------------------------------------------------- arithmetic pieces


def test_measurements_take_float32_width_and_height_and_the_rest_in_float64():
    """Under numpy 1 (the official environment) ``bbox[0] + w / 2.0`` and ``w / float(h + 1e-6)`` with float32
    scalars run in float64; numpy 2 would stay in float32."""
    rng = np.random.default_rng(0)
    tlbr = rng.uniform(0, 1900, (200, 4)).astype(np.float32)
    tlbr[:, 2:] = tlbr[:, :2] + rng.uniform(5, 300, (200, 2)).astype(np.float32)
    z = measurements(tlbr)
    for row, b in zip(z, tlbr, strict=True):
        w, h = float(b[2] - b[0]), float(b[3] - b[1])  # float32 differences
        assert row.tolist() == [float(b[0]) + w / 2.0, float(b[1]) + h / 2.0, h, w / (h + 1e-6)]
    w32, h32 = tlbr[:, 2] - tlbr[:, 0], tlbr[:, 3] - tlbr[:, 1]
    assert (z[:, 3] != (w32 / (h32 + np.float32(1e-6))).astype(np.float64)).any()  # the float32 path differs


def test_mahalanobis_similarity_is_a_softmax_over_detections_in_which_capped_entries_count():
    d = np.array([[1.0, 20.0, 1.0], [2.0, 20.0, 30.0]])
    sim = mahalanobis_similarity(d)
    e0 = np.exp(CHI2_99_4DOF - np.array([1.0, 2.0]))
    assert sim[:, 0] == pytest.approx(e0 / e0.sum(), rel=1e-15)
    assert sim[:, 1].tolist() == [0.0, 0.0]
    # column 2: the capped entry adds exp(0) = 1 to the denominator, then is zeroed itself
    top = np.exp(CHI2_99_4DOF - 1.0)
    assert sim[0, 2] == pytest.approx(top / (top + 1.0), rel=1e-15) and sim[1, 2] == 0.0


def test_shape_similarity_divides_the_height_term_by_the_larger_width_as_published():
    det = np.array([_box(0, w=40, h=100)])
    trk = np.array([_box(0, w=40, h=120)])
    assert shape_similarity(det, trk)[0, 0] == pytest.approx(np.exp(-20 / 40))  # the kept bug
    assert shape_similarity(det, trk, corrected=True)[0, 0] == pytest.approx(np.exp(-20 / 120))  # --s_sim_corr
    wide = np.array([_box(0, w=60, h=100)])
    assert shape_similarity(det, wide)[0, 0] == pytest.approx(np.exp(-20 / 60))


def test_soft_buffered_iou_widens_both_boxes_as_the_track_confidence_falls():
    det = np.array([[0.0, 0.0, 40.0, 100.0]])
    trk = np.array([[50.0, 0.0, 90.0, 100.0, 1.0]])  # 10 px apart
    assert soft_biou(det, trk)[0, 0] == 0.0  # confidence 1: plain IoU
    trk[0, 4] = 0.5  # detection +-5 px (0.25 * 0.5 * 40), track +-10 px (0.5 * 0.5 * 40) wide
    # x: det [-5, 45], track [40, 100] -> overlap 5; y: det [-12.5, 112.5], track [-25, 125] -> 125
    inter = 5 * 125
    union = 50 * 125 + 60 * 150 - inter
    assert soft_biou(det, trk)[0, 0] == pytest.approx(inter / union)


def test_track_confidence_grows_while_young_then_decays_with_missed_frames():
    assert [track_confidence(a, 1) for a in range(1, 8)] == [0.9 ** (7 - a) for a in range(1, 7)] + [1.0]
    assert track_confidence(20, 0) == 0.9 ** -1  # written for a track updated this frame
    assert track_confidence(20, 4) == 0.9 ** 3


def test_stacked_kalman_update_equals_the_official_one_track_at_a_time():
    """``kalman_update`` on a stack: the values of upstream's ``cho_factor``/``cho_solve``/``np.dot``/``multi_dot``
    on each track, bit for bit."""
    import scipy.linalg

    rng = np.random.default_rng(0)
    R = np.diag([1.0, 1.0, 10.0, 0.01])
    H = np.eye(4, 8)
    for m in (1, 2, 7, 30):
        a = rng.normal(size=(m, 8, 8))
        P = a @ a.transpose(0, 2, 1) + rng.uniform(0.1, 100, (m, 1, 8)) * np.eye(8)
        x = rng.normal(size=(m, 8)) * 100
        z = rng.normal(size=(m, 4)) * 100
        got_x, got_p = kalman_update(x, P, z)
        for i in range(m):  # the official KalmanFilter.update, verbatim in its calls
            S = np.linalg.multi_dot((H, P[i], H.T)) + R
            chol, lower = scipy.linalg.cho_factor(S, lower=True, check_finite=False)
            gain = scipy.linalg.cho_solve((chol, lower), np.dot(P[i], H.T).T, check_finite=False).T
            assert np.array_equal(got_x[i], x[i] + np.dot(z[i] - np.dot(H, x[i]), gain.T))
            assert np.array_equal(got_p[i], P[i] - np.linalg.multi_dot((gain, S, gain.T)))


def test_stacked_matmul_equals_the_official_per_corner_product():
    """The camera update moves all corners with one stacked matmul: the same product per vector as the
    official ``transform @ np.array([x, y, 1])`` (a plain ``V @ T.T`` is not)."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        t = np.vstack([rng.normal(size=(2, 3)) * [[1e-3, 1e-3, 10]] + [[1, 0, 0], [0, 1, 0]], [[0, 0, 1.0]]])
        pts = np.column_stack([rng.uniform(0, 1920, 25), rng.uniform(0, 1080, 25), np.ones(25)])
        ref = np.array([t @ np.array([x, y, 1]) for x, y, _ in pts])
        got = np.matmul(np.broadcast_to(t, (25, 3, 3)), pts[:, :, None])[:, :, 0]
        assert np.array_equal(got, ref)


# -------------------------------------------------------------------------------------------- the boosts


def test_dlo_boost_lifts_a_weak_detection_on_a_track_into_association():
    def second_frame(score, **opts):
        trk = _tracker(min_hits=1, **opts)
        trk.update(_dets([_box(100)], [0.9]))
        out = trk.update(_dets([_box(100)], [score]))
        return trk, out

    trk, out = second_frame(0.3)  # IoU 1 with the prediction: 0.65 * 1 >= 0.6
    assert _ids(out) == [1] and trk._tsu.tolist() == [0]
    trk, out = second_frame(0.3, dlo_boost=False)
    assert _ids(out) == [] and trk._tsu.tolist() == [1]
    trk, out = second_frame(0.3, dlo_boost_coef=0.5)  # 0.5 * 1 < 0.6
    assert _ids(out) == []


def test_dlo_soft_boost_and_varying_threshold():
    box = np.array([_box(100)])
    trks = np.concatenate([box, [[1.0]]], axis=1)
    mh = np.zeros((1, 1))

    def boosted(score, S=None, tsu=1, **switches):
        # S given: the plain-IoU path (rich_similarity off) with that similarity
        trk = _tracker(BoostTrackPPTracker, with_reid=False, rich_similarity=S is None, **switches)
        trk._tsu = np.array([tsu])
        dets = np.array([[*box[0], score]], np.float32)
        trk._dlo_boost(dets, trks, iou_batch(dets, trks) if S is None else np.array([[S]]), mh)
        return dets[0, 4]

    # rich S of a perfect overlap is 1: soft boost 0.65 * 0.3 + 0.35 * 1 = 0.545, then vt lifts it to 0.6 + 1e-5
    assert boosted(0.3, varying_threshold=False) == np.float32(0.65 * np.float32(0.3) + 0.35)
    assert boosted(0.3) == np.float32(0.6 + 1e-5)
    # the varying threshold falls from 0.95 by 0.0075 per missed frame, to 0.8
    assert boosted(0.1, S=0.9, soft_boost=False) == np.float32(0.1)
    assert boosted(0.1, S=0.9, tsu=11, soft_boost=False) == np.float32(0.6 + 1e-5)  # 0.95 - 10 * 0.0075
    assert boosted(0.1, S=0.81, tsu=100, soft_boost=False) == np.float32(0.6 + 1e-5)  # floor 0.8
    assert boosted(0.1, S=0.79, tsu=100, soft_boost=False) == np.float32(0.1)
    assert boosted(0.9, S=0.5) == np.float32(0.9)  # never lowered (0.65 * 0.9 + 0.35 * 0.5 ** 1.5 = 0.71)


def test_duo_boost_raises_isolated_low_detections_far_from_every_track():
    trk = _tracker()
    dets = np.array([[*_box(1000), 0.4], [*_box(1005), 0.5], [*_box(300), 0.3], [*_box(600), 0.45],
                     [*_box(1400), 0.7]], np.float32)
    mh = np.array([[50.0], [60.0], [40.0], [CHI2_99_4DOF], [99.0]])  # detection 3 sits at the limit: not far
    trk._duo_boost(dets, mh)
    boosted = np.float32(0.6 + 1e-4)
    # 0 and 1 overlap: only the higher-scoring one; 2 is alone; 3 is not far enough; 4 is already high
    assert dets[:, 4].tolist() == [np.float32(0.4), boosted, boosted, np.float32(0.45), np.float32(0.7)]


def test_duo_boost_starts_a_track_from_a_weak_detection_from_the_second_frame():
    def run(**opts):
        trk = _tracker(**opts)
        first = trk.update(_dets([_box(100), _box(1500, y=700)], [0.9, 0.4]))
        second = trk.update(_dets([_box(100), _box(1500, y=700)], [0.9, 0.4]))
        return _ids(first), _ids(second)

    assert run() == ([1], [2, 1])  # frame 1: no DUO (and no track to be far from); frame 2: a new track
    assert run(duo_boost=False) == ([1], [1])


# -------------------------------------------------------------------------------------- association, output


def test_appearance_rescues_a_match_with_half_the_iou_threshold():
    def second_iou(emb, **opts):
        trk = _tracker(BoostTrackPlusTracker, min_hits=0, dlo_boost=False, duo_boost=False, **opts)
        trk.update(_dets([_box(100)], [0.9], [[1.0, 0.0]]))
        # IoU with the track's box (40 x 100 at x = 100) of a box shifted by 25: 15 / 65 = 0.23
        out = trk.update(_dets([_box(125)], [0.9], [emb]))
        return _ids(out)

    assert second_iou([1.0, 0.0]) == [1]  # IoU 0.23 >= 0.15 and appearance 1 >= 0.75
    assert second_iou([0.0, 1.0]) == [2]  # appearance 0: the pair is dropped, a new track starts
    assert second_iou([1.0, 0.0], with_reid=False) == [2]


def test_output_is_newest_first_with_the_state_box_and_the_track_confidence():
    trk = _tracker(min_hits=3)
    outs = [trk.update(_dets([_box(100), _box(500)], [0.9, 0.9])) for _ in range(4)]
    assert [_ids(o) for o in outs] == [[2, 1], [2, 1], [2, 1], [2, 1]]
    # written scores: 0.9 ** (7 - age) while young (age 0 at birth, then 1, 2, 3)
    assert [round(float(o.scores[0]), 12) for o in outs] == [round(0.9 ** 7, 12), round(0.9 ** 6, 12),
                                                              round(0.9 ** 5, 12), round(0.9 ** 4, 12)]
    box = outs[-1].tlbr[1]
    x = trk._x[0]
    assert box.tolist() == [x[0] - x[3] * x[2] / 2, x[1] - x[2] / 2, x[0] + x[3] * x[2] / 2, x[1] + x[2] / 2]


def test_min_det_score_and_empty_frames_follow_the_official_pipeline():
    trk = _tracker()
    trk.update(_dets([_box(100)], [0.9]))
    out = trk.update(_dets([_box(100)], [0.05]))  # below YOLOX's 0.1: never reaches the tracker
    assert len(out) == 0 and trk.frame_count == 1
    trk = _tracker(min_det_score=None, skip_empty_frames=False)
    trk.update(_dets([_box(100)], [0.9]))
    trk.update(_dets([_box(100)], [0.05]))  # now it does, and DLO lifts it to 0.65 (IoU 1)
    assert trk.frame_count == 2 and trk._tsu.tolist() == [0]


def test_camera_update_moves_the_state_box_and_leaves_velocity_and_covariance():
    trk = _tracker(cmc_method="file")
    seq = _seq()
    trk.update(_dets([_box(100)], [0.9]), Frame(seq, 1, camera_motion=np.eye(2, 3)))
    trk.update(_dets([_box(104)], [0.9]), Frame(seq, 2, camera_motion=np.eye(2, 3)))
    x0, p0 = trk._x.copy(), trk._P.copy()
    trk._camera_update(np.array([[1.0, 0.0, 30.0], [0.0, 1.0, -8.0], [0.0, 0.0, 1.0]]))
    assert trk._x[0, 0] == pytest.approx(x0[0, 0] + 30) and trk._x[0, 1] == pytest.approx(x0[0, 1] - 8)
    assert trk._x[0, 2:4] == pytest.approx(x0[0, 2:4])
    assert np.array_equal(trk._x[0, 4:], x0[0, 4:]) and np.array_equal(trk._P, p0)
    with pytest.raises(RuntimeError, match="camera_motion"):
        trk.update(_dets([_box(104)], [0.9]), Frame(seq, 3))  # no warp and no gmc_dir


def test_a_skipped_frame_passes_its_camera_motion_on():
    seq = _seq()
    shift = lambda dx: np.array([[1.0, 0.0, dx], [0.0, 1.0, 0.0]])  # noqa: E731
    a = _tracker(cmc_method="file")
    a.update(_dets([_box(100)], [0.9]), Frame(seq, 1, camera_motion=np.eye(2, 3)))
    a.update(Detections.empty(), Frame(seq, 2, camera_motion=shift(7)))
    a.update(_dets([_box(100)], [0.9]), Frame(seq, 3, camera_motion=shift(5)))
    b = _tracker(cmc_method="file")
    b.update(_dets([_box(100)], [0.9]), Frame(seq, 1, camera_motion=np.eye(2, 3)))
    b.update(_dets([_box(100)], [0.9]), Frame(seq, 3, camera_motion=shift(12)))
    assert a.frame_count == b.frame_count == 2
    np.testing.assert_allclose(a._x, b._x, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------------------- camera motion


def test_boosttrack_ecc_cache_is_read_by_the_file_method(tmp_path):
    seq = SeqInfo("MOT17-09-SDP", tmp_path, 525, 1920, 1080, 30.0, first_frame=264, last_frame=525)
    warp = [[1.0, 0.001, 3.5], [-0.001, 1.0, -2.25], [0.0, 0.0, 1.0]]
    cache = {f"MOT17-09-FRCNN:{k}-{k}": warp for k in range(2, 263)}  # BoostTrack's evaluation names -FRCNN
    (tmp_path / "MOT17-09-FRCNN.json").write_text(json.dumps(cache))
    assert cmc.gmc_file_path(tmp_path, "MOT17-09-SDP") == tmp_path / "MOT17-09-FRCNN.json"
    warps = cmc.file_warps(tmp_path, seq)
    assert sorted(warps) == list(range(264, 526))  # 262 half-val frames, the first the identity
    assert np.array_equal(warps[264], np.eye(2, 3)) and warps[300].tolist() == warp[:2]
    # a BoT-SORT file wins where both exist
    (tmp_path / "GMC-MOT17-09.txt").write_text("".join(f"{k}\t1\t0\t0\t0\t1\t0\t\n" for k in range(262)))
    assert cmc.gmc_file_path(tmp_path, "MOT17-09-SDP").name == "GMC-MOT17-09.txt"


@pytest.mark.parametrize(("content", "message"), [
    ("[1, 2]", "expected an object"),
    ('{"A:2-2": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "A:4-4": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}', "frame count 3"),
    ('{"A:2": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}', "expected '<video>:<frame>-<k>'"),
    ('{"A:2-2": [1, 0, 0]}', "3x3 matrix"),
    ("{oops", "not JSON"),
])
def test_boosttrack_ecc_cache_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "V.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        cmc.read_boosttrack_cache(path)
    assert str(err.value).startswith(f"{path}:")


def test_ecc_boosttrack_matches_the_official_ecc_cache_on_pets09(shared_data):
    """Our ECC against the warps the official code computed (its cache, OpenCV 4.8.1): bit-identical under
    the official OpenCV (checked outside the suite on all 794 pairs); OpenCV 5 estimates slightly differently."""
    import cv2

    seq = find_sequences(shared_data, "MOT15", "train", ["PETS09-S2L1"])[0]
    official = cmc.file_warps(FIXTURES, seq)
    from mot_bench.data.frames import decode_image

    prev = decode_image(seq, 1)
    for f in range(2, 12):
        cur = decode_image(seq, f)
        ours = cmc.estimate_warp("ecc_boosttrack", prev, cur)
        if cv2.__version__ == "4.8.1":
            assert np.array_equal(ours, official[f])
        else:
            np.testing.assert_allclose(ours[:, :2], official[f][:, :2], rtol=0, atol=2e-4)
            np.testing.assert_allclose(ours[:, 2], official[f][:, 2], rtol=0, atol=0.05)
        prev = cur


# ------------------------------------------------------------------------------------ the official output


def _rows(seq: SeqInfo, tracker, per_frame, warps: dict | None = None) -> list[str]:
    """Our rows in the official writer's format (frames numbered from 1 within the split)."""
    tracker.reset(seq)
    rows = []
    for k, f in enumerate(seq.frame_ids, start=1):
        out = tracker.update(per_frame(f), Frame(seq, f, camera_motion=None if warps is None else warps.get(f)))
        for box, tid, score in zip(out.tlbr, out.ids, out.scores, strict=True):
            t = [float(v) for v in box]
            rows.append(f"{k},{float(tid)},{round(t[0], 1)},{round(t[1], 1)},{round(t[2] - t[0], 1)},"
                        f"{round(t[3] - t[1], 1)},{round(float(score), 2)},-1,-1,-1")
    return rows


def _mot17_09(shared_data) -> SeqInfo:
    return find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]


def _yolox(shared_data, seq):
    det = PublicDetector(det_dir=str(shared_data.joinpath(*YOLOX)))
    det.reset(seq)
    return lambda f: det(Frame(seq, f))


_ORACLE: dict[str, dict[int, Detections]] = {}


def _oracle(tmp_path_factory):
    if "oracle" not in _ORACLE:
        path = tmp_path_factory.mktemp("oracle") / "MOT17-09-SDP.npy"
        np.save(path, np.load(ORACLE)["detections"])
        _ORACLE["oracle"] = load_npy(path)
    return lambda f: _ORACLE["oracle"].get(f, Detections.empty(32))


@pytest.mark.parametrize(("fixture", "name", "opts"), [
    ("MOT17-09-SDP-halfval.boosttrack.txt", "boosttrack", {"cmc_method": "file"}),
    ("MOT17-09-SDP-halfval.boosttrack-cmc_off.txt", "boosttrack", {"cmc_method": "none"}),
    ("MOT17-09-SDP-halfval.boosttrack-exact_name.txt", "boosttrack", {"cmc_method": "file",
                                                                       "max_age_lookup": "exact"}),
    ("MOT17-09-SDP-halfval.boosttrackpp-no_reid.txt", "boosttrackpp", {"cmc_method": "file", "with_reid": False}),
])
def test_matches_the_official_code_on_mot17_09_halfval_yolox(shared_data, fixture, name, opts):
    seq = _mot17_09(shared_data)
    if opts["cmc_method"] == "file":
        opts = {**opts, "gmc_dir": str(shared_data.joinpath(*GMC))}
    official = (FIXTURES / fixture).read_text().splitlines()
    ours = _rows(seq, TRACKERS.create(name, opts), _yolox(shared_data, seq))
    assert len(ours) == len(official) > 2000
    assert ours == official


def test_kalman_states_match_the_official_code_bit_for_bit(shared_data):
    seq = _mot17_09(shared_data)
    trk = BoostTrackTracker(cmc_method="file", gmc_dir=str(shared_data.joinpath(*GMC)))
    trk.reset(seq)
    dets = _yolox(shared_data, seq)
    states = []
    for k, f in enumerate(seq.frame_ids, start=1):
        trk.update(dets(f), Frame(seq, f))
        if k == 1 or k % 50 == 0 or f == seq.last_frame:
            for tid, x, p in zip(trk._ids, trk._x, trk._P, strict=True):
                states.append(",".join([str(k), str(int(tid) + 1), *(repr(float(v)) for v in x),
                                        *(repr(float(v)) for v in np.diag(p))]))
    official = (FIXTURES / "MOT17-09-SDP-halfval.boosttrack-states.txt").read_text().splitlines()
    assert len(states) == len(official) > 80
    assert states == official


@pytest.mark.parametrize(("fixture", "name", "opts"), [
    ("MOT17-09-SDP-halfval-oracle.boosttrackplus.txt", "boosttrackplus", {}),
    ("MOT17-09-SDP-halfval-oracle.boosttrackpp.txt", "boosttrackpp", {}),
    ("MOT17-09-SDP-halfval-oracle.boosttrackpp-thresh03.txt", "boosttrackpp", {"det_thresh": 0.3}),
])
def test_reid_variants_match_the_official_code_with_oracle_embeddings(shared_data, tmp_path_factory, fixture,
                                                                      name, opts):
    seq = _mot17_09(shared_data)
    trk = TRACKERS.create(name, {"cmc_method": "file", "gmc_dir": str(shared_data.joinpath(*GMC)), **opts})
    official = (FIXTURES / fixture).read_text().splitlines()
    ours = _rows(seq, trk, _oracle(tmp_path_factory))
    assert len(ours) == len(official) > 300
    assert ours == official


def test_matches_the_official_code_with_its_ecc_cache_on_pets09(shared_data):
    """PETS09-S2L1 (795 frames, SORT's Faster R-CNN detections): the official run computed ECC from the images
    and wrote its cache; that cache, read by the file method, gives our tracker the official rows."""
    seq = find_sequences(shared_data, "MOT15", "train", ["PETS09-S2L1"])[0]
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT15" / "SORT_FRCNN"))
    det.reset(seq)
    trk = BoostTrackTracker(cmc_method="file", gmc_dir=str(FIXTURES))
    official = (FIXTURES / "PETS09-S2L1.boosttrack.txt").read_text().splitlines()
    ours = _rows(seq, trk, lambda f: det(Frame(seq, f)))
    assert len(ours) == len(official) > 3000
    assert ours == official


# ------------------------------------------------------------------------------------------- the runner


def test_the_runner_feeds_the_official_warps_and_writes_the_trackers_rows(shared_data, tmp_path):
    """mot-bench run on MOT17-09 half-val: the runner's file warps (cached) reach the tracker; its result
    file holds exactly the rows of a direct run."""
    gmc_dir = str(shared_data.joinpath(*GMC))
    res = run(RunOptions(detector="public", tracker="boosttrack", data=str(shared_data), benchmark="MOT17",
                         split="half-val", seqs=["MOT17-09-SDP"], progress=False, evaluate=False,
                         detector_options={"det_dir": str(shared_data.joinpath(*YOLOX))},
                         tracker_options={"cmc_method": "file", "gmc_dir": gmc_dir}, out=str(tmp_path / "run"),
                         cmc_cache=str(tmp_path / "cache")))
    assert res.folder.read_config()["camera_motion"]["provided_by"] == "runner"
    assert len(list((tmp_path / "cache").rglob("MOT17-09-SDP-file-264-525-*.npy"))) == 1
    seq = _mot17_09(shared_data)
    trk = BoostTrackTracker(cmc_method="file", gmc_dir=gmc_dir)
    trk.reset(seq)
    dets = _yolox(shared_data, seq)
    direct = np.concatenate([track_rows(f, trk.update(dets(f), Frame(seq, f))) for f in seq.frame_ids])
    written = res.folder.result_path("MOT17-09-SDP").read_text()
    assert written == format_rows(direct)
    assert len(read_mot_file(res.folder.result_path("MOT17-09-SDP"), "result")) > 2000


def test_the_runner_computes_the_official_ecc_once_and_caches_it(tmp_path):
    root = tmp_path / "data"
    make_sequence(root / "MOT17" / "train", "SYN-01", length=12, width=320, height=180, seed=3)
    opts = dict(detector="public", tracker="boosttrack", data=str(root), benchmark="MOT17", progress=False,
                evaluate=False, cmc_cache=str(tmp_path / "cache"))
    res = run(RunOptions(out=str(tmp_path / "a"), **opts))
    cfg = res.folder.read_config()["camera_motion"]
    assert cfg == {"method": "ecc_boosttrack", "downscale": 1, "gmc_dir": None, "provided_by": "runner"}
    (cache,) = (tmp_path / "cache").rglob("*.npy")
    assert cache.name == "SYN-01-ecc_boosttrack-1-12-w350-r2.npy"
    seq = find_sequences(root, "MOT17", "train", ["SYN-01"])[0]
    expected = cmc.sequence_warps(seq, "ecc_boosttrack")
    assert np.array_equal(np.load(cache), expected)
    # the tracker fed by hand with those warps writes the same rows
    det = PublicDetector()
    det.reset(seq)
    trk = BoostTrackTracker()
    trk.reset(seq)
    direct = np.concatenate([track_rows(f, trk.update(det(Frame(seq, f)), Frame(seq, f, camera_motion=expected[k])))
                             for k, f in enumerate(seq.frame_ids)])
    assert res.folder.result_path("SYN-01").read_text() == format_rows(direct)
    # outside the runner, the tracker estimates the same warps from the frames it is given
    from mot_bench.data.frames import decode_image

    trk.reset(seq)
    own = np.concatenate([track_rows(f, trk.update(det(Frame(seq, f)), Frame(seq, f, decode_image(seq, f))))
                          for f in seq.frame_ids])
    assert np.array_equal(own, direct) and len(direct) > 0
