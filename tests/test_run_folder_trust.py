"""Issue 16, item 3: run folders are trustworthy after a crash. A completed sequence is recorded with a
content hash of its result and timing files, so a file cut short or edited is detected on resume and
redone; stray temporary files are removed; Ctrl-C says what was kept and the command that resumes; the
different-configuration refusal names the settings that differ and --overwrite."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.synthetic import make_sequence
from mot_bench.plugins import Tracker
from mot_bench.registry import TRACKERS
from mot_bench.results import RunFolder, RunFolderError
from mot_bench.runner import RunOptions, run
from mot_bench.types import Tracks


@pytest.fixture()
def syn_root(tmp_path):
    for i in range(2):
        make_sequence(tmp_path / "MOT17" / "train", f"SYN-0{i + 1}", length=12, width=160, height=96, seed=i)
    return tmp_path


class Copying(Tracker):
    """Detections as tracks; counts the sequences it was reset for; Ctrl-C on ``interrupt_on``."""

    name = "copying"
    resets: list[str] = []
    interrupt_on = ""

    def reset(self, seq):
        Copying.resets.append(seq.name)
        if seq.name == Copying.interrupt_on:
            raise KeyboardInterrupt

    def update(self, dets, frame):
        return Tracks(dets.tlbr, np.arange(1, len(dets) + 1), dets.scores)


def _opts(root, out, **kw):
    return RunOptions(**{"detector": "public", "tracker": "copying", "data": str(root), "benchmark": "MOT17",
                         "out": str(out), "progress": False, "evaluate": False, **kw})


@pytest.fixture()
def copying():
    TRACKERS.register("copying")(Copying)
    Copying.resets, Copying.interrupt_on = [], ""
    return Copying


def test_completed_sequences_are_recorded_with_hashes(syn_root, tmp_path, copying):
    out = tmp_path / "run"
    run(_opts(syn_root, out))
    folder = RunFolder(out)
    record = json.loads((out / "complete" / "SYN-01.json").read_text())
    data = folder.result_path("SYN-01").read_bytes()
    import hashlib

    assert record["results"] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert folder.verified_sequences() == {"SYN-01", "SYN-02"}


@pytest.mark.parametrize("damage", ["truncate result", "edit timing", "no record"])
def test_a_damaged_sequence_is_redone_on_resume(syn_root, tmp_path, copying, damage, caplog):
    out = tmp_path / "run"
    run(_opts(syn_root, out))
    folder = RunFolder(out)
    clean = folder.result_path("SYN-02").read_bytes()
    if damage == "truncate result":  # as a crash mid-write by an older version, or a disk full, leaves it
        folder.result_path("SYN-02").write_bytes(clean[: len(clean) // 2])
    elif damage == "edit timing":
        path = folder.timing_dir / "SYN-02.csv"
        path.write_text(path.read_text().replace("\n1,", "\n1,", 1) + "13,0,0,0,0,0,0,0,0,0\n")
    else:
        (out / "complete" / "SYN-02.json").unlink()
    copying.resets = []
    res = run(_opts(syn_root, out))
    assert copying.resets == ["SYN-02"] and res.resumed == ["SYN-01"]
    assert folder.result_path("SYN-02").read_bytes() == clean
    assert folder.verified_sequences() == {"SYN-01", "SYN-02"}
    assert "SYN-02" in caplog.text and ("cut short or edited" in caplog.text or "no completion record" in caplog.text)


def test_stray_temporary_files_are_removed(syn_root, tmp_path, copying):
    out = tmp_path / "run"
    run(_opts(syn_root, out))
    stray = [out / "results" / ".SYN-02.txt.abc123.tmp", out / "timing" / ".SYN-02.csv.x.tmp",
             out / ".config.json.y.tmp"]
    for p in stray:
        p.write_text("half")
    run(_opts(syn_root, out))
    assert not any(p.exists() for p in stray)


def test_ctrl_c_says_what_was_kept_and_how_to_resume(syn_root, tmp_path, copying):
    out = tmp_path / "run"
    copying.interrupt_on = "SYN-02"
    args = ["run", "--data", str(syn_root), "--benchmark", "MOT17", "--tracker", "copying", "--no-eval",
            "--no-progress", "--out", str(out), "--overwrite"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 130, res.output
    lines = res.output.strip().splitlines()
    assert lines[0] == "Aborted!"
    assert f"kept in {out}: 1 completed sequence(s) (SYN-01)" in lines[1]
    assert lines[2].startswith("re-run to resume") and "mot-bench run --data" in lines[2]
    assert "--overwrite" not in lines[2]  # re-running with it would throw away what was kept
    assert not list(out.rglob("*.tmp"))
    copying.interrupt_on, copying.resets = "", []
    res = CliRunner().invoke(main, args[:-1])
    assert res.exit_code == 0 and copying.resets == ["SYN-02"]


def test_different_configuration_names_the_settings_and_overwrite(syn_root, tmp_path, copying):
    out = tmp_path / "run"
    run(_opts(syn_root, out, warmup_frames=3))
    with pytest.raises(RunFolderError) as err:
        run(_opts(syn_root, out, warmup_frames=5, detector_options={"min_score": "0.5"}))
    text = str(err.value)
    assert "--overwrite" in text and "warmup_frames: 3 -> 5" in text and "detector.min_score: None -> 0.5" in text
    assert "'sequences'" not in text and len(text) < 600  # the settings that differ, not whole config dicts


def test_a_folder_from_before_an_option_existed_resumes_when_the_option_is_left_at_its_default(
        syn_root, tmp_path, copying):
    """A later mot-bench declares a new detector option (as ``loose_det_dir`` was added to ``public``): a run
    folder written before it has no entry for it. Left at its default the run is the same one and resumes; set by
    the user it differs and is refused."""
    out = tmp_path / "run"
    run(_opts(syn_root, out))
    config_path = out / "config.json"

    def as_an_older_version_wrote_it(*names):
        config = json.loads(config_path.read_text())
        for name in names:
            del config["detector"][name]
        config_path.write_text(json.dumps(config))

    as_an_older_version_wrote_it("loose_det_dir", "min_score")
    copying.resets = []
    run(_opts(syn_root, out))  # resumes: nothing to redo
    assert copying.resets == []
    as_an_older_version_wrote_it("min_score")
    with pytest.raises(RunFolderError, match=r"detector\.min_score: '\(unset\)' -> 0\.5"):
        run(_opts(syn_root, out, detector_options={"min_score": "0.5"}))
