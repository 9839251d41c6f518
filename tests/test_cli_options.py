"""Tracker options in multi-tracker runs, `mot-bench list`, and --help: all from the plugins' declarations."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.synthetic import make_sequence
from mot_bench.options import describe, format_range, format_value
from mot_bench.registry import TRACKERS


@pytest.fixture()
def syn_root(tmp_path):
    make_sequence(tmp_path / "MOT17" / "train", "SYN-01", length=8, width=160, height=96, seed=0)
    return tmp_path


def _run(root, out, *args):
    return CliRunner().invoke(main, ["run", "--data", str(root), "--benchmark", "MOT17", "--no-eval", "--no-progress",
                                     "--out", str(out), *args])


def _tracker_config(folder):
    return json.loads((folder / "config.json").read_text())["tracker"]


def test_plain_option_goes_to_every_tracker_that_has_it(syn_root, tmp_path):
    """Before: ByteTrack ran with track_thresh=0.6, then SORT failed on the option it does not have."""
    out = tmp_path / "runs"
    res = _run(syn_root, out, "--tracker", "bytetrack", "--tracker", "sort", "--tracker-opt", "track_thresh=0.65")
    assert res.exit_code == 0, res.output
    assert _tracker_config(out / "bytetrack")["track_thresh"] == 0.65
    assert _tracker_config(out / "sort") == {"name": "sort", "max_age": 1, "min_hits": 3, "iou_threshold": 0.3}


def test_prefixed_options_address_one_tracker(syn_root, tmp_path):
    out = tmp_path / "runs"
    res = _run(syn_root, out, "--tracker", "bytetrack", "--tracker", "sort", "--tracker-opt", "track_buffer=20",
               "--tracker-opt", "bytetrack.track_thresh=0.7", "--tracker-opt", "sort.max_age=2",
               "--tracker-opt", "bytetrack.preset=demo")
    assert res.exit_code == 0, res.output
    byte = _tracker_config(out / "bytetrack")
    assert (byte["preset"], byte["track_thresh"], byte["match_thresh"], byte["track_buffer"]) == ("demo", 0.7, 0.8, 20)
    assert _tracker_config(out / "sort")["max_age"] == 2


@pytest.mark.parametrize("opt, message", [
    ("max_agee=3", "no tracker of this run has an option 'max_agee' (did you mean 'max_age'?)"),
    ("ocsort.delta_t=3", "tracker 'ocsort' is not in this run"),
    ("sort.track_thresh=0.5", "tracker 'sort' has no option 'track_thresh'"),
    ("sort.max_age=-1", "tracker 'sort' option max_age=-1 is outside its valid range [0, inf]"),
    ("bytetrack.track_thresh=nan", "track_thresh='nan': expected a finite number"),
])
def test_bad_tracker_options_fail_before_any_tracker_runs(syn_root, tmp_path, opt, message):
    out = tmp_path / "runs"
    res = _run(syn_root, out, "--tracker", "bytetrack", "--tracker", "sort", "--tracker-opt", opt)
    assert res.exit_code == 2 and message in res.output, res.output
    assert not out.exists()


def test_list_prints_every_option_with_type_default_range_and_help():
    res = CliRunner().invoke(main, ["list", "trackers", "bytetrack"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    rows = describe(TRACKERS.get("bytetrack"))
    assert {r.name for r in rows} >= {"preset", "track_thresh", "match_thresh", "track_buffer", "min_box_area",
                                      "aspect_ratio_thresh", "mot20", "frame_rate"}
    for r in rows:
        line = next(ln for ln in lines if ln.split()[:1] == [r.name])
        for cell in (r.type, format_value(r.default), format_range(r.range), r.help):
            assert cell in line, (cell, line)
    assert "0.1..0.9" in res.output and "preset demo: track_thresh=0.5, match_thresh=0.8, min_box_area=10" in res.output
    res = CliRunner().invoke(main, ["list", "trackers"])
    assert res.exit_code == 0 and all(f"\n{n}  " in res.output for n in ("bytetrack", "fairmot", "sort"))
    res = CliRunner().invoke(main, ["list", "detectors", "oracle"])
    assert res.exit_code == 0 and "miss_rate" in res.output and "0..1" in res.output
    res = CliRunner().invoke(main, ["list", "trackers", "nope"])
    assert res.exit_code == 2 and "unknown tracker 'nope'" in res.output


def test_run_help_lists_tracker_options_from_their_declarations():
    res = CliRunner().invoke(main, ["run", "--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "mot-bench list" in text and "bytetrack.track_thresh=0.6" in text
    for name in ("sort", "bytetrack", "fairmot"):
        for r in describe(TRACKERS.get(name)):
            assert f"{r.name}={format_value(r.default)}" in text, (name, r.name)


def test_list_trackers_and_run_help_import_no_torch():
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)}

    code = ("import sys; from click.testing import CliRunner; from mot_bench.cli import main; "
            "r = [CliRunner().invoke(main, a).exit_code for a in (['list', 'trackers'], ['run', '--help'])]; "
            "print(r, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo,
                         env=env).stdout
    assert out.strip() == "[0, 0] False"
