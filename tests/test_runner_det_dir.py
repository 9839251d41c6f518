"""A detection folder that covers part of a benchmark runs the sequences it has files for."""

from __future__ import annotations

import pytest

from mot_bench.data.synthetic import make_sequence
from mot_bench.data.validate import InputCheckError
from mot_bench.runner import RunOptions, run


@pytest.fixture()
def syn_root(tmp_path):
    for i in range(2):
        make_sequence(tmp_path / "data" / "MOT17" / "train", f"SYN-0{i + 1}", length=20, width=160, height=96,
                      seed=i)
    return tmp_path / "data"


def test_det_dir_runs_only_the_sequences_it_has_files_for(syn_root, tmp_path):
    det_dir = tmp_path / "dets"
    det_dir.mkdir()
    (det_dir / "SYN-02.txt").write_text((syn_root / "MOT17" / "train" / "SYN-02" / "det" / "det.txt").read_text())
    res = run(RunOptions(detector="public", tracker="sort", data=str(syn_root), benchmark="MOT17", progress=False,
                         out=str(tmp_path / "r"), detector_options={"det_dir": str(det_dir)}))
    assert [s.name for s in res.sequences] == ["SYN-02"]
    with pytest.raises(InputCheckError, match="SYN-01.txt: no such file"):  # named sequences are run as named
        run(RunOptions(detector="public", tracker="sort", data=str(syn_root), benchmark="MOT17", progress=False,
                       out=str(tmp_path / "s"), seqs=["SYN-01"], detector_options={"det_dir": str(det_dir)}))
