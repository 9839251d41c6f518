"""Hybrid-SORT and Hybrid-SORT-ReID: each unusual rule of the official code on hand-built frames, and the
official trackers' own output on MOT17-09 half-val reproduced row for row (tests/fixtures/hybridsort)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.precomputed import PrecomputedDetector
from mot_bench.detectors.public import PublicDetector
from mot_bench.options import search_space
from mot_bench.registry import TRACKERS
from mot_bench.trackers.common.association import hmiou_batch, iou_batch
from mot_bench.trackers.common.ocsort_core import virtual_measurements
from mot_bench.trackers.hybridsort import (
    HybridSORT,
    HybridSORTReID,
    _corner_velocities,
    _tlbr_to_z,
    _unit,
)
from mot_bench.types import Detections, Frame, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "hybridsort"


def _seq() -> SeqInfo:
    return SeqInfo("synthetic", ".", 100, 1920, 1080, 30.0)


def _dets(*boxes_scores, emb: list | None = None) -> Detections:
    if not boxes_scores:
        return Detections.empty()
    return Detections([b for b, _ in boxes_scores], [s for _, s in boxes_scores],
                      None if emb is None else np.asarray(emb, dtype=np.float32))


def _box(x: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def _tracker(cls=HybridSORT, **opts):
    trk = cls(**opts)
    trk.reset(_seq())
    return trk


def test_defaults_are_the_mot17_val_exp_settings():
    cfg = HybridSORT().config()
    assert cfg == {
        "name": "hybridsort", "preset": "mot17", "det_thresh": 0.6, "low_thresh": 0.1, "iou_threshold": 0.25,
        "asso_func": "hmiou", "delta_t": 3, "inertia": 0.05, "max_age": 30, "min_hits": 3, "use_byte": True,
        "tcm_first_step": True, "tcm_first_step_weight": 1.0, "tcm_byte_step": True, "tcm_byte_step_weight": 1.0,
        "min_box_area": 100.0, "aspect_ratio_thresh": 1.6, "skip_empty_frames": True,
    }
    reid = HybridSORTReID().config()
    assert {k: v for k, v in reid.items() if k not in cfg} == {
        "appearance_weight": 1.3, "appearance_weight_low": 1.2, "appearance_gate": True,
        "appearance_gate_thresh": 0.4, "appearance_gate_thresh_low": 0.4, "ema_alpha": 0.8,
    }
    assert set(search_space(HybridSORT)) <= set(cfg)
    assert {"appearance_weight", "appearance_weight_low"} <= set(search_space(HybridSORTReID))
    assert HybridSORT.motion_only and not HybridSORT.needs_embeddings
    assert HybridSORTReID.needs_embeddings and not HybridSORTReID.motion_only


def test_registry_presets_and_bad_values():
    trk = TRACKERS.create("hybridsort", {"preset": "dancetrack_test", "asso_func": "iou"})
    cfg = trk.config()
    assert cfg["iou_threshold"] == 0.15 and cfg["aspect_ratio_thresh"] is None
    assert cfg["tcm_first_step_weight"] == 1.5 and cfg["asso_func"] == "iou"
    reid = TRACKERS.create("hybridsort_reid", {"preset": "dancetrack_val", "iou_threshold": "0.2"}).config()
    assert reid["appearance_weight"] == 4.0 and reid["appearance_gate"] is False and reid["iou_threshold"] == 0.2
    with pytest.raises(ValueError, match="asso_func"):
        HybridSORT(asso_func="giou")
    with pytest.raises(ValueError, match="tcm_first_step"):
        HybridSORTReID(tcm_first_step=False)
    with pytest.raises(ValueError, match="tcm_byte_step"):
        HybridSORTReID(tcm_byte_step=False)
    HybridSORTReID(tcm_byte_step=False, use_byte=False)  # no BYTE round, nothing to fail
    with pytest.raises(ValueError, match="embeddings"):
        _tracker(HybridSORTReID).update(_dets((_box(100), 0.9)))


def test_height_modulated_iou():
    """IoU times vertical overlap / vertical extent: boxes stacked half-way give 1/3 * 1/3."""
    a = np.array([[0.0, 0.0, 10.0, 20.0]])
    b = np.array([[0.0, 10.0, 10.0, 30.0], [0.0, 0.0, 10.0, 20.0], [20.0, 0.0, 30.0, 20.0]])
    hm = hmiou_batch(a, b)[0]
    assert hm[0] == pytest.approx(1 / 9) and hm[1] == 1.0 and hm[2] == 0.0
    side = np.array([[5.0, 0.0, 15.0, 20.0]])  # same rows: the ratio is 1, hmiou == IoU
    assert hmiou_batch(a, side)[0, 0] == iou_batch(a, side)[0, 0]


def test_measurement_uses_numpy1_scalar_promotion():
    """Upstream converts each float32 box with numpy scalars under numpy 1: w, h and the area in float32,
    x + w/2 and w / (h + 1e-6) in float64, the score widened."""
    row = np.array([[1131.3, 396.9, 1262.2, 738.4, 0.87]], dtype=np.float32)
    z = _tlbr_to_z(row)[0, :, 0]
    w, h = row[0, 2] - row[0, 0], row[0, 3] - row[0, 1]  # float32
    assert z.dtype == np.float64
    assert z[0] == np.float64(row[0, 0]) + np.float64(w) / 2.0
    assert z[1] == np.float64(row[0, 1]) + np.float64(h) / 2.0
    assert z[2] == np.float64(w * h) and z[3] == np.float64(row[0, 4])
    assert z[4] == np.float64(w) / (np.float64(h) + 1e-6)
    assert z[4] != np.float64(w / (h + np.float32(1e-6)))  # numpy 2's float32 arithmetic would differ


def test_corner_velocity_norm_in_float64_then_float32_division():
    """The unit vector of each corner: float32 differences, the norm sqrt(dy^2 + dx^2) + 1e-6 in float64
    (numpy 1 scalars), the float32 vector divided by it in float32."""
    prev = np.array([[[300.0, 500.0, 340.0, 600.0, 0.9]]], dtype=np.float32)
    new = np.array([[300.5, 500.3, 340.5, 600.3, 0.9]], dtype=np.float32)
    got = _corner_velocities(new, prev, np.array([[True]]))[0]
    float32_route = []
    for c, (ix, iy) in enumerate(((0, 1), (0, 3), (2, 1), (2, 3))):
        dy, dx = new[0, iy] - prev[0, 0, iy], new[0, ix] - prev[0, 0, ix]
        norm = np.float32(np.sqrt(np.float64(dy) ** 2 + np.float64(dx) ** 2) + 1e-6)
        assert np.array_equal(got[c], np.array([dy, dx], dtype=np.float32) / norm)
        float32_route.append(np.array([dy, dx], dtype=np.float32) / (np.sqrt(dy * dy + dx * dx) + np.float32(1e-6)))
    assert not np.array_equal(np.stack(float32_route), got)  # the rule matters on this box


def test_velocity_is_the_sum_of_unit_vectors_over_delta_t():
    """A track moving 10 px right per frame: after observations 1, 2 and 3 frames back exist, each corner's
    velocity is the sum of three unit vectors (length 3, not renormalised)."""
    trk = _tracker()
    for i in range(3):
        trk.update(_dets((_box(100 + 10 * i), 0.9)))
    assert np.allclose(trk.tracks[0].velocity, [[0, 1]] * 4)  # one previous observation (birth is none)
    trk.update(_dets((_box(130), 0.9)))
    assert np.allclose(trk.tracks[0].velocity, [[0, 2]] * 4)
    trk.update(_dets((_box(140), 0.9)))
    assert np.allclose(trk.tracks[0].velocity, [[0, 3]] * 4)
    assert trk.tracks[0].velocity.dtype == np.float32


def test_confidence_is_a_kalman_state_and_tcm_scores_are_clipped():
    """The filter tracks the detection score as its 4th state; the first round compares detections with it
    clipped to [det_thresh, 1], the BYTE round with 2 s_t - s_(t-1) (float32, widened) clipped to
    [0.1, det_thresh], or with the last score alone after a miss."""
    trk = _tracker()
    for s in (0.95, 0.9, 0.8):
        trk.update(_dets((_box(100), s)))
    x = trk._x[0, :, 0].copy()
    assert 0.8 < x[3] < 0.95 and x[8] < 0  # confidence falling, its velocity negative
    trks = trk._predict()
    assert trks[0, 4] == np.clip(x[3] + x[8], 0.6, 1.0)
    assert trks[0, 5] == 0.6  # 0.8 - (0.9 - 0.8) = 0.7, clipped to det_thresh

    trk = _tracker()
    for s in (0.9, 0.65, 0.62):
        trk.update(_dets((_box(100), s)))
    assert trk._predict()[0, 5] == np.float64(np.float32(0.62) - (np.float32(0.65) - np.float32(0.62)))

    trk = _tracker()
    trk.update(_dets((_box(100), 0.9)))
    trk.update(_dets((_box(100), 0.5)))  # a BYTE-round match
    assert trk.tracks[0].confidence == np.float32(0.5) and trk.tracks[0].confidence_pre == np.float32(0.9)
    trk.update(_dets((_box(900), 0.9)))  # missed: the extrapolation restarts from the last score
    assert trk.tracks[0].confidence_pre is None
    assert trk._predict()[0, 5] == np.float64(np.float32(0.5))


def test_tcm_first_round_prefers_the_box_whose_score_matches_the_track():
    """Two boxes overlap the prediction of a confident track; the one with the lower score overlaps a little
    more. Without TCM the overlap decides, with TCM (|c - score| subtracted) the confident box wins."""
    chosen = {}
    for tcm in (True, False):
        trk = _tracker(tcm_first_step=tcm, inertia=0.0)
        for _ in range(4):
            trk.update(_dets((_box(100), 0.95)))
        close, far = _box(103), _box(106)
        out = trk.update(_dets((close, 0.65), (far, 0.95)))
        chosen[tcm] = out.tlbr[list(out.ids).index(1)][0]
    assert chosen[False] == np.float32(103) and chosen[True] == np.float32(106)


def test_byte_round_judges_pairs_after_tcm():
    """BYTE round: each pair's "not below the threshold" test is made after TCM: a low box with hmiou 0.3
    (> 0.25) whose score is 0.2 away from the track's extrapolated score ends at 0.1 and is dropped; without
    TCM it is taken."""
    for tcm, taken in ((True, False), (False, True)):
        trk = _tracker(tcm_byte_step=tcm)
        for _ in range(4):
            trk.update(_dets((_box(100), 0.9), (_box(900), 0.9)))
        low_box = (100.0, 100.0, 140.0, 100.0 + 100.0 * 0.3**0.5)  # same columns: hmiou = (h'/h)^2 = 0.3
        sim = hmiou_batch(np.array([low_box]), np.array([_box(100)]))[0, 0]
        assert 0.29 < sim < 0.31 and trk.tracks[0].confidence == np.float32(0.9)  # extrapolated: 0.9 -> 0.6
        out = trk.update(_dets((low_box, 0.4), (_box(900), 0.9)))
        assert (1 in out.ids) is taken


def test_unmatched_tracks_are_sorted_after_the_byte_round():
    """Upstream removes the BYTE round's matches with ``np.setdiff1d``, which sorts the unmatched tracks, and
    that order is the recovery round's column order: with two tracks tied there, it decides which one takes
    the box. Twin tracks (same boxes, scores 0.9 and 0.8) move down 25 px per frame; then a high box behind
    them (too far from the predictions, close to the last observations) and a low box the TCM rejects. Round
    1 leaves the tracks unmatched in the order [1, 0]; after the BYTE round they are [0, 1], and the recovery
    round gives the box to id 2, as the official code does on these frames (checked with its tracker)."""
    trk = _tracker()
    for i in range(8):
        y = 100.0 + 25 * i
        trk.update(_dets(((300.0, y, 340.0, y + 100.0), 0.9), ((300.0, y, 340.0, y + 100.0), 0.8)))
    behind = (300.0, 260.0, 340.0, 360.0)
    short_low = (300.0, 300.0, 340.0, 300.0 + 100.0 * 0.3**0.5)
    out = trk.update(_dets((behind, 0.9), (short_low, 0.3)))
    assert list(out.ids) == [2] and np.array_equal(out.tlbr[0], np.float32(behind).astype(np.float64))


def test_oru_interpolates_the_confidence_too():
    """Virtual boxes of the re-update after a gap: (x, y, w, h) linear as OC-SORT, and the confidence."""
    start = np.array([[100.0], [200.0], [4000.0], [0.9], [0.4]])
    end = np.array([[130.0], [200.0], [4900.0], [0.6], [0.4]])
    boxes = virtual_measurements(start, end, 3)
    assert len(boxes) == 3 and all(b.shape == (5, 1) for b in boxes)
    assert [round(float(b[3, 0]), 12) for b in boxes] == [0.8, 0.7, 0.6]
    assert [float(b[0, 0]) for b in boxes] == [110.0, 120.0, 130.0]
    four = virtual_measurements(start[[0, 1, 2, 4]], end[[0, 1, 2, 4]], 3)
    assert all(b.shape == (4, 1) for b in four) and [float(b[0, 0]) for b in four] == [110.0, 120.0, 130.0]


def test_frames_without_a_box_above_test_conf_are_skipped():
    """The evaluator only calls the tracker when YOLOX kept a box (score >= 0.1): a frame of 0.05 boxes does
    not advance the tracker; with skip_empty_frames=false it does."""
    for skip, frames in ((True, 2), (False, 3)):
        trk = _tracker(skip_empty_frames=skip)
        trk.update(_dets((_box(100), 0.9)))
        trk.update(_dets((_box(500), 0.05)))
        trk.update(_dets((_box(100), 0.9)))
        assert trk.frame_count == frames and trk.tracks[0].age == frames - 1


def test_evaluator_filter_and_output_rule():
    wide = (100.0, 100.0, 300.0, 200.0)  # w/h = 2 > 1.6
    tiny = (500.0, 100.0, 508.0, 112.0)  # area 96 <= 100
    for opts, expected in (({}, [1]), ({"aspect_ratio_thresh": None}, [1, 2]), ({"min_box_area": 0.0}, [1, 3])):
        out = _tracker(**opts).update(_dets((_box(700), 0.9), (wide, 0.9), (tiny, 0.9)))
        assert sorted(out.ids) == expected, opts
    trk = _tracker()  # born in frame 1: written from the Kalman state; once observed, the detection itself
    a = _box(100)
    first = trk.update(_dets((a, 0.9)))
    assert not np.array_equal(first.tlbr[0], np.float32(a)) and np.allclose(first.tlbr[0], a, atol=1e-3)
    assert np.array_equal(trk.update(_dets((a, 0.9))).tlbr[0], np.float32(a).astype(np.float64))


def test_reid_feature_is_normalised_twice_at_birth_then_smoothed_in_round_one_only():
    trk = _tracker(HybridSORTReID)
    e1, e2, e3 = np.array([0.1, 0.3, 2.1]), np.array([1.0, 0.0, 0.2]), np.array([0.2, 0.3, 2.0])
    trk.update(_dets((_box(100), 0.9), emb=[e1]))
    f = trk.tracks[0].feature
    e1n = np.float32(e1).astype(np.float64)
    assert np.array_equal(f, _unit(_unit(e1n))) and not np.array_equal(f, _unit(e1n))  # twice differs here
    trk.update(_dets((_box(100), 0.9), emb=[e2]))
    expected = _unit(0.8 * f + (1 - 0.8) * _unit(np.float32(e2).astype(np.float64)))
    assert np.array_equal(trk.tracks[0].feature, expected)
    trk.update(_dets((_box(100), 0.4), emb=[e3]))  # a BYTE-round match: the feature stays
    assert trk.tracks[0].time_since_update == 0 and np.array_equal(trk.tracks[0].feature, expected)


def test_reid_gate_keeps_a_distant_box_with_a_close_appearance():
    """Round 1 of the re-ID tracker always runs the solver; a pair is dropped only when the appearance is far
    (d > 0.4) and the overlap low. A box that jumped away (no overlap) with the same embedding stays on the
    track; with the gate off the overlap alone decides and a new track starts."""
    for gate, same_track in ((True, True), (False, False)):
        trk = _tracker(HybridSORTReID, appearance_gate=gate)
        for _ in range(4):
            trk.update(_dets((_box(100), 0.9), emb=[[1.0, 0.0]]))
        out = trk.update(_dets((_box(600), 0.9), emb=[[1.0, 0.05]]))
        assert (list(out.ids) == [1]) is same_track and len(trk.tracks) == (1 if same_track else 2)


def _halfval(shared_data, name: str):
    seq = find_sequences(shared_data, "MOT17", "half-val", [name])[0]
    det = PublicDetector(det_dir=str(shared_data / "detections" / "MOT17" / "YOLOX_X_ablation"))
    return seq, det


def _rows_and_states(trk, seq, frames: dict) -> tuple[np.ndarray, np.ndarray]:
    trk.reset(seq)
    rows, states = [], []
    for k, f in enumerate(seq.frame_ids, start=1):
        out = trk.update(frames(f), Frame(seq, f))
        for box, tid in zip(out.tlbr, out.ids, strict=True):
            rows.append([k, tid, box[0], box[1], box[2] - box[0], box[3] - box[1]])
        if k == 1 or k % 10 == 0 or f == seq.last_frame:
            states += [[k, t.id + 1, *trk._x[i, :, 0]] for i, t in enumerate(trk.tracks)]
    return np.array(rows), np.array(states)


def _assert_same_rows(ours: np.ndarray, ref: np.ndarray) -> None:
    """Same rows in the same order, the same ids, boxes within the 0.1 px rounding of the official writer."""
    assert ours.shape[0] == ref.shape[0]
    assert np.array_equal(ours[:, :2], ref[:, :2])
    np.testing.assert_allclose(ours[:, 2:6], ref[:, 2:6], rtol=0, atol=0.05 + 1e-6)


def test_matches_the_official_code_on_mot17_09_halfval(shared_data):
    """The official tracker's output (tests/fixtures/hybridsort/PROVENANCE.md), row for row, and every live
    track's 9-d Kalman state at frames 1, 10, 20, ... and the last bit for bit."""
    seq, det = _halfval(shared_data, "MOT17-09-SDP")
    assert (seq.first_frame, seq.last_frame) == (264, 525)
    det.reset(seq)
    ours, states = _rows_and_states(TRACKERS.create("hybridsort"), seq, lambda f: det(Frame(seq, f)))
    ref = np.loadtxt(FIXTURES / "MOT17-09-SDP-halfval.txt", delimiter=",", ndmin=2)
    assert ref.shape[0] == 2396
    _assert_same_rows(ours, ref)
    ref_states = np.loadtxt(FIXTURES / "MOT17-09-SDP-halfval-states.txt", delimiter=",", ndmin=2)
    assert np.array_equal(states, ref_states)


def test_reid_matches_the_official_code_on_oracle_mot17_09(shared_data, tmp_path):
    """Hybrid-SORT-ReID on oracle boxes with embeddings from the MOT17-09 trajectories (the DeepSORT fixture's
    input, read by the precomputed detector), against the official tracker's output, row for row."""
    seq = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-09-SDP"])[0]
    npz = np.load(Path(__file__).parent / "fixtures" / "deepsort" / "MOT17-09-SDP-halfval-oracle.npz")
    np.save(tmp_path / f"{seq.name}.npy", npz["detections"])
    det = PrecomputedDetector(det_dir=str(tmp_path))
    det.reset(seq)
    ours, _ = _rows_and_states(TRACKERS.create("hybridsort_reid"), seq, lambda f: det(Frame(seq, f)))
    ref = np.loadtxt(FIXTURES / "MOT17-09-SDP-halfval-oracle-reid.txt", delimiter=",", ndmin=2)
    assert ref.shape[0] == 1773
    _assert_same_rows(ours, ref)


def test_the_tuner_searches_the_declared_ranges(tmp_path, shared_data):
    """`mot-bench tune --tracker hybridsort`: trial 0 runs the defaults, the others draw every declared option
    inside its range, and the best configuration is written as a usable tracker config."""
    from mot_bench.tune import TuneOptions, tune

    out = tmp_path / "study"
    summary = tune(TuneOptions(tracker="hybridsort", out=str(out), data=str(shared_data), benchmark="MOT17",
                               split="half-val", seqs=["MOT17-05-SDP"],
                               detector_options={"det_dir": str(shared_data / "detections" / "MOT17" /
                                                                 "YOLOX_X_ablation")},
                               trials=2, sampler="random", seed=5, confirm=False))
    space = search_space(HybridSORT)
    assert set(summary["space"]) == set(space)
    with open(out / "trials.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and all(r["state"] == "COMPLETE" for r in rows)
    assert float(rows[0]["det_thresh"]) == 0.6 and float(rows[0]["inertia"]) == 0.05  # trial 0: the defaults
    for row in rows[1:]:
        for name, (low, high) in space.items():
            assert low <= float(row[name]) <= high, name
    best = json.loads((out / "best.json").read_text())
    assert best["tracker"] == "hybridsort" and TRACKERS.create("hybridsort", best["options"])
