"""``mot-bench ablate`` on a tiny two-axis grid: trains what is needed once, runs, scores, compares."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from mot_bench.data.synthetic import make_sequence
from mot_bench.sweep import expand, load_config


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

    from detectors.fairmot.training.recall import detection_recall
    from mot_bench.data.sequences import find_sequences
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
    ablations = [p for p in paths if "axes" in json.loads(p.read_text())]  # the others are `mot-bench train` configs
    assert len(ablations) >= 10
    for path in ablations:
        assert load_config(path)["axes"], path
