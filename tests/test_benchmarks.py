"""Benchmark declarations (mot_bench.data.benchmarks): each round-trips the data it describes, and its class
rule is TrackEval's for the BENCHMARK and DO_PREPROC its official evaluation passes."""

from __future__ import annotations

import configparser
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from metrics_parity import assert_identical, random_sequence, write_results

from mot_bench.cli import main
from mot_bench.data.benchmarks import BENCHMARKS, DECLARATIONS, MOT_DISTRACTORS, SPLITS, BenchmarkError, get_benchmark
from mot_bench.data.gt import infer_benchmark, pedestrian_rows
from mot_bench.data.sequences import DataError, find_sequences, half_range
from mot_bench.metrics import evaluate

REPO = Path(__file__).resolve().parents[1]
MOT = ["MOT15", "MOT16", "MOT17", "MOT20"]


def _kit():
    spec = importlib.util.spec_from_file_location("bench_sportsmot", REPO / "benchmarks" / "bench_sportsmot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", MOT)
def test_mot_declarations_round_trip_the_shared_data(shared_data: Path, name: str) -> None:
    """Every public split finds the folder's sequences with their seqinfo, the split's frames, the
    benchmark inferred back from each sequence, and the gt rows TrackEval scores."""
    decl = get_benchmark(name)
    names = sorted(p.name for p in (shared_data / name / "train").iterdir())
    for split in (s for s in decl.splits if s.public_gt):
        seqs = find_sequences(shared_data, name, split.name)
        assert [s.name for s in seqs] == names
        for seq in seqs:
            ini = configparser.ConfigParser()
            ini.read(seq.path / "seqinfo.ini")
            assert seq.length == int(ini["Sequence"]["seqLength"]) and seq.fps == float(ini["Sequence"]["frameRate"])
            assert (seq.first_frame, seq.last_frame) == split.frame_range(seq.length) == half_range(seq.length,
                                                                                                    split.name)
            assert seq.benchmark == name and infer_benchmark(seq) == name
            assert infer_benchmark(find_sequences(shared_data / name / "train", None, "train", [seq.name])[0]) == name
    seq = min(find_sequences(shared_data, name, "train"), key=lambda s: s.gt_path.stat().st_size)
    gt = np.loadtxt(seq.gt_path, delimiter=",")
    keep = gt[:, 6].astype(int) != 0
    if decl.class_rule:
        keep &= gt[:, 7] == 1
    assert decl.class_rule is (name != "MOT15")
    np.testing.assert_array_equal(pedestrian_rows(seq)[:, :6], gt[keep][:, :6])


@pytest.mark.parametrize("name", MOT)
def test_trackevals_own_layout_and_seqmap(shared_data: Path, tmp_path: Path, name: str) -> None:
    """``<root>/<BENCH>-train/`` with ``<root>/seqmaps/<BENCH>-train.txt`` (TrackEval's data layout, its own
    seqmaps): the seqmap's sequences; MOT20's lists three whose gt is not here, refused as the kit refuses."""
    split = tmp_path / f"{name}-train"
    split.mkdir()
    for seq in (shared_data / name / "train").iterdir():
        (split / seq.name).symlink_to(seq)
    (tmp_path / "seqmaps").mkdir()
    seqmap = (shared_data / "seqmaps" / f"{name}-train.txt").read_text()
    (tmp_path / "seqmaps" / f"{name}-train.txt").write_text(seqmap)
    listed = [line.strip() for line in seqmap.splitlines()[1:] if line.strip()]
    present = sorted(p.name for p in split.iterdir())
    if sorted(listed) == present:
        assert [s.name for s in find_sequences(tmp_path, name, "half-val")] == present
    else:
        missing = next(n for n in listed if n not in present)
        with pytest.raises(DataError, match=rf"seqmaps/{name}-train.txt:\d+: .*{missing}"):
            find_sequences(tmp_path, name, "train")
        assert [s.name for s in find_sequences(tmp_path, name, "train", present)] == present


@pytest.mark.parametrize("name", BENCHMARKS)
def test_class_rule_is_trackevals_for_the_official_settings(tmp_path: Path, name: str) -> None:
    """Every class 1..13, consider flags 0/1, crowds: the fast engine and the trackeval engine with the
    declaration equal TrackEval run with the BENCHMARK and DO_PREPROC the official evaluation passes."""
    decl = get_benchmark(name)
    rng = np.random.default_rng(len(name))
    seqs = []
    for k in range(3):
        seq, rows = random_sequence(rng, tmp_path, f"seq{k}", "MOT15" if not decl.gt_has_classes else "MOT17", 50,
                                    crowd=0.8)
        write_results(tmp_path / "res" / f"{seq.name}.txt", rows)
        seqs.append(seq)
    fast = evaluate(seqs, tmp_path / "res", name, engine="fast")
    assert fast["benchmark"] == name
    assert_identical(fast, evaluate(seqs, tmp_path / "res", name, engine="trackeval"))
    kit = _kit()
    run = {"eval": {**kit.QUIET_EVAL, "USE_PARALLEL": False},
           "dataset": {"BENCHMARK": decl.kit_benchmark, "DO_PREPROC": decl.do_preproc,
                       "GT_FOLDER": str(tmp_path / "gt"),
                       "TRACKERS_FOLDER": str(tmp_path), "TRACKERS_TO_EVAL": ["res"], "TRACKER_SUB_FOLDER": "",
                       "SKIP_SPLIT_FOL": True, "SEQ_INFO": {s.name: s.length for s in seqs}, "PRINT_CONFIG": False},
           "metrics": {"METRICS": ["HOTA", "CLEAR", "Identity"], "PRINT_CONFIG": False}}
    checked, diffs = kit.compare(fast, kit.run_trackeval(run))
    assert not diffs and checked > 50 * 4, diffs[:5]
    expected = MOT_DISTRACTORS + (("non_mot_vehicle",) if decl.kit_benchmark == "MOT20" else ())
    assert decl.distractors == (expected if decl.class_rule else ())


def test_names_aliases_and_splits() -> None:
    assert BENCHMARKS == ("MOT15", "MOT16", "MOT17", "MOT20", "SportsMOT", "DanceTrack")
    assert get_benchmark("sportsmot") is DECLARATIONS["SportsMOT"] and get_benchmark("2DMOT2015").name == "MOT15"
    with pytest.raises(BenchmarkError, match="unknown benchmark 'MOT18'; expected one of MOT15, MOT16"):
        get_benchmark("MOT18")
    assert SPLITS == ("train", "test", "half-train", "half-val", "val")
    assert get_benchmark("DanceTrack").split_names == ("train", "val", "test")
    for decl in DECLARATIONS.values():
        assert decl.sources, decl.name  # every setting says where it was read
    assert all(":" in s for b in ("SportsMOT", "DanceTrack") for s in get_benchmark(b).sources)


def test_cli_lists_benchmarks_and_refuses_a_split_they_lack(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["list", "benchmarks"])
    assert out.exit_code == 0, out.output
    for name in BENCHMARKS:
        assert name in out.output
    assert "evalutate.sh:6" in out.output and "README.md:89" in out.output
    res = CliRunner().invoke(main, ["eval", "--gt-root", str(tmp_path), "--benchmark", "DanceTrack", "--split",
                                    "half-val", "--results", str(tmp_path)])
    assert res.exit_code == 2 and "unknown split 'half-val' for DanceTrack; its splits: train, val, test" in res.output
