"""``mot-bench ablate`` on a tiny two-axis grid: trains what is needed once, runs, scores, compares."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mot_bench.data.synthetic import make_sequence
from mot_bench.sweep import all_axes, expand, load_config


def _config(tmp_path: Path, root: Path, **top: str) -> Path:
    cfg = {
        "out": str(tmp_path / "abl"),
        **top,
        "base": {"datasets": [{"root": str(root)}], "arch": "dla_tiny", "head_conv": 8, "reid_dim": 8, "dcn": "fast",
                 "input_w": 128, "input_h": 64, "batch_size": 4, "num_epochs": 1, "lr": 1e-3, "num_workers": 0,
                 "threads": 1, "progress": False, "tracker": "fairmot",
                 "tracker_options": {"fairmot": {"track_buffer": 10}, "sort": {"max_age": 5}}},
        "axes": {"head": ["anchor_free", "anchor_based"], "tracker": ["fairmot", "sort"]},
        "eval": {"data": str(root), "split": "train"},
    }
    path = tmp_path / "ablate.json"
    path.write_text(json.dumps(cfg))
    return path


def test_expand_picks_base_and_grid(tmp_path) -> None:
    cfg = {"base": {"head": "anchor_based", "reid_dim": 64}, "axes": {"head": ["anchor_free", "anchor_based"],
                                                                     "reid_dim": [32, 128]}, "eval": {}}
    variants, base = expand(cfg)
    assert len(variants) == 4
    assert variants[base]["axes"] == {"head": "anchor_based", "reid_dim": 32}  # 64 not on the axis -> first


def test_bad_config_names_the_file(tmp_path) -> None:
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"base": {}, "axes": {"heads": ["x"]}, "eval": {}}))
    with pytest.raises(ValueError, match="a.json: unknown option"):
        load_config(p)


@pytest.mark.slow
def test_ablate_two_axis_grid_writes_comparison(tmp_path) -> None:
    root = tmp_path / "data"
    make_sequence(root, "SYN-01", length=8, width=128, height=64, num_people=3)
    from mot_bench.cli import main

    res = CliRunner().invoke(main, ["ablate", str(_config(tmp_path, root))], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = tmp_path / "abl"
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 4 and {"head", "tracker", "MOTA", "MOTA_delta", "IDF1"} <= set(table.columns)
    assert table["MOTA_delta"].isna().sum() == 1  # only the base has no delta
    base_row = table[table["MOTA_delta"].isna()].iloc[0]
    for _, row in table.iterrows():  # every number is the one its run folder scored
        scored = json.loads((out / "runs" / Path(row["run"]).name / "metrics.json").read_text())["combined"]
        for metric in ("MOTA", "IDF1", "HOTA"):
            assert row[metric] == pytest.approx(scored[metric], abs=1e-12)
            assert 0.0 <= scored["HOTA"] <= 1.0 and scored["CLR_TP"] + scored["CLR_FN"] == 24  # 8 frames x 3 people
        if not pd.isna(row["MOTA_delta"]):
            assert row["MOTA_delta"] == pytest.approx(row["MOTA"] - base_row["MOTA"], abs=1e-12)
    assert "Comparison against" in (out / "comparison.md").read_text()
    manifest = json.loads((out / "ablation.json").read_text())
    assert len(manifest["variants"]) == 3
    trained = sorted((out / "train").iterdir())
    assert len(trained) == 2  # one training per head; the tracker axis reuses it
    stamps = [(d / "model_last.pth").stat().st_mtime_ns for d in trained]
    res = CliRunner().invoke(main, ["ablate", str(_config(tmp_path, root))], catch_exceptions=False)
    assert res.exit_code == 0
    assert [(d / "model_last.pth").stat().st_mtime_ns for d in trained] == stamps  # nothing retrained
    # Another ablation that names the first one's training folder reuses its models.
    other = _config(tmp_path, root, out=str(tmp_path / "abl2"), train_root=str(out / "train"))
    res = CliRunner().invoke(main, ["ablate", str(other)], catch_exceptions=False)
    assert res.exit_code == 0
    assert [(d / "model_last.pth").stat().st_mtime_ns for d in trained] == stamps
    assert not (tmp_path / "abl2" / "train").exists() and len(pd.read_csv(tmp_path / "abl2" / "comparison.csv")) == 4


def test_detection_recall_with_an_oracle_detector(tmp_path) -> None:
    """Boxes equal to gt give recall 1 and precision 1; shifted boxes (IoU < 0.5) give 0."""
    import numpy as np

    from mot_bench.data.sequences import find_sequences
    from mot_bench.detectors.fairmot.training.recall import detection_recall
    from mot_bench.sweep import tracker_options_for
    from mot_bench.types import Detections

    make_sequence(tmp_path, "SYN-01", length=3, width=64, height=64, num_people=2)
    seqs = find_sequences(tmp_path, None, "train")
    gt = np.loadtxt(seqs[0].gt_path, delimiter=",")

    class Oracle:
        def __init__(self, shift: float) -> None:
            self.shift = shift

        def reset(self, seq) -> None:
            pass

        def __call__(self, frame) -> Detections:
            r = gt[gt[:, 0] == frame.frame_id]
            tlbr = np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], 1) + self.shift
            return Detections(tlbr, np.full(len(r), 0.9))

    res = detection_recall(Oracle(0.0), seqs, (0.5, 0.95))["SYN-01"]
    assert res["0.5"]["recall"] == 1.0 and res["0.5"]["precision"] == 1.0 and res["0.5"]["gt"] == 6
    assert res["0.95"]["detections"] == 0 and res["0.95"]["recall"] == 0.0
    assert detection_recall(Oracle(40.0), seqs, (0.5,))["SYN-01"]["0.5"]["recall"] == 0.0
    assert tracker_options_for("sort", {"sort": {"max_age": 3}, "fairmot": {}}) == {"max_age": 3}
    assert tracker_options_for("sort", {"max_age": 3}) == {"max_age": 3}


def _torch_threads(_: int) -> int:
    import torch

    return torch.get_num_threads()


def test_parallel_workers_share_the_cores(monkeypatch) -> None:
    """Each of N worker processes gets cores // N torch threads (at least 1), never the full default:
    oversubscribed OpenMP threads made parallel evaluation several times slower than serial."""
    import os

    from mot_bench import sweep

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert sweep._map(_torch_threads, [0, 1], parallel=2) == [2, 2]
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert sweep._map(_torch_threads, [0, 1], parallel=2) == [1, 1]


def test_tracker_options_take_the_prefixed_form_too(tmp_path) -> None:
    from mot_bench.sweep import tracker_options_for

    grid = ["bytetrack", "sort"]
    flat = {"bytetrack.track_thresh": 0.7, "track_buffer": 20, "max_age": 3}
    assert tracker_options_for("bytetrack", flat, grid) == {"track_thresh": 0.7, "track_buffer": 20}
    assert tracker_options_for("sort", flat, grid) == {"max_age": 3}
    assert tracker_options_for("sort", {"sort": {"max_age": 3}, "bytetrack": {}}, grid) == {"max_age": 3}
    with pytest.raises(ValueError, match="tracker 'ocsort' is not in this run"):
        tracker_options_for("sort", {"ocsort.delta_t": 3}, grid)
    with pytest.raises(ValueError, match="tracker 'sort' has no option 'track_thresh'"):
        tracker_options_for("sort", {"track_thresh": 0.6})
    # Bad names and values are caught when the config loads, before anything trains.
    base = {"tracker": "fairmot", "tracker_options": {"fairmot.track_buffer": 10, "sort.max_age": 5}}
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"base": base, "axes": {"tracker": ["fairmot", "sort"]}, "eval": {}}))
    assert load_config(p)["base"]["tracker_options"] == base["tracker_options"]
    for bad, message in (({"sort.max_agee": 5}, "did you mean 'max_age'"),
                         ({"sort.max_age": -1}, "outside its valid range"),
                         ({"sort": {"max_age": "x"}}, "max_age='x': expected an integer")):
        p.write_text(json.dumps({"base": {**base, "tracker_options": bad}, "axes": {"tracker": ["fairmot", "sort"]},
                                 "eval": {}}))
        with pytest.raises(ValueError, match=message):
            load_config(p)


def test_committed_ablation_configs_still_load() -> None:
    paths = sorted((Path(__file__).resolve().parents[1] / "docs" / "configs").glob("*.json"))
    ablations = {p.name: p for p in paths if "axes" in json.loads(p.read_text())}  # others: `mot-bench train` configs
    assert {"ablation_cpu.json", "ablation_paper.json", "fairmot_cpu.json", "fairmot_cpu_pets.json"} <= set(ablations)
    for path in ablations.values():
        assert load_config(path)["axes"], path
    paper = load_config(ablations["ablation_paper.json"])
    assert paper["base"]["arch"] == "dla_34" and paper["base"]["input_w"] == 1088 and paper["base"]["num_epochs"] == 30
    assert paper["base"]["precision"] == "fp16" and paper["ddp_nproc"] >= 2
    cpu = load_config(ablations["ablation_cpu.json"])
    assert len(all_axes(cpu)["seed"]) == 3 and cpu["calibrate"]["eval"]["benchmark"] == "PETS2009"
    # one factor at a time around the base, 3 seeds each: anchor-free, anchor-based at strides 4 and 8, re-ID 64 and
    # 256, fixed loss weights (18 trainings) and two more associations on the base models (24 runs)
    variants, base = expand(cpu)
    assert len(variants) == 24 and len({json.dumps(v["options"], sort_keys=True) for v in variants}) == 24
    trainings = {json.dumps({k: v for k, v in var["options"].items() if k != "tracker_options"}, sort_keys=True)
                 for var in variants}
    assert len(trainings) == 18
    assert variants[base]["axes"]["head"] == "anchor_free" and variants[base]["axes"]["reid_dim"] == 128


@pytest.mark.slow
def test_seeds_axis_and_thresholds_chosen_on_held_out_frames(tmp_path) -> None:
    """A seed axis is grouped (mean, min-max) in CSV, Markdown and HTML with training curves and wall times; each
    trained model runs at the threshold that scored best on the calibration frames, never the evaluation ones."""
    root, held_out = tmp_path / "data", tmp_path / "held_out"
    make_sequence(root, "SYN-01", length=8, width=128, height=64, num_people=3)
    make_sequence(held_out, "SYN-02", length=6, width=128, height=64, num_people=2, seed=5)
    path = _config(tmp_path, root)
    cfg = json.loads(path.read_text())
    # a union of two grids (one factor at a time): the base over two seeds, reid_dim 16 once; 3 trainings
    cfg["axes"] = [{"seed": [1, 2]}, {"reid_dim": [16], "seed": [1]}]
    cfg["base"].update(reid_dim=8, tracker_options={})
    cfg["calibrate"] = {"conf_thres": [0.05, 0.9], "eval": {"data": str(held_out), "split": "train"},
                        "metric": "IDF1"}
    path.write_text(json.dumps(cfg))
    from mot_bench.cli import main

    res = CliRunner().invoke(main, ["ablate", str(path)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = tmp_path / "abl"
    calibration = json.loads((out / "calibration.json").read_text())
    assert len(calibration) == 3  # one per trained model
    manifest = json.loads((out / "ablation.json").read_text())
    chosen_by_train = {}
    for train_dir, rec in calibration.items():
        scores = {float(c): v for c, v in rec["scores"].items()}
        assert set(scores) == {0.05, 0.9} and rec["eval"]["data"] == str(held_out)
        assert rec["chosen"] == max(scores, key=lambda c: (scores[c], -c))  # best IDF1, lower threshold on ties
        chosen_by_train[train_dir] = rec["chosen"]
    for v in [*manifest["variants"], {"run": manifest["base"], "train_dir": manifest["base_train_dir"]}]:
        config = json.loads((out / v["run"] / "config.json").read_text())
        assert config["detector"]["conf_thres"] == chosen_by_train[v["train_dir"]]
        assert config["tracker"]["conf_thres"] == chosen_by_train[v["train_dir"]]
        assert config["data"]["root"] == str(root)
    seeds = pd.read_csv(out / "comparison_seeds.csv")
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 3 and list(seeds["seeds"]) == ["1,2", "1"] and list(seeds["base"]) == [True, False]
    for _, g in seeds.iterrows():
        rows = table[table["reid_dim"] == g["reid_dim"]]
        assert g["HOTA_mean"] == pytest.approx(rows["HOTA"].mean(), abs=1e-12)
        assert (g["HOTA_min"], g["HOTA_max"]) == (rows["HOTA"].min(), rows["HOTA"].max())
    assert seeds["IDF1_delta"][1] == pytest.approx(seeds["IDF1_mean"][1] - seeds["IDF1_mean"][0], abs=1e-12)
    md = (out / "comparison.md").read_text()
    assert "Mean over seeds (min-max over seeds)" in md and "## Wall times" in md
    page = (out / "index.html").read_text()
    assert 'id="seeds-table"' in page and "Training curves" in page and 'id="walltime-table"' in page


def test_grid_without_training_over_tracker_and_detector_options(tmp_path) -> None:
    """A tracker x detector-option grid on oracle detections: no training stage, and every number of the
    comparison is the one a direct run of that variant scores."""
    from mot_bench.runner import RunOptions, run

    root = tmp_path / "data"
    make_sequence(root, "SYN-01", length=20, width=128, height=64, num_people=3, write_images=False)
    cfg = {
        "out": str(tmp_path / "grid"),
        "base": {"detector": "oracle", "detector_options": {"jitter": 0.0}},
        "axes": {"tracker": ["sort", "bytetrack"],
                 "detector_options": [{"jitter": 0.0}, {"jitter": 0.08, "miss_rate": 0.2, "seed": 3}]},
        "eval": {"data": str(root), "split": "train"},
    }
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(cfg))
    from mot_bench.cli import main

    res = CliRunner().invoke(main, ["ablate", str(path)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = tmp_path / "grid"
    assert not (out / "train").exists()
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 4
    manifest = json.loads((out / "ablation.json").read_text())
    assert manifest["base_axes"] == {"tracker": "sort", "detector_options": {"jitter": 0.0}}
    base = table[table["MOTA_delta"].isna()].iloc[0]
    for variant in [{"run": manifest["base"], "axes": manifest["base_axes"]}, *manifest["variants"]]:
        axes = variant["axes"]
        direct = run(RunOptions(detector="oracle", detector_options=axes["detector_options"], tracker=axes["tracker"],
                                data=str(root), split="train", out=str(tmp_path / "direct" / variant["run"]),
                                progress=False))
        row = table[table["run"].str.endswith(Path(variant["run"]).name)].iloc[0]
        for metric in ("MOTA", "IDF1", "HOTA"):
            assert row[metric] == pytest.approx(direct.metrics["combined"][metric], abs=1e-12)
            if not pd.isna(row[f"{metric}_delta"]):
                assert row[f"{metric}_delta"] == pytest.approx(row[metric] - base[metric], abs=1e-12)
    noisy_rows = table["detector_options"].str.contains("miss_rate")
    perfect = table[(table["tracker"] == "bytetrack") & ~noisy_rows]
    noisy = table[(table["tracker"] == "bytetrack") & noisy_rows]
    assert perfect["MOTA"].iloc[0] > noisy["MOTA"].iloc[0]  # the detector axis reached the detector


def test_grid_without_training_rejects_training_options(tmp_path) -> None:
    p = tmp_path / "g.json"
    p.write_text(json.dumps({"base": {"detector": "public"}, "axes": {"head": ["anchor_free"]}, "eval": {}}))
    with pytest.raises(ValueError, match="unknown option"):
        load_config(p)


@pytest.mark.slow
def test_ablate_trains_on_ray_once_and_matches_the_local_run(tmp_path, monkeypatch) -> None:
    """With ``ray_address`` the training stage runs as Ray tasks too (one per distinct training, resources from
    its config), the comparison equals the local run's, and a second run retrains nothing."""
    ray = pytest.importorskip("ray")
    root = tmp_path / "data"
    make_sequence(root, "SYN-01", length=8, width=128, height=64, num_people=3)
    from mot_bench.cli import main

    local = tmp_path / "abl"
    res = CliRunner().invoke(main, ["ablate", str(_config(tmp_path, root))], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    submitted = []
    real_remote = ray.remote

    def spy(*args, **kwargs):  # the driver wraps each stage's function in a Ray task: record which
        wrap = real_remote(*args, **kwargs)
        return lambda fn: (fn.__module__ == "mot_bench.sweep" and submitted.append(fn.__name__)) or wrap(fn)

    monkeypatch.setattr(ray, "remote", spy)
    on_ray = _config(tmp_path, root, out=str(tmp_path / "ray"), ray_address="local", parallel=2)
    res = CliRunner().invoke(main, ["ablate", str(on_ray)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert not ray.is_initialized()  # the local cluster was shut down
    assert submitted == ["train_one", "_score_entry"]
    trained = sorted((tmp_path / "ray" / "train").iterdir())
    assert len(trained) == 2 and all((d / "model_last.pth").is_file() for d in trained)
    cols = ["head", "tracker", "MOTA", "IDF1", "HOTA"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "ray" / "comparison.csv")[cols],
                                  pd.read_csv(local / "comparison.csv")[cols])
    stamps = [(d / "model_last.pth").stat().st_mtime_ns for d in trained]
    submitted.clear()
    res = CliRunner().invoke(main, ["ablate", str(on_ray)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert submitted == []  # nothing trained, nothing scored again: no Ray task at all
    assert [(d / "model_last.pth").stat().st_mtime_ns for d in trained] == stamps


def test_ddp_nproc_launches_each_training_under_torch_distributed(tmp_path, monkeypatch) -> None:
    """``ddp_nproc`` (the paper-scale grid: 2 GPUs per training): each training is one ``torch.distributed.run
    --standalone`` launch of ``mot-bench train`` on a config file that resumes, never an in-process training."""
    import subprocess

    from mot_bench import sweep

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda argv, check: calls.append(argv))
    cfg = {"datasets": [{"root": str(tmp_path)}], "arch": "dla_tiny", "out": str(tmp_path / "t"), "num_epochs": 2}
    assert sweep._train_ddp_entry((cfg, 2)) == str(tmp_path / "t")
    (argv,) = calls
    assert argv[1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m"]
    assert argv[6:8] == ["mot_bench.cli", "train"]
    written = json.loads(Path(argv[8]).read_text())
    assert written["resume"] is True and written["num_epochs"] == 2 and written["out"] == str(tmp_path / "t")
