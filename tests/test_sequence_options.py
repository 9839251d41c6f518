"""The per-sequence hooks every tracker may use, the same in `mot-bench run` and `mot-bench tune`:
per-sequence option tables (a named preset or a JSON file), per-sequence input files (checked before any
work, read once), `Tracker.finish` (rows written when the sequence ends) and post-processing values
taken from the tracker (`tracker.NAME`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.motfile import read_mot_file
from mot_bench.data.synthetic import make_sequence
from mot_bench.data.validate import InputCheckError
from mot_bench.options import (
    OptionError,
    load_sequence_table,
    option,
    options_for_sequence,
    per_sequence_option,
    sequence_row,
)
from mot_bench.plugins import Tracker
from mot_bench.registry import TRACKERS
from mot_bench.results import RunFolder
from mot_bench.runner import RunOptions, run
from mot_bench.tune import Workload
from mot_bench.types import SeqInfo, Tracks


@dataclass
class TableOptions:
    per_sequence: str | None = per_sequence_option(None)
    preset: str | None = option(None, "preset")
    gain: float = option(1.0, "multiplies the scores", bounds=(0.0, None))
    buffer: int = option(30, "an integer option", bounds=(1, None))
    cmc_method: str = option("none", "read by the runner once")
    data_dir: str | None = option(None, "folder of the per-sequence <SEQ>.json input")
    pad: bool = option(False, "finish adds one row per sequence")

    PRESETS: ClassVar = {"double": {"gain": 2.0}}
    SEQUENCE_PRESETS: ClassVar = {"syn": {"SYN-01": {"gain": 3.0, "buffer": 7}, "SYN": {"gain": 5.0}}}


class TableTracker(Tracker):
    """Reports each detection with score = score * gain + input offset; counts its input reads."""

    name = "table_tracker"
    Options = TableOptions
    reads: ClassVar[list[str]] = []

    def input_files(self, seq):
        if self.sequence_options(seq).data_dir is None:
            return {}
        return {"offsets": f"{self.sequence_options(seq).data_dir}/{seq.name}.json"}

    @classmethod
    def read_input(cls, kind, path):
        cls.reads.append(str(path))
        try:
            return json.loads(path.read_text())["offset"]
        except (ValueError, KeyError):
            raise InputCheckError(path, "expected {\"offset\": NUMBER}", 1) from None

    def reset(self, seq):
        self.use_sequence_options(seq)
        self.offset = self.sequence_input(seq, "offsets") if self.data_dir else 0.0
        self.last = None

    def update(self, dets, frame):
        self.last = frame.frame_id
        return Tracks(dets.tlbr, np.arange(1, len(dets) + 1), dets.scores * self.gain + self.offset)

    def finish(self, rows):
        if not self.pad:
            return rows
        extra = np.array([[self.last, 99, 1, 1, 10, 20, self.buffer, -1, -1, -1]], dtype=np.float64)
        return np.vstack([rows, extra])


@pytest.fixture()
def table_tracker():
    TRACKERS.register("table_tracker")(TableTracker)
    TableTracker.reads = []
    return TableTracker


@pytest.fixture()
def syn_root(tmp_path):
    for i in range(2):
        make_sequence(tmp_path / "data" / "MOT17" / "train", f"SYN-0{i + 1}", length=12, width=160, height=96,
                      num_people=2, seed=i, write_images=False)
    return tmp_path / "data"


def _seq(name: str) -> SeqInfo:
    return SeqInfo(name, ".", 10, 100, 100, 30.0)


# -- the table ----------------------------------------------------------------------------------
def test_rows_are_found_by_name_or_by_name_up_to_a_dash():
    table = {"MOT17-02": {}, "MOT17-02-SDP": {}, "MOT17": {}, "MOT17-1": {}}
    assert sequence_row(table, "MOT17-02-SDP") == "MOT17-02-SDP"
    assert sequence_row(table, "MOT17-02-FRCNN") == "MOT17-02"  # the longest key that fits
    assert sequence_row(table, "MOT17-10-SDP") == "MOT17"  # "MOT17-1" is not "MOT17-10" up to a dash
    assert sequence_row(table, "MOT20-01") is None


def test_precedence_defaults_preset_row_explicit():
    opts = TableOptions(gain=2.0, buffer=30, per_sequence="syn")
    table = load_sequence_table(TableOptions, "syn", "t")
    assert options_for_sequence(opts, table, "SYN-01").gain == 3.0
    assert options_for_sequence(opts, table, "SYN-01", explicit={"gain"}).gain == 2.0
    assert options_for_sequence(opts, table, "SYN-01", explicit={"gain"}).buffer == 7
    assert options_for_sequence(opts, table, "OTHER") is opts
    trk = TableTracker(preset="double", per_sequence="syn")  # the row beats the preset
    trk.use_sequence_options(_seq("SYN-01"))
    assert (trk.gain, trk.buffer) == (3.0, 7)
    trk.use_sequence_options(_seq("SYN-02"))  # key "SYN" fits "SYN-02"
    assert (trk.gain, trk.buffer) == (5.0, 30)
    trk = TableTracker(preset="double", per_sequence="syn", buffer=9)  # explicit beats the row
    trk.use_sequence_options(_seq("SYN-01"))
    assert (trk.gain, trk.buffer) == (3.0, 9)
    trk.use_sequence_options(None)
    assert (trk.gain, trk.buffer) == (2.0, 9)
    assert trk.config()["gain"] == 2.0 and trk.config()["per_sequence_table"]["SYN-01"] == {"gain": 3.0, "buffer": 7}


def test_a_json_table_is_typed_and_checked_with_file_and_line(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"A-1": {"gain": "1.5", "buffer": 4}}))
    assert load_sequence_table(TableOptions, str(good), "t") == {"A-1": {"gain": 1.5, "buffer": 4}}
    cases = [
        ('{"A-1": {"gain": 1},\n "B-2": {"bufer": 3}}', r"bad\.json:2: sequence 'B-2'.*no option 'bufer'.*'buffer'"),
        ('{"A-1": {"gain": 1},\n "B-2": {"buffer": 0}}', r"bad\.json:2: sequence 'B-2'.*buffer=0.*outside"),
        ('{"A-1": {"gain": "x"}}', r"bad\.json:1: sequence 'A-1'.*gain='x'"),
        ('{"A-1": {"cmc_method": "file"}}', r"bad\.json:1: sequence 'A-1' sets cmc_method.*whole run"),
        ('{"A-1": {"per_sequence": "syn"}}', r"sets per_sequence"),
        ('{"A-1": [1, 2]}', r"bad\.json:1: sequence 'A-1' has \[1, 2\]; expected an object"),
        ('{"A-1": {"gain": 1},\n', r"bad\.json:2: .*expected a JSON object"),
        ('[1]', r"bad\.json:1: a JSON list"),
    ]
    for text, message in cases:
        (tmp_path / "bad.json").write_text(text)
        with pytest.raises(OptionError, match=message):
            load_sequence_table(TableOptions, str(tmp_path / "bad.json"), "t")
    with pytest.raises(OptionError, match="neither a sequence preset \\(syn\\) nor a file"):
        TableTracker(per_sequence="nope")


# -- run and tune alike ------------------------------------------------------------------------------
def test_run_and_tune_apply_the_same_rows_inputs_and_finish(syn_root, tmp_path, table_tracker):
    offsets = tmp_path / "offsets"
    offsets.mkdir()
    for i, off in ((1, 10.0), (2, 20.0)):
        (offsets / f"SYN-0{i}.json").write_text(json.dumps({"offset": off}))
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"SYN-02": {"gain": 0.0, "buffer": 5}}))
    opts = {"per_sequence": str(table), "data_dir": str(offsets), "pad": True}
    res = run(RunOptions(detector="public", tracker="table_tracker", data=str(syn_root), benchmark="MOT17",
                         tracker_options=opts, out=str(tmp_path / "run"), progress=False, evaluate=False))
    assert sorted(TableTracker.reads) == [str(offsets / "SYN-01.json")] * 2 + [str(offsets / "SYN-02.json")] * 2
    one = read_mot_file(res.folder.result_path("SYN-01"), "result")
    two = read_mot_file(res.folder.result_path("SYN-02"), "result")
    det = read_mot_file(syn_root / "MOT17" / "train" / "SYN-01" / "det" / "det.txt", "det")
    assert np.allclose(np.sort(one[one[:, 1] < 99, 6]), np.sort(det[:, 6] + 10.0), atol=1e-5)
    assert np.all(two[two[:, 1] < 99, 6] == 20.0)  # gain 0 on SYN-02 only: its row applied
    assert one[-1, 1] == 99 and one[-1, 6] == 30 and two[-1, 6] == 5  # finish, with each sequence's buffer
    assert res.folder.read_config()["tracker"]["per_sequence_table"] == {"SYN-02": {"gain": 0.0, "buffer": 5}}

    TableTracker.reads = []
    spec = {"tracker": "table_tracker", "fixed": opts, "data": str(syn_root), "benchmark": "MOT17",
            "split": "train", "seqs": None, "detector": "public"}
    work = Workload(spec)
    rows_a = work.track(opts)
    rows_b = work.track({**opts, "gain": 1.0})  # a trial's own value beats the table's row
    assert len(TableTracker.reads) == 4  # 2 by the check before any trial, 2 by the first trial, none after
    for seq, rows in (("SYN-01", one), ("SYN-02", two)):
        np.testing.assert_array_equal(rows_a[seq], rows)  # the tuner scores what the runner writes
    np.testing.assert_array_equal(rows_b["SYN-01"], one)
    assert np.all(rows_b["SYN-02"][:-1, 6] > 20.5)


def test_a_missing_or_bad_input_file_fails_before_any_work(syn_root, tmp_path, table_tracker):
    offsets = tmp_path / "offsets"
    offsets.mkdir()
    (offsets / "SYN-01.json").write_text(json.dumps({"offset": 1}))
    args = ["run", "--data", str(syn_root), "--benchmark", "MOT17", "--tracker", "table_tracker",
            "--tracker-opt", f"data_dir={offsets}", "--out", str(tmp_path / "run"), "--no-progress"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert f"{offsets / 'SYN-02.json'}: no such file; tracker 'table_tracker' reads its offsets file" in res.output
    assert not (tmp_path / "run" / "results").exists()
    (offsets / "SYN-02.json").write_text("{}")
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and f"{offsets / 'SYN-02.json'}:1: expected" in res.output


def test_postprocess_values_from_the_tracker_follow_its_per_sequence_options(syn_root, tmp_path, table_tracker):
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"SYN-02": {"buffer": 2}}))
    seq_dir = syn_root / "MOT17" / "train" / "SYN-01"
    lines = (seq_dir / "det" / "det.txt").read_text().splitlines(keepends=True)
    for name in ("SYN-01", "SYN-02"):  # the same detections, with frames 4-6 missing
        det = syn_root / "MOT17" / "train" / name / "det" / "det.txt"
        det.write_text("".join(ln for ln in lines if int(ln.split(",")[0]) not in (4, 5, 6)))
    res = run(RunOptions(detector="public", tracker="table_tracker", data=str(syn_root), benchmark="MOT17",
                         tracker_options={"per_sequence": str(table), "buffer": 30}, out=str(tmp_path / "a"),
                         progress=False, evaluate=False, postprocess=["interpolate"],
                         postprocess_options={"interpolate.min_len": 0, "interpolate.max_gap": "tracker.buffer"}))
    assert res.folder.read_config()["postprocess"][0]["max_gap"] == "tracker.buffer"
    one = read_mot_file(res.folder.result_path("SYN-01"), "result")
    assert np.isin([4, 5, 6], one[:, 0]).all()  # buffer 30 (explicit): the 4-frame gap is filled
    res = run(RunOptions(detector="public", tracker="table_tracker", data=str(syn_root), benchmark="MOT17",
                         tracker_options={"per_sequence": str(table)}, out=str(tmp_path / "b"),
                         progress=False, evaluate=False, postprocess=["interpolate"],
                         postprocess_options={"interpolate.min_len": 0, "interpolate.max_gap": "tracker.buffer"}))
    one = read_mot_file(res.folder.result_path("SYN-01"), "result")
    two = read_mot_file(res.folder.result_path("SYN-02"), "result")
    assert np.isin([4, 5, 6], one[:, 0]).all() and not np.isin([4, 5, 6], two[:, 0]).any()  # SYN-02: buffer 2
    with pytest.raises(ValueError, match="tracker 'sort' has no option 'buffer'"):
        run(RunOptions(detector="public", tracker="sort", data=str(syn_root), benchmark="MOT17",
                       out=str(tmp_path / "c"), progress=False, postprocess=["interpolate"],
                       postprocess_options={"interpolate.max_gap": "tracker.buffer"}))
    assert not RunFolder(tmp_path / "c").exists()
    with pytest.raises(ValueError, match="expected tracker.OPTION"):
        run(RunOptions(detector="public", tracker="sort", data=str(syn_root), benchmark="MOT17",
                       out=str(tmp_path / "d"), progress=False, postprocess=["interpolate"],
                       postprocess_options={"interpolate.max_gap": "tracker.1x"}))
