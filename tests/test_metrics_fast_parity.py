"""The fast engine equals TrackEval (our trackeval engine and TrackEval called directly) on real data,
every field, per sequence and combined, with ``==``; and reproduces the official devkit on Lif_T."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from metrics_parity import assert_identical, write_results

from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import evaluate
from mot_bench.metrics.fast import FastEvaluator
from mot_bench.runner import RunOptions, run
from mot_bench.types import SeqInfo


def both(seqs, results, benchmark=None) -> tuple[dict, dict]:
    return (evaluate(seqs, results, benchmark, engine="fast"), evaluate(seqs, results, benchmark, engine="trackeval"))


# --------------------------------------------------------------------------------------------------
# Lif_T on MOT17 train (published results)


@pytest.mark.slow  # about 2 s of CPU: parse and score 21 folders (more wall time on a loaded machine)
def test_lift_default_engine_reproduces_official_devkit(shared_data: Path) -> None:
    """The MOTChallenge devkit's Lif_T totals on the 21 MOT17 train folders (FP, FN, IDs, MT, PT, ML, FM).

    Source: py-motmetrics issue 126 (https://github.com/cheind/py-motmetrics/issues/126, "Difference between
    official MOTChallenge code and this (with examples)", J. Luiten, 2020-09-17), the "MOTCha" row: these
    Lif_T files (its Lif_T.zip, kept on that repository's branch ``issue126``, see ../shared/data/PROVENANCE.md,
    source PYMM-126) scored by the official devkit (dendorferpatrick/MOTChallengeEvalKit): FP 2655,
    FN 107803, MT 679, PT 595, ML 364, FM 1153, IDSW 791, and in percent, as printed there, MOTA 66.98,
    MOTP 89.09, IDF1 72.35, IDP 88.77, IDR 61.06, Rcll 68, Prcn 98.85."""
    seqs = find_sequences(shared_data, "MOT17", "train")
    c = evaluate(seqs, shared_data / "trackers" / "MOT17" / "Lif_T")["combined"]
    assert (c["CLR_FP"], c["CLR_FN"], c["IDSW"], c["MT"], c["PT"], c["ML"], c["Frag"]) == (
        2655, 107803, 791, 679, 595, 364, 1153)
    printed = {k: round(100 * c[k], 2) for k in ("MOTA", "MOTP", "IDF1", "IDP", "IDR", "CLR_Re", "CLR_Pr")}
    assert printed == {"MOTA": 66.98, "MOTP": 89.09, "IDF1": 72.35, "IDP": 88.77, "IDR": 61.06, "CLR_Re": 68.0,
                       "CLR_Pr": 98.85}


@pytest.mark.slow
def test_lift_half_val_equal(shared_data: Path) -> None:
    """Second halves (frames N//2+2..N, renumbered) of 7 MOT17 folders: sub-ranges of gt and results."""
    names = [f"MOT17-{n}-SDP" for n in ("02", "04", "05", "09", "10", "11", "13")]
    seqs = find_sequences(shared_data, "MOT17", "half-val", names)
    assert all(s.first_frame > 1 for s in seqs)
    fast, ref = both(seqs, shared_data / "trackers" / "MOT17" / "Lif_T")
    assert_identical(fast, ref)


def test_cem_tud_equal(shared_data: Path) -> None:
    seqs = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus", "TUD-Stadtmitte"])
    fast, ref = both(seqs, shared_data / "trackers" / "MOT15" / "CEM")
    assert assert_identical(fast, ref) > 100


def test_mot20_detections_as_tracks_equal(shared_data: Path, tmp_path: Path) -> None:
    """MOT20-01 (crowded; non_mot_vehicle is a distractor) with YOLOX boxes as a tracker without memory:
    the detection index of a frame is its id, so ids are reused every frame."""
    det = np.loadtxt(shared_data / "detections" / "MOT20" / "YOLOX_X_UCMCTrack" / "MOT20-01.txt", delimiter=",")
    det = det[det[:, 6] >= 0.3]
    write_results(tmp_path / "MOT20-01.txt", det)
    seqs = find_sequences(shared_data, "MOT20", "train", ["MOT20-01"])
    fast, ref = both(seqs, tmp_path)
    assert fast["benchmark"] == "MOT20"
    assert_identical(fast, ref)


# --------------------------------------------------------------------------------------------------
# the project's own trackers, run through the runner


def _run(shared_data: Path, out: Path, bench: str, tracker: str, names: list[str], split: str = "train",
         det_dir: Path | None = None) -> Path:
    opts = RunOptions(detector="public", tracker=tracker, data=str(shared_data), benchmark=bench, split=split,
                      seqs=names, detector_options={"det_dir": str(det_dir)} if det_dir else {},
                      out=str(out), evaluate=False, progress=False, warmup_frames=0)
    return run(opts).folder.results_dir


@pytest.mark.slow
@pytest.mark.parametrize("tracker", ["sort", "bytetrack"])
def test_runner_mot15_equal(shared_data: Path, tmp_path: Path, tracker: str) -> None:
    names = ["ETH-Sunnyday", "KITTI-17", "PETS09-S2L1", "TUD-Campus", "TUD-Stadtmitte"]
    results = _run(shared_data, tmp_path / tracker, "MOT15", tracker, names,
                   det_dir=shared_data / "detections" / "MOT15" / "SORT_FRCNN")
    seqs = find_sequences(shared_data, "MOT15", "train", names)
    fast, ref = both(seqs, results, "MOT15")
    assert fast["combined"]["CLR_TP"] > 1000
    assert_identical(fast, ref)


@pytest.mark.slow
@pytest.mark.parametrize("tracker", ["sort", "bytetrack"])
def test_runner_mot16_equal(shared_data: Path, tmp_path: Path, tracker: str) -> None:
    """MOT16 public (DPM) detections; MOT16-09 whole, MOT16-05 and MOT16-11 second halves."""
    results = _run(shared_data, tmp_path / tracker, "MOT16", tracker, ["MOT16-05", "MOT16-09", "MOT16-11"])
    seqs = find_sequences(shared_data, "MOT16", "train", ["MOT16-09"])
    fast, ref = both(seqs, results)
    assert_identical(fast, ref)
    halves = find_sequences(shared_data, "MOT16", "half-val", ["MOT16-05", "MOT16-11"])
    fast, ref = both(halves, results)
    assert_identical(fast, ref)


@pytest.mark.slow
def test_runner_mot20_half_val_sort_equal(shared_data: Path, tmp_path: Path) -> None:
    results = _run(shared_data, tmp_path / "sort", "MOT20", "sort", ["MOT20-01"], split="half-val",
                   det_dir=shared_data / "detections" / "MOT20" / "YOLOX_X_UCMCTrack")
    seqs = find_sequences(shared_data, "MOT20", "half-val", ["MOT20-01"])
    fast, ref = both(seqs, results)
    assert fast["combined"]["IDSW"] > 0
    assert_identical(fast, ref)


# --------------------------------------------------------------------------------------------------
# the reusable evaluator (a tuner's loop): gt parsed once, results from memory


def test_fast_evaluator_scores_arrays_like_files(shared_data: Path) -> None:
    names = ["MOT17-05-FRCNN", "MOT17-09-SDP"]
    seqs = find_sequences(shared_data, "MOT17", "train", names)
    lift = shared_data / "trackers" / "MOT17" / "Lif_T"
    ev = FastEvaluator(seqs, "MOT17")
    rows = {n: np.loadtxt(lift / f"{n}.txt", delimiter=",") for n in names}
    from_files = evaluate(seqs, lift, engine="trackeval")
    assert_identical(ev.score(rows), from_files)
    assert_identical(ev.score_dir(lift), from_files)
    worse = {n: r[r[:, 1] % 3 != 0] for n, r in rows.items()}  # a different result set, same evaluator
    assert ev.score(worse)["combined"]["CLR_FN"] > from_files["combined"]["CLR_FN"]
    with FastEvaluator(seqs, "MOT17", workers=2) as ev2:
        assert_identical(ev2.score(worse), ev.score(worse))
        assert_identical(ev2.score(rows), from_files)  # the same worker pool again


@pytest.mark.parametrize("first_tie", [False, True])
def test_clear_keeps_a_match_through_the_bonus_where_the_best_iou_changes(tmp_path: Path, first_tie: bool) -> None:
    """One tracker box between two gt boxes. Alternating: their IoUs with it swap order every frame; each
    frame alone is settled by its best IoU, but CLEAR's +1000 for continuing the previous match must win.
    First tie: an exact tie in frame 1 (the solver's tie-breaking decides), the second gt box better in
    every later frame: the match made in frame 1 must carry on. Both exactly as TrackEval."""
    (tmp_path / "S-01" / "gt").mkdir(parents=True)
    gt, res = [], []
    for f in range(1, 21):
        gt += [f"{f},1,0,0,100,100,1,1,1\n", f"{f},2,10,0,100,100,1,1,1\n"]
        x = (5 if f == 1 else 6) if first_tie else 5 + (1 if f % 2 else -1)
        res.append(f"{f},7,{x},0,100,100,1,-1,-1,-1\n")
    (tmp_path / "S-01" / "gt" / "gt.txt").write_text("".join(gt), encoding="utf-8")
    write_results(tmp_path / "res" / "S-01.txt", np.loadtxt(res, delimiter=",", ndmin=2))
    seq = SeqInfo("S-01", tmp_path / "S-01", 20, 640, 480, 30.0)
    fast, ref = both([seq], tmp_path / "res", "MOT17")
    assert_identical(fast, ref)
    assert fast["combined"]["IDSW"] == 0 and fast["combined"]["CLR_TP"] == 20
