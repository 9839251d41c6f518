"""DeepSORT: the official rules on hand-built frames, and row-for-row equality with the official code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_bench.trackers.common.appearance import nms_order
from mot_bench.trackers.deepsort import DeepSortTracker
from mot_bench.types import Detections, SeqInfo

FIXTURES = Path(__file__).parent / "fixtures" / "deepsort"


def _emb(*ids: int, dim: int = 8) -> np.ndarray:
    out = np.zeros((len(ids), dim), np.float32)
    for row, i in enumerate(ids):
        out[row, i % dim] = 1.0
    return out


def _dets(boxes: list[tuple[float, float, float, float]], ids: list[int], scores: list[float] | None = None):
    tlbr = np.array([(x, y, x + w, y + h) for x, y, w, h in boxes], np.float64).reshape(-1, 4)
    return Detections(tlbr, np.array(scores or [0.9] * len(boxes), np.float64), _emb(*ids))


def _seq() -> SeqInfo:
    return SeqInfo("syn", ".", 100, 1920, 1080, 30.0)


def test_confirmation_after_n_init_and_tentative_deleted_at_first_miss() -> None:
    trk = DeepSortTracker(min_confidence=0.0)
    trk.reset(_seq())
    box = [(100.0, 100.0, 40.0, 100.0)]
    assert len(trk.update(_dets(box, [1]))) == 0
    assert len(trk.update(_dets(box, [1]))) == 0
    out = trk.update(_dets(box, [1]))
    assert list(out.ids) == [1]  # confirmed at the third hit (n_init 3)
    trk.update(_dets(box + [(600.0, 100.0, 40.0, 100.0)], [1, 2]))  # track 2 is born tentative
    trk.update(_dets(box, [1]))  # ... and missed once: deleted
    assert [t.track_id for t in trk.tracks] == [1]


def test_just_missed_track_is_written_with_its_predicted_box_then_hidden() -> None:
    trk = DeepSortTracker(min_confidence=0.0)
    trk.reset(_seq())
    for i in range(4):
        out = trk.update(_dets([(100.0 + 5 * i, 100.0, 40.0, 100.0)], [1]))
    missed = trk.update(_dets([], []))
    assert list(missed.ids) == [1]
    assert missed.tlbr[0, 0] > out.tlbr[0, 0]  # moved on by the Kalman velocity
    assert len(trk.update(_dets([], []))) == 0  # time_since_update 2: not written


def test_min_confidence_is_inclusive_and_nms_order_decides_ids() -> None:
    trk = DeepSortTracker(min_confidence=0.5, n_init=1)
    trk.reset(_seq())
    dets = _dets([(100.0, 100.0, 40.0, 100.0), (600.0, 100.0, 40.0, 100.0), (900.0, 100.0, 40.0, 100.0)], [1, 2, 3],
                 [0.5, 0.9, 0.4999])
    trk.update(dets)
    by_x = {round(t.tlwh()[0]): t.track_id for t in trk.tracks}
    assert by_x == {600: 1, 100: 2}  # 0.5 kept (>=), 0.4999 dropped; the higher score gets the lower id
    assert nms_order(np.array([[0, 0, 10, 10], [0, 0, 10, 10.0]]), np.array([0.5, 0.5]), 1.0) == \
        [int(i) for i in np.argsort(np.array([0.5, 0.5]))[::-1]]


def test_gating_rejects_an_appearance_match_far_away() -> None:
    trk = DeepSortTracker(min_confidence=0.0, n_init=1, max_iou_distance=0.7)
    trk.reset(_seq())
    trk.update(_dets([(100.0, 100.0, 40.0, 100.0)], [1]))
    trk.update(_dets([(102.0, 100.0, 40.0, 100.0)], [1]))
    out = trk.update(_dets([(1500.0, 100.0, 40.0, 100.0)], [1]))  # same feature, but far beyond the gate
    assert list(out.ids) == [1] and out.tlbr[0, 0] < 200  # track 1 missed: its predicted box, not the far one
    assert [(t.track_id, t.time_since_update) for t in trk.tracks] == [(1, 1), (2, 0)]  # a new track there


def test_cascade_prefers_the_recently_seen_track() -> None:
    """A detection equally like two confirmed tracks goes to the one seen last frame (cascade level 1),
    although a single assignment would break the tie toward the older track (row 0)."""
    trk = DeepSortTracker(min_confidence=0.0, n_init=1, max_cosine_distance=0.5)
    trk.reset(_seq())
    for _ in range(2):  # both confirmed at their second hit
        trk.update(_dets([(100.0, 100.0, 40.0, 100.0), (104.0, 100.0, 40.0, 100.0)], [1, 2], [0.9, 0.8]))
    trk.update(_dets([(104.0, 100.0, 40.0, 100.0)], [2]))  # track 1 missed once
    both = Detections(np.array([[102.0, 100.0, 142.0, 200.0]]), np.array([0.9]),
                      np.array([[0, 1.0, 1.0, 0, 0, 0, 0, 0]], np.float32) / np.sqrt(2))
    trk.update(both)
    assert [(t.track_id, t.time_since_update) for t in trk.tracks] == [(1, 2), (2, 0)]


def test_budget_keeps_the_last_features() -> None:
    trk = DeepSortTracker(min_confidence=0.0, n_init=1, nn_budget=2)
    trk.reset(_seq())
    for _ in range(5):
        trk.update(_dets([(100.0, 100.0, 40.0, 100.0)], [1]))
    assert len(trk.samples[1]) == 2
    unlimited = DeepSortTracker(min_confidence=0.0, n_init=1)
    unlimited.reset(_seq())
    for _ in range(5):
        unlimited.update(_dets([(100.0, 100.0, 40.0, 100.0)], [1]))
    assert len(unlimited.samples[1]) == 5


def test_motchallenge_preset_and_bad_preset() -> None:
    trk = DeepSortTracker(preset="motchallenge")
    assert (trk.min_confidence, trk.nn_budget) == (0.3, 100)
    assert (DeepSortTracker().min_confidence, DeepSortTracker().nn_budget) == (0.8, None)
    with pytest.raises(ValueError, match="preset"):
        DeepSortTracker(preset="paper")


@pytest.mark.parametrize("preset", ["app", "motchallenge"])
def test_rows_equal_the_official_code_on_mot17_09_half_val(shared_data, tmp_path, preset) -> None:
    """Oracle detections + embeddings on MOT17-09 half-val through the precomputed detector and the runner:
    the result file is byte-identical to the official deep_sort output (same rows in the same order: frames,
    ids, boxes as printed by the app's writer)."""
    from mot_bench.runner import RunOptions, run

    arr = np.load(FIXTURES / "MOT17-09-SDP-halfval-oracle.npz")["detections"]
    np.save(tmp_path / "MOT17-09-SDP.npy", arr)
    run(RunOptions(detector="precomputed", detector_options={"det_dir": str(tmp_path)}, tracker="deepsort",
                   tracker_options={"preset": preset}, data=str(shared_data), benchmark="MOT17", split="half-val",
                   seqs=["MOT17-09-SDP"], out=str(tmp_path / "run"), progress=False, evaluate=False))
    ours = (tmp_path / "run" / "results" / "MOT17-09-SDP.txt").read_bytes()
    official = (FIXTURES / f"MOT17-09-SDP-halfval.{preset}.txt").read_bytes()
    assert ours.splitlines() == official.splitlines()  # (on failure pytest names the first differing row)
    assert ours == official
