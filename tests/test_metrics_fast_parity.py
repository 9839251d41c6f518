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
