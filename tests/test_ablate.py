"""``mot-bench ablate`` on a tiny two-axis grid: trains what is needed once, runs, scores, compares."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from detectors.fairmot.ablate import expand, load_config
from mot_bench.data.synthetic import make_sequence


def _config(tmp_path: Path, root: Path) -> Path:
    cfg = {
        "out": str(tmp_path / "abl"),
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
    from detectors.fairmot.commands import ablate

    res = CliRunner().invoke(ablate, [str(_config(tmp_path, root))], catch_exceptions=False)
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
    res = CliRunner().invoke(ablate, [str(_config(tmp_path, root))], catch_exceptions=False)
    assert res.exit_code == 0
    assert [(d / "model_last.pth").stat().st_mtime_ns for d in trained] == stamps  # nothing retrained
