"""Scoring events (mot_bench.metrics.explain) add up to the kit's own fields: CLEAR counts per kind, IDF1's
IDTP per identity, HOTA's true positives per threshold; on Lif_T (21 MOT17 folders), on ByteTrack run on
MOT15 through the runner (against TrackEval itself) and on random sequences with distractors and ties."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_parity import grid_sequence, random_sequence, write_results

from mot_bench.cli import main
from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import evaluate
from mot_bench.metrics.explain import (
    ALPHA_TAGS,
    KIND_FIELDS,
    explain_results,
    is_current,
    read_explanation,
    table_paths,
    write_explanations,
)
from mot_bench.runner import RunOptions, run

LIFT_FIELDS = ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "Frag")


def assert_adds_up(expl, kit: dict) -> None:
    """Every identity of the events' tables against one sequence's kit fields."""
    assert expl.counts() == {f: kit[f] for f in KIND_FIELDS.values()}
    ids = expl.identities
    assert int(ids["matched"].sum()) == kit["CLR_TP"] and int(ids["fn"].sum()) == kit["CLR_FN"]
    assert int(ids["idsw"].sum()) == kit["IDSW"] and int(ids["frag"].sum()) == kit["Frag"]
    assert int(ids["idtp"].sum()) == kit["IDTP"]
    assert ids["idf1_share"].sum() == pytest.approx(kit["IDF1"], abs=1e-12)
    assert int(ids["frames"].sum()) == kit["CLR_TP"] + kit["CLR_FN"]
    fr = expl.frames
    for col, field in (("clr_tp", "CLR_TP"), ("idsw", "IDSW"), ("frag", "Frag"), ("idtp", "IDTP")):
        assert int(fr[col].sum()) == kit[field], col
    assert int(fr["gt"].sum()) == kit["CLR_TP"] + kit["CLR_FN"]
    assert int(fr["pred"].sum()) == kit["CLR_TP"] + kit["CLR_FP"]
    assert [int(fr[f"hota_tp_{t}"].sum()) for t in ALPHA_TAGS] == kit["HOTA_TP_alpha"]
    tp = np.maximum(1, np.array(kit["HOTA_TP_alpha"], dtype=float))
    ass = np.array([fr[f"hota_ass_{t}"].sum() for t in ALPHA_TAGS]) / tp
    np.testing.assert_allclose(ass, kit["AssA_alpha"], rtol=0, atol=1e-12)
    # one event per scored box: a gt box is a TP or an FN, a tracker box a TP or an FP
    ev = expl.events
    boxes = ev[ev["kind"].isin(["TP", "FN"])]
    assert not boxes.duplicated(["frame", "gt_id"]).any()
    preds = ev[ev["kind"].isin(["TP", "FP"])]
    assert not preds.duplicated(["frame", "pred_id"]).any()
    tp_ev = ev[ev["kind"] == "TP"]
    assert (tp_ev["iou"] >= 0.5 - 1e-12).all() and (ev[ev["kind"] == "FN"]["iou"] < 1).all()
    # a switch or a fragmentation sits on a TP of the same frame and gt id
    keys = set(zip(tp_ev["frame"], tp_ev["gt_id"], tp_ev["pred_id"], strict=True))
    for kind in ("IDSW", "FRAG"):
        sub = ev[ev["kind"] == kind]
        assert set(zip(sub["frame"], sub["gt_id"], sub["pred_id"], strict=True)) <= keys


@pytest.mark.slow  # 21 folders, about 2 s of CPU
def test_lift_events_add_up_to_the_kit(shared_data: Path) -> None:
    seqs = find_sequences(shared_data, "MOT17", "train")
    lift = shared_data / "trackers" / "MOT17" / "Lif_T"
    explained = explain_results(seqs, lift)
    kit = evaluate(seqs, lift)
    assert len(explained) == 21
    for seq in seqs:
        assert_adds_up(explained[seq.name], kit["per_sequence"][seq.name])
    totals = {f: sum(e.counts()[f] for e in explained.values()) for f in LIFT_FIELDS}
    assert totals == {f: kit["combined"][f] for f in LIFT_FIELDS}
    assert (totals["CLR_FP"], totals["CLR_FN"], totals["IDSW"], totals["Frag"]) == (2655, 107803, 791, 1153)  # devkit


@pytest.mark.slow
def test_runner_bytetrack_mot15_events_equal_trackeval(shared_data: Path, tmp_path: Path) -> None:
    """``run --events`` on MOT15 (ByteTrack, SORT's Faster R-CNN boxes): events against TrackEval itself."""
    names = ["ETH-Sunnyday", "KITTI-17", "PETS09-S2L1", "TUD-Campus", "TUD-Stadtmitte"]
    res = run(RunOptions(detector="public", tracker="bytetrack", data=str(shared_data), benchmark="MOT15",
                         seqs=names, detector_options={"det_dir": str(shared_data / "detections" / "MOT15" /
                                                                      "SORT_FRCNN")},
                         tracker_options={"bytetrack": {"preset": "demo"}}, out=str(tmp_path / "bt"),
                         progress=False, warmup_frames=0, events=True))
    kit = evaluate(res.sequences, res.folder.results_dir, "MOT15", engine="trackeval")
    assert kit["combined"]["IDSW"] > 0 and kit["combined"]["Frag"] > 0
    for name in names:
        assert is_current(res.folder.events_dir, name, res.folder.result_path(name))
        assert_adds_up(read_explanation(res.folder.events_dir, name), kit["per_sequence"][name])


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), benchmark=st.sampled_from(["MOT15", "MOT17", "MOT20"]),
       grid=st.booleans())
def test_random_sequences_add_up_to_trackeval(seed: int, benchmark: str, grid: bool) -> None:
    """Distractor classes, zero-marked rows, id reuse, exact duplicates and ties (the grid: equal IoUs
    everywhere), against TrackEval itself."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make = grid_sequence if grid else random_sequence
        args = (rng, root, f"{benchmark}-01", benchmark, int(rng.integers(3, 30)))
        seq, trk = make(*args) if grid else make(*args, float(rng.uniform(0, 1)))
        write_results(root / "res" / f"{seq.name}.txt", trk)
        kit = evaluate([seq], root / "res", benchmark, engine="trackeval")["per_sequence"][seq.name]
        assert_adds_up(explain_results([seq], root / "res", benchmark)[seq.name], kit)


def test_no_tracker_boxes_are_all_misses(shared_data: Path, tmp_path: Path) -> None:
    seqs = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus"])
    (tmp_path / "TUD-Campus.txt").write_text("", encoding="utf-8")
    expl = explain_results(seqs, tmp_path)["TUD-Campus"]
    kit = evaluate(seqs, tmp_path)["per_sequence"]["TUD-Campus"]
    assert expl.counts() == {"CLR_TP": 0, "CLR_FN": kit["CLR_FN"], "CLR_FP": 0, "IDSW": 0, "Frag": 0}
    assert (expl.identities["fn"] == expl.identities["frames"]).all() and (expl.identities["pred_ids"] == "").all()


def test_written_tables_read_back_and_know_their_results(shared_data: Path, tmp_path: Path) -> None:
    seqs = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus"])
    cem = shared_data / "trackers" / "MOT15" / "CEM"
    results = tmp_path / "results"
    results.mkdir()
    (results / "TUD-Campus.txt").write_bytes((cem / "TUD-Campus.txt").read_bytes())
    expl = explain_results(seqs, results)
    write_explanations(tmp_path / "events", expl)
    first = {k: p.read_bytes() for k, p in table_paths(tmp_path / "events", "TUD-Campus").items()}
    write_explanations(tmp_path / "events", explain_results(seqs, results))
    assert first == {k: p.read_bytes() for k, p in table_paths(tmp_path / "events", "TUD-Campus").items()}
    back = read_explanation(tmp_path / "events", "TUD-Campus")
    src = expl["TUD-Campus"]
    for name in ("events", "identities", "frames"):
        a, b = getattr(src, name), getattr(back, name)
        assert list(a.columns) == list(b.columns)
        for col in a.columns:
            if a[col].dtype.kind == "f":
                np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())  # floats exactly (repr)
            else:
                assert list(a[col].astype(str)) == list(b[col].astype(str)), col
    # CEM on TUD-Campus: the MOTChallenge devkit's published counts (py-motmetrics README)
    assert (back.counts()["CLR_FP"], back.counts()["CLR_FN"], back.counts()["IDSW"]) == (13, 150, 7)
    assert is_current(tmp_path / "events", "TUD-Campus", results / "TUD-Campus.txt")
    with open(results / "TUD-Campus.txt", "a", encoding="utf-8") as fh:
        fh.write("1,999,1,1,5,5,1,-1,-1,-1\n")
    assert not is_current(tmp_path / "events", "TUD-Campus", results / "TUD-Campus.txt")


def test_eval_events_writes_into_the_run_folder(shared_data: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "results").mkdir(parents=True)
    (run_dir / "config.json").write_text("{}", encoding="utf-8")
    (run_dir / "results" / "TUD-Campus.txt").write_bytes(
        (shared_data / "trackers" / "MOT15" / "CEM" / "TUD-Campus.txt").read_bytes())
    gt_root = str(shared_data / "MOT15" / "train" / "TUD-Campus")
    res = CliRunner().invoke(main, ["eval", "--gt-root", gt_root, "--results", str(run_dir / "results"), "--events"])
    assert res.exit_code == 0, res.output
    assert read_explanation(run_dir / "events", "TUD-Campus").counts()["IDSW"] == 7
    # a results folder outside a run folder needs --events-dir
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "TUD-Campus.txt").write_bytes((run_dir / "results" / "TUD-Campus.txt").read_bytes())
    res = CliRunner().invoke(main, ["eval", "--gt-root", gt_root, "--results", str(tmp_path / "loose"), "--events"])
    assert res.exit_code == 2 and "--events-dir" in res.output
    res = CliRunner().invoke(main, ["eval", "--gt-root", gt_root, "--results", str(tmp_path / "loose"),
                                    "--events-dir", str(tmp_path / "ev")])
    assert res.exit_code == 0 and (tmp_path / "ev" / "TUD-Campus.json").is_file()
