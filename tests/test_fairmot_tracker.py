"""FairMOT's JDE tracker: embeddings re-identify lost tracks on real MOT17-09 trajectories (gt boxes
as detections, synthetic per-identity embeddings), and the official update rules on crafted frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.motfile import read_mot_file, write_mot_file
from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import evaluate
from mot_bench.registry import TRACKERS
from mot_bench.trackers.fairmot import FairMOTTracker
from mot_bench.types import Detections, Frame, SeqInfo


def _run_gt(seq: SeqInfo, gt: np.ndarray, mode: str) -> np.ndarray:
    """Track gt boxes (each identity hidden 12 frames in every 60, staggered, so tracks go lost and
    can only come back through step 1, the embedding association)."""
    ids = np.unique(gt[:, 1]).astype(int)
    base = np.random.default_rng(0).normal(size=(len(ids), 128))
    base = dict(zip(ids, base / np.linalg.norm(base, axis=1, keepdims=True), strict=True))
    rng = np.random.default_rng(1)
    trk = FairMOTTracker()
    trk.reset(seq)
    rows = []
    for f in seq.frame_ids:
        g = gt[gt[:, 0] == f]
        g = g[((f + 13 * g[:, 1].astype(int)) % 60) >= 12]
        tlbr = g[:, 2:6].copy()
        tlbr[:, 2:] += tlbr[:, :2]
        emb = np.stack([base[int(i)] for i in g[:, 1]]) if len(g) else np.zeros((0, 128))
        emb = emb + rng.normal(scale=0.1 / np.sqrt(128), size=emb.shape)
        if mode == "shuffled":
            emb = emb[rng.permutation(len(emb))]
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        out = trk.update(Detections(tlbr, np.ones(len(g)), emb.astype(np.float32)), Frame(seq, f))
        for b, i, s in zip(out.tlbr, out.ids, out.scores, strict=True):
            rows.append([f, i, b[0], b[1], b[2] - b[0], b[3] - b[1], s, -1, -1, -1])
    return np.asarray(rows).reshape(-1, 10)


@pytest.mark.slow
def test_embeddings_reidentify_on_real_trajectories(shared_data, tmp_path):
    seq = find_sequences(shared_data, "MOT17", "train", ["MOT17-09-FRCNN"])[0]
    seq.last_frame = 150
    gt = read_mot_file(seq.gt_path, "gt")
    gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1) & (gt[:, 0] <= seq.last_frame)]
    idsw = {}
    for mode in ("clean", "shuffled"):
        rows = _run_gt(seq, gt, mode)
        if mode == "clean":
            assert np.array_equal(rows, _run_gt(seq, gt, mode))  # deterministic
        folder = tmp_path / mode
        folder.mkdir()
        write_mot_file(folder / f"{seq.name}.txt", rows)
        m = evaluate([seq], folder, benchmark="MOT17", metrics=("CLEAR", "Identity"))["combined"]
        idsw[mode] = m["IDSW"]
        if mode == "clean":
            assert m["MOTA"] > 0.7 and m["IDF1"] > 0.8, m
            assert len(np.unique(rows[:, 1])) <= len(np.unique(gt[:, 1])) + 1
    assert idsw["clean"] <= 2
    assert idsw["shuffled"] >= 10 and idsw["shuffled"] >= 5 * max(idsw["clean"], 1)


def _dets(boxes, feats, scores=None) -> Detections:
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    scores = np.ones(len(boxes)) if scores is None else scores
    return Detections(boxes, scores, np.asarray(feats, np.float32).reshape(len(boxes), -1 if len(boxes) else 4))


def _seq() -> SeqInfo:
    return SeqInfo("synthetic", ".", 100, 1920, 1080, 30.0)


def test_lost_track_comes_back_only_with_a_matching_embedding():
    a, b = np.eye(4)[0], np.eye(4)[1]
    for feat, expected in ((a, 1), (b, 2)):
        trk = FairMOTTracker()
        trk.reset(_seq())
        for i in range(4):
            out = trk.update(_dets([100 + 3 * i, 100, 150 + 3 * i, 250], a))
            assert list(out.ids) == [1]
        for _ in range(5):
            assert len(trk.update(_dets(np.zeros((0, 4)), np.zeros((0, 4))))) == 0
        trk.update(_dets([127, 100, 177, 250], feat))  # where the motion model expects it
        out = trk.update(_dets([130, 100, 180, 250], feat))
        assert list(out.ids) == [expected]


def test_feature_smoothing_and_conf_threshold():
    trk = FairMOTTracker()
    trk.reset(_seq())
    f1 = np.array([1.0, 0.0, 0.0])
    f2 = np.array([0.8, 0.6, 0.0])
    trk.update(_dets([[100, 100, 150, 250], [400, 100, 450, 250]], [f1, f1], np.array([0.9, 0.4])))
    assert [t.track_id for t in trk.tracked_stracks] == [1]  # score 0.4 is not > conf_thres 0.4
    trk.update(_dets([100, 100, 150, 250], f2))
    smooth = 0.9 * f1 + 0.1 * f2
    np.testing.assert_allclose(trk.tracked_stracks[0].smooth_feat, smooth / np.linalg.norm(smooth), rtol=1e-6)


def test_requires_embeddings_with_a_clear_error():
    trk = TRACKERS.create("fairmot", {"conf_thres": "0.5"})
    assert trk.needs_embeddings and not trk.motion_only
    assert trk.config() == {
        "name": "fairmot", "conf_thres": 0.5, "track_buffer": 30, "min_box_area": 100.0,
        "aspect_ratio_thresh": 1.6, "frame_rate": None, "association": "reid_kalman",
    }
    trk.reset(_seq())
    with pytest.raises(ValueError, match="no embeddings.*'fairmot'.*'precomputed'"):
        trk.update(Detections(np.array([[0, 0, 10, 30]]), np.array([0.9])))


def _accelerating_walker(association: str) -> tuple[set[int], list[np.ndarray], list[np.ndarray]]:
    """One person (20x60 px) walking right, 1 px per frame faster each frame up to 10 px per frame: consecutive boxes
    overlap at IoU < 0.5 from 7 px per frame on, which only a motion model bridges. Returns (ids, reported boxes,
    detections)."""
    seq = SeqInfo(name="WALK", path=Path("WALK"), length=24, width=640, height=200, fps=30.0)
    trk = TRACKERS.create("fairmot", {"association": association})
    trk.reset(seq)
    ids, reported, given, x, v = set(), [], [], 10.0, 2.0
    emb = np.ones((1, 8), np.float32) / np.sqrt(8)
    for f in seq.frame_ids:
        tlbr = np.array([[x, 50.0, x + 20.0, 110.0]])
        out = trk.update(Detections(tlbr, np.array([0.9]), emb), Frame(seq, f))
        ids |= set(out.ids.tolist())
        reported.append(out.tlbr)
        given.append(tlbr)
        x, v = x + v, min(v + 1.0, 10.0)
    return ids, reported, given


def test_association_ablation_modes():
    """iou: no motion model (a track is where its last detection was, and a fast walker breaks into pieces);
    iou_kalman: the Kalman prediction bridges the same walker; reid_kalman (official) too."""
    ids_iou, reported, given = _accelerating_walker("iou")
    assert len(ids_iou) > 3
    for out, det in zip(reported[1:], given[1:], strict=True):
        if len(out):
            np.testing.assert_allclose(out, det.astype(np.float32), atol=1e-3)  # the state is the detection
    ids_kf, reported_kf, given_kf = _accelerating_walker("iou_kalman")
    assert len(ids_kf) == 1
    assert len(_accelerating_walker("reid_kalman")[0]) == 1
    assert any(len(o) and not np.allclose(o, d, atol=1) for o, d in zip(reported_kf, given_kf, strict=True))
    with pytest.raises(ValueError, match="association"):
        TRACKERS.create("fairmot", {"association": "appearance"})
