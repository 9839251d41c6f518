"""mot_bench.data.mottext: the strict vectorised MOT text reader, and the fast engine's input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.motfile import MOTFormatError, read_mot_file
from mot_bench.data.mottext import first_duplicate, read_mot_text
from mot_bench.metrics import EvalError, evaluate
from mot_bench.types import SeqInfo

ROW = "1,1,10.5,20,30,40,0.9,-1,-1,-1"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_like_the_line_reader_on_real_files(shared_data: Path) -> None:
    for path, kind in [(shared_data / "trackers" / "MOT15" / "CEM" / "TUD-Campus.txt", "result"),
                       (shared_data / "MOT17" / "train" / "MOT17-09-SDP" / "gt" / "gt.txt", "gt"),
                       (shared_data / "MOT15" / "train" / "TUD-Campus" / "gt" / "gt.txt", "gt")]:
        got = read_mot_text(path)
        assert np.array_equal(got.rows, read_mot_file(path, kind=kind))  # same floats, bit for bit


def test_numbers_are_those_of_python_float_on_real_files(shared_data: Path) -> None:
    """The reader's values are ``float()``'s, bit for bit (the kit converts each field with ``float``), on
    files with 17-digit values (Lif_T) and integer gt."""
    for path in [shared_data / "trackers" / "MOT17" / "Lif_T" / "MOT17-09-SDP.txt",
                 shared_data / "MOT17" / "train" / "MOT17-09-SDP" / "gt" / "gt.txt"]:
        lines = path.read_text().splitlines()
        want = np.array([[float(f) for f in line.split(",")] for line in lines])
        got = read_mot_text(path)
        assert got.rows[:, :got.num_cols].tobytes() == want.tobytes()


@pytest.mark.parametrize("text, columns", [
    (f"{ROW}\n\n  \n{ROW.replace('1,1', '2,1', 1)}\n", 10),  # blank lines skipped
    (f"{ROW}\r\n{ROW}\r\n", 10),  # CRLF
    ("1, 1, 10.5, 20, 30, 40, 0.9\n2 ,1,1e1,2E-1,+3,4.,1\n", 7),  # spaces, exponents, signs
    ("1 1 10.5 20 30 40\n\t2 1 1 2 3 4\n", 6),  # whitespace-separated
    (ROW, 10),  # no final newline
    (f"{ROW},\n{ROW}, \r\n", 10),  # a trailing comma (then spaces) on a line: dropped, as the kit drops it
    (f"{ROW}\n  \n{ROW},\n", 10),  # ... on some lines only, after a whitespace-only line
])
def test_accepts_valid_variants(tmp_path: Path, text: str, columns: int) -> None:
    got = read_mot_text(write(tmp_path, text))
    assert got.num_cols == columns and got.rows.shape[1] == 10 and len(got.rows) == 2 - (text == ROW)
    assert (got.rows[:, columns:] == -1).all()


@pytest.mark.parametrize("ending", [",", ", ", ",  \r"])
def test_a_trailing_comma_reads_like_the_line_without_it(tmp_path: Path, ending: str) -> None:
    clean = read_mot_text(write(tmp_path, f"{ROW}\n{ROW.replace('1,1', '2,1', 1)}\n")).rows
    every = read_mot_text(write(tmp_path, f"{ROW}{ending}\n{ROW.replace('1,1', '2,1', 1)}{ending}\n"))
    assert every.num_cols == 10 and every.rows.tobytes() == clean.tobytes()
    some = read_mot_text(write(tmp_path, f"{ROW}\n{ROW.replace('1,1', '2,1', 1)}{ending}\n"))
    assert some.num_cols == 10 and some.rows.tobytes() == clean.tobytes()


@pytest.mark.parametrize("text, line, message", [
    (f"{ROW}\n1,2,nan,2,3,4,1,-1,-1,-1\n", 2, "column 3 is not a number"),
    (f"{ROW}\n1,2,inf,2,3,4,1,-1,-1,-1\n", 2, "column 3 is not a number"),
    (f"{ROW}\n1,2,0x1f,2,3,4,1,-1,-1,-1\n", 2, "column 3 is not a number"),
    (f"{ROW}\n1,2,1_0,2,3,4,1,-1,-1,-1\n", 2, "column 3 is not a number"),
    (f"{ROW}\n\n1,2,1.2.3,2,3,4,1,-1,-1,-1\n", 3, "column 3 is not a number"),
    (f"{ROW}\n1,2,,2,3,4,1,-1,-1,-1\n", 2, "column 3 is not a number"),
    (f"{ROW}\n1,2,3,2,3,4,1,-1,-1\n", 2, "9 columns, but earlier lines have 10"),
    (f"{ROW}\n1,2,3,2,3,4,1,-1,-1,-1,5\n", 2, "got 11"),
    (f"{ROW},,\n", 1, "got 11"),  # the kit drops one empty last field, not two
    (f"{ROW},\t\n{ROW}\n", 1, "got 11"),  # nor a tab (its csv reader skips only spaces after a comma)
    (f"{ROW}\n1.5,2,3,2,3,4,1,-1,-1,-1\n", 2, "frame must be an integer"),
    (f"{ROW}\n0,2,3,2,3,4,1,-1,-1,-1\n", 2, "frame must be an integer >= 1"),
    (f"{ROW}\n\n2,2.5,3,2,3,4,1,-1,-1,-1\n", 3, "id must be an integer"),
    (f"{ROW}\n9,2,3,2,3,4,1,-1,-1,-1\n", 2, "outside the sequence"),
])
def test_refuses_bad_input_naming_path_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(MOTFormatError, match=message) as err:
        read_mot_text(path, seq_length=5)
    assert err.value.line == line and str(err.value).startswith(f"{path}:{line}:")


def test_empty_files_and_duplicates(tmp_path: Path) -> None:
    assert read_mot_text(write(tmp_path, "")).rows.shape == (0, 10)
    assert read_mot_text(write(tmp_path, "\n \n")).rows.shape == (0, 10)
    frames, ids = np.array([1, 2, 2, 3, 2, 2]), np.array([1, 1, 4, 1, 1, 4])
    assert first_duplicate(frames, ids) == (1, 4)
    assert first_duplicate(frames[:4], ids[:4]) is None


def _seq(tmp_path: Path, gt: str) -> SeqInfo:
    (tmp_path / "S-01" / "gt").mkdir(parents=True)
    (tmp_path / "S-01" / "gt" / "gt.txt").write_text(gt, encoding="utf-8")
    (tmp_path / "res").mkdir(exist_ok=True)
    (tmp_path / "res" / "S-01.txt").write_text("1,1,10,20,30,40,1,-1,-1,-1\n", encoding="utf-8")
    return SeqInfo("S-01", tmp_path / "S-01", 3, 640, 480, 30.0)


@pytest.mark.parametrize("gt, line, message", [
    ("1,1,10,20,30,40,1,1,1\n\n1,1,50,20,30,40,1,1,1\n", 3, "gt id 1 appears twice in frame 1"),
    ("1,1,10,20,30,40,1,1,1\n1,2,50,20,30,40,1,14,1\n", 2, "invalid gt class 14"),
    ("1,1,10,20,30,40,1,1,1\n1,2,50,20,30,40,1,1\n", 2, "8 columns, but earlier lines have 9"),
    ("1,1,10,20,30,40,1\n", 1, "expected 8 to 10"),
])
def test_fast_engine_gt_errors_name_the_line(tmp_path: Path, gt: str, line: int, message: str) -> None:
    seq = _seq(tmp_path, gt)
    with pytest.raises(EvalError, match=message) as err:
        evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="fast")
    assert err.value.line == line and f"gt.txt:{line}:" in str(err.value)


def test_fast_engine_gt_duplicates_outside_the_range_are_fine(tmp_path: Path) -> None:
    """Like TrackEval, gt ids must be unique per frame in the evaluated range (any class, zero-marked too)."""
    seq = _seq(tmp_path, "1,1,10,20,30,40,1,1,1\n3,1,50,20,30,40,0,1,1\n3,1,60,20,30,40,0,7,1\n")
    with pytest.raises(EvalError, match="gt id 1 appears twice in frame 3"):
        evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="fast")
    with pytest.raises(EvalError, match="same ID more than once"):
        evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="trackeval")
    seq.last_frame = 2
    fast = evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="fast")
    assert fast == evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="trackeval")


def test_an_invalid_gt_class_is_refused_even_where_no_boxes_overlap(tmp_path: Path) -> None:
    """TrackEval checks the classes of every frame holding gt and tracker boxes, overlapping or not."""
    seq = _seq(tmp_path, "1,1,300,300,30,40,1,14,1\n")  # the result box is at (10, 20): no overlap at all
    with pytest.raises(EvalError, match="invalid gt class 14") as err:
        evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="fast")
    assert err.value.line == 1
    with pytest.raises(EvalError, match="invalid gt classes"):
        evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="trackeval")
