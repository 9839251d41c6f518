"""SportsMOT and DanceTrack on trees in exactly their formats: found, read, run and scored equal to TrackEval
configured as each benchmark's own evaluation configures it (fast == trackeval engine == the kit, every
field, per sequence and COMBINED); what they legitimately contain is accepted, the rest refused in one line."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from benchmark_trees import (
    dancetrack_tree,
    result_text,
    sportsmot_tree,
    tracker_output,
    write_images,
)
from click.testing import CliRunner
from metrics_parity import assert_identical

from mot_bench.cli import main
from mot_bench.data.gt import infer_benchmark, pedestrian_rows
from mot_bench.data.sequences import DataError, find_sequences
from mot_bench.metrics import evaluate

REPO = Path(__file__).resolve().parents[1]


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_sportsmot", REPO / "benchmarks" / "bench_sportsmot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KIT = _bench_module()


def _results(folder: Path, gts: dict[str, np.ndarray], lengths: dict[str, int], size, seed: int,
             styles=("comma", "comma-space", "space")) -> None:
    """One tracker output per sequence (0-based ids), each sequence in the next of ``styles``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for k, (name, gt) in enumerate(gts.items()):
        rows = tracker_output(rng, gt, lengths[name], size, first_id=0)
        (folder / f"{name}.txt").write_text(result_text(rows, styles[k % len(styles)]), encoding="utf-8")


def _kit_scores(bench: str, gt_root: Path, results: Path, work: Path) -> dict:
    """TrackEval run as the benchmark's official evaluation runs it, on the tree, with our result files put
    where that evaluation looks for them."""
    run = KIT.kit_run(bench, gt_root, work)
    dest = Path(run["results_dir"])
    dest.mkdir(parents=True)
    for f in results.glob("*.txt"):
        (dest / f.name).write_bytes(f.read_bytes())
    return KIT.run_trackeval(run)


def _assert_kit_equal(ours: dict, kit: dict) -> None:
    checked, diffs = KIT.compare(ours, kit)
    assert not diffs, diffs[:5]
    assert checked > 50 * len(kit)  # 56 per sequence (each alpha list counted once)


def test_sportsmot_kit_tree_scored_as_its_kit(tmp_path: Path) -> None:
    rng = np.random.default_rng(23)
    split_dir, gts = sportsmot_tree(tmp_path, rng, [90, 120, 75])
    seqs = find_sequences(tmp_path / "data" / "ref", "SportsMOT", "val")
    assert [s.name for s in seqs] == sorted(gts) and all(s.fps == 25 and s.width == 1280 for s in seqs)
    assert all(s.path.parent == split_dir for s in seqs)
    assert min(gt[:, 1].min() for gt in gts.values()) == 0  # ids from 0, as the dataset's
    results = tmp_path / "res"
    _results(results, gts, {s.name: s.length for s in seqs}, (1280, 720), seed=1)
    fast = evaluate(seqs, results, "SportsMOT", engine="fast")
    ref = evaluate(seqs, results, "SportsMOT", engine="trackeval")
    assert fast["benchmark"] == "SportsMOT"
    assert_identical(fast, ref)
    _assert_kit_equal(fast, _kit_scores("SportsMOT", tmp_path / "data" / "ref", results, tmp_path / "kit"))
    assert 0.3 < fast["combined"]["HOTA"] < 0.95 and fast["combined"]["IDSW"] > 0  # a real test, not a trivial one


@pytest.mark.parametrize("separator", [", ", ","])
def test_dancetrack_tree_scored_as_its_kit(tmp_path: Path, separator: str) -> None:
    rng = np.random.default_rng(4)
    _, gts = dancetrack_tree(tmp_path, rng, [80, 110], separator=separator)
    seqs = find_sequences(tmp_path, "DanceTrack", "val")
    assert [s.name for s in seqs] == ["dancetrack0004", "dancetrack0005"] and all(s.fps == 20 for s in seqs)
    results = tmp_path / "res"
    _results(results, gts, {s.name: s.length for s in seqs}, (1920, 1080), seed=2)
    fast = evaluate(seqs, results, "DanceTrack", engine="fast")
    assert_identical(fast, evaluate(seqs, results, "DanceTrack", engine="trackeval"))
    _assert_kit_equal(fast, _kit_scores("DanceTrack", tmp_path / "dancetrack", results, tmp_path / "kit"))


def test_sportsmot_release_layout_and_inference(tmp_path: Path) -> None:
    """The released dataset (dataset/<split>/, no TrackEval seqmap) is found from its root or from dataset/;
    sequences named as SportsMOT's are scored by SportsMOT's rules without --benchmark."""
    rng = np.random.default_rng(5)
    _, gts = sportsmot_tree(tmp_path, rng, [40, 50], split="train", layout="release")
    for root in (tmp_path, tmp_path / "dataset"):
        seqs = find_sequences(root, "SportsMOT", "train")
        assert [s.name for s in seqs] == sorted(gts)
    assert {infer_benchmark(s) for s in seqs} == {"SportsMOT"}
    seq = seqs[0]
    assert len(pedestrian_rows(seq)) == len(gts[seq.name]) == len(pedestrian_rows(seq, "SportsMOT"))
    results = tmp_path / "res"
    _results(results, gts, {s.name: s.length for s in seqs}, (1280, 720), seed=3)
    assert evaluate(seqs, results)["benchmark"] == "SportsMOT"


def test_cli_eval_and_run_oracle_end_to_end(tmp_path: Path) -> None:
    """`mot-bench run --benchmark SportsMOT --detector oracle` on a user's copy: found, run, scored; then
    `mot-bench eval --compare-engines` on its results."""
    rng = np.random.default_rng(9)
    sportsmot_tree(tmp_path, rng, [30, 40])
    ref = tmp_path / "data" / "ref"
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["run", "--data", str(ref), "--benchmark", "sportsmot", "--split", "val",
                                    "--detector", "oracle", "--detector-opt", "jitter=0.03", "--detector-opt",
                                    "miss_rate=0.1", "--tracker", "sort", "--tracker", "bytetrack", "--out", str(out),
                                    "--no-progress", "--warmup", "0"])
    assert res.exit_code == 0, res.output
    for tracker in ("sort", "bytetrack"):
        metrics = json.loads((out / tracker / "metrics.json").read_text())
        config = json.loads((out / tracker / "config.json").read_text())
        assert metrics["benchmark"] == "SportsMOT" and config["data"]["benchmark"] == "SportsMOT"
        assert config["data"]["split"] == "val" and len(config["data"]["sequences"]) == 2
        assert 0.5 < metrics["combined"]["HOTA"] < 1
    res = CliRunner().invoke(main, ["eval", "--gt-root", str(ref), "--benchmark", "SportsMOT", "--split", "val",
                                    "--results", str(out / "sort" / "results"), "--compare-engines"])
    assert res.exit_code == 0, res.output
    inferred = CliRunner().invoke(main, ["eval", "--gt-root", str(ref / "sportsmot-val"), "--split", "val",
                                         "--results", str(out / "sort" / "results"),
                                         "--json", str(tmp_path / "m.json")])
    assert inferred.exit_code == 0, inferred.output
    assert json.loads((tmp_path / "m.json").read_text())["benchmark"] == "SportsMOT"


def test_dancetrack_images_named_with_eight_digits(tmp_path: Path) -> None:
    from mot_bench.data.validate import InputCheckError, check_images

    _, gts = dancetrack_tree(tmp_path, np.random.default_rng(1), [6])
    seq = find_sequences(tmp_path, "DanceTrack", "val")[0]
    assert seq.image_path(3).name == "00000003.jpg"
    with pytest.raises(InputCheckError, match="00000001-6|no image for frame"):
        check_images(seq)
    write_images(seq.path, 6, digits=8, size=(1920, 1080))
    check_images(seq)


# --------------------------------------------------------------------------------------------------
# what these datasets legitimately contain is accepted; the rest is refused in one line


def test_seqmaps_read_as_the_kits_read_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    split_dir, gts = sportsmot_tree(tmp_path, rng, [20, 20, 20])
    ref = tmp_path / "data" / "ref"
    seqmap = ref / "seqmaps" / "sportsmot-val.txt"
    names = sorted(gts)
    seqmap.write_text("name\n" + "\n".join(names[:2]), encoding="utf-8")  # a folder the kit would not score
    assert [s.name for s in find_sequences(ref, "SportsMOT", "val")] == names[:2]
    seqmap.write_text("\n".join(names), encoding="utf-8")  # no header: the kit would skip the first sequence
    with pytest.raises(DataError, match=rf"sportsmot-val.txt:1: .*{names[0]}.*'name'"):
        find_sequences(ref, "SportsMOT", "val")
    seqmap.write_text("name\n" + "\n".join([*names, "v_missingXXXX_c001"]), encoding="utf-8")
    with pytest.raises(DataError, match=r"sportsmot-val.txt:5: .*v_missingXXXX_c001"):
        find_sequences(ref, "SportsMOT", "val")
    assert [s.name for s in find_sequences(ref, "SportsMOT", "val", names[1:2])] == names[1:2]


def test_the_strict_reader_on_these_formats(tmp_path: Path) -> None:
    from mot_bench.data.gt import read_gt
    from mot_bench.data.mottext import MOTFormatError

    rng = np.random.default_rng(3)
    split_dir, gts = sportsmot_tree(tmp_path, rng, [30])
    seq = find_sequences(tmp_path / "data" / "ref", "SportsMOT", "val")[0]
    text = read_gt(seq)
    assert text.num_cols == 9 and text.rows[:, 1].min() == 0 and (text.rows[:, 6:9] == 1).all()
    gt_file = seq.gt_path
    lines = gt_file.read_text().splitlines()
    for bad, pattern in ((lines[0] + ", 1", "10 columns, but earlier lines have 9"),
                         ("1, -3, 10, 10, 5, 5, 1, 1, 1", "id"),
                         ("31, 2, 10, 10, 5, 5, 1, 1, 1", "seqLength=30"),
                         ("1, 2, 10, 10, nan, 5, 1, 1, 1", "not a number")):
        gt_file.write_text("\n".join([lines[0], bad, *lines[1:]]) + "\n", encoding="utf-8")
        with pytest.raises(MOTFormatError, match=rf"gt.txt:2: .*({pattern})"):
            read_gt(seq)
    with pytest.raises(DataError, match="unknown split 'half-val' for SportsMOT"):
        find_sequences(tmp_path / "data" / "ref", "SportsMOT", "half-val")
