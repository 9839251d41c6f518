"""MOTChallenge reading: parsers, seqinfo (real and inferred), splits, frames."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mot_bench.data.frames import FrameError, iter_frames
from mot_bench.data.motfile import MOTFormatError, check_unique_ids, format_rows, read_mot_file, write_mot_file
from mot_bench.data.sequences import DataError, find_sequences, half_range, read_seqinfo
from mot_bench.data.synthetic import make_sequence


def write(tmp_path, text, name="f.txt"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_real_mot16_gt_and_mot15_det(shared_data):
    gt = read_mot_file(shared_data / "MOT16/train/MOT16-09/gt/gt.txt", "gt", seq_length=525)
    assert gt.shape == (8830, 10)
    assert set(np.unique(gt[:, 7])) <= set(range(1, 13))
    det = read_mot_file(shared_data / "MOT15/train/TUD-Campus/det/det.txt", "det", seq_length=71)
    assert det.shape[1] == 10 and det[:, 0].min() >= 1 and det[:, 0].max() <= 71


@pytest.mark.parametrize(
    "line, message",
    [
        ("1,2,3", "expected 6 to 10 comma-separated columns"),
        ("1,2,3,4,5,6,7,8,9,10,11", "got 11"),
        ("1,2,a,4,5,6,1,-1,-1,-1", "column 3 is not a number (finite, decimal): 'a'"),
        ("1,2,3,4,nan,6,1,-1,-1,-1", "column 5 is not a number (finite, decimal): 'nan'"),
        ("1,2,3,4,-5,6,1,-1,-1,-1", "width and height must be >= 0"),
        ("0,2,3,4,5,6,1,-1,-1,-1", "frame must be an integer >= 1"),
        ("99,2,3,4,5,6,1,-1,-1,-1", "frame 99 is outside the sequence (1..50)"),
        ("1.5,2,3,4,5,6,1,-1,-1,-1", "frame must be an integer"),
        ("1,2,3,4,5,6,1,-1,-1", "9 columns, but earlier lines have 10"),  # one missing: not read shifted
        ("1,2,347.e67,4,5,6,1,-1,-1,-1", "column 3 is 3.47e+69; expected a value of magnitude <= 1e+09"),
        ("1,100000000000000,3,4,5,6,1,-1,-1,-1", "id 100000000000000 is outside the declared range -1..2147483647"),
    ],
)
def test_malformed_lines_name_file_line_and_expectation(tmp_path, line, message):
    path = write(tmp_path, "1,1,10,10,5,5,1,-1,-1,-1\n\n" + line + "\n")
    with pytest.raises(MOTFormatError) as err:
        read_mot_file(path, "result", seq_length=50)
    assert err.value.line == 3
    assert str(path) in str(err.value) and message in str(err.value)


def test_duplicate_ids_in_a_frame_are_refused_with_the_line(tmp_path):
    path = write(tmp_path, "1,1,0,0,5,5,1\n1,2,0,0,5,5,1\n2,1,0,0,5,5,1\n1,2,9,9,5,5,1\n")
    rows = read_mot_file(path)
    with pytest.raises(MOTFormatError, match=r"f.txt:4: id 2 appears 2 times in frame 1"):
        check_unique_ids(rows, path)


def test_write_then_read_round_trip_and_atomic(tmp_path):
    rows = np.array([[1, 3, 10.5, 20.25, 30, 40, 0.9, -1, -1, -1], [2, 3, 11, 21, 30, 40, 0.8, -1, -1, -1]])
    out = tmp_path / "res" / "SEQ.txt"
    write_mot_file(out, rows)
    np.testing.assert_allclose(read_mot_file(out), rows, atol=0.005)
    assert not list(out.parent.glob(".*tmp"))


finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
row = st.tuples(
    st.integers(1, 500), st.integers(-1, 1000), finite, finite,
    st.floats(0, 1e4, allow_nan=False), st.floats(0, 1e4, allow_nan=False), st.floats(0, 1, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(row, max_size=30))
def test_parser_round_trips_any_valid_rows(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("h") / "r.txt"
    arr = np.array([[*r, -1, -1, -1] for r in rows], dtype=np.float64).reshape(-1, 10)
    path.write_text(format_rows(arr))
    back = read_mot_file(path, "result")
    assert back.shape == arr.shape
    np.testing.assert_allclose(back[:, :2], arr[:, :2])
    np.testing.assert_allclose(back[:, 2:6], arr[:, 2:6], atol=0.006)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="0123456789,.-eEnaif \t", max_size=40))
def test_parser_accepts_or_raises_format_error_never_anything_else(tmp_path_factory, line):
    path = tmp_path_factory.mktemp("h") / "r.txt"
    path.write_text(line + "\n")
    try:
        out = read_mot_file(path, "result", seq_length=100)
    except MOTFormatError as exc:
        assert exc.line == 1
    else:
        assert out.shape[1] == 10 and np.isfinite(out).all()
        assert all(1 <= f <= 100 and math.isclose(f, round(f)) for f in out[:, 0])


def test_half_split_matches_bytetrack_convention():
    # MOT17-02 (600 frames): 301 train-half frames, 299 val-half frames; MOT17-05 (837): 419 / 418.
    assert half_range(600, "half-train") == (1, 301) and half_range(600, "half-val") == (302, 600)
    assert half_range(837, "half-train") == (1, 419) and half_range(837, "half-val") == (420, 837)
    assert half_range(71, "train") == (1, 71)


def test_find_sequences_mot17_and_splits(shared_data):
    seqs = find_sequences(shared_data, "MOT17", "half-val", ["MOT17-02-DPM", "MOT17-05-SDP"])
    assert [s.name for s in seqs] == ["MOT17-02-DPM", "MOT17-05-SDP"]
    assert (seqs[0].first_frame, seqs[0].last_frame, seqs[0].fps) == (302, 600, 30.0)
    assert len(find_sequences(shared_data, "MOT17", "train")) == 21
    with pytest.raises(DataError, match="MOT17-99 not found"):
        find_sequences(shared_data, "MOT17", "train", ["MOT17-99"])
    with pytest.raises(DataError, match="unknown split"):
        find_sequences(shared_data, "MOT17", "val")


def test_sequence_without_seqinfo_is_inferred_and_says_so(tmp_path):
    seq = make_sequence(tmp_path, "SYN", length=12, width=160, height=96)
    (seq / "seqinfo.ini").unlink()
    info = read_seqinfo(seq)
    assert (info.length, info.width, info.height) == (12, 160, 96)
    assert any("seqinfo.ini missing" in s for s in info.inferred)
    assert any("fps 30 assumed" in s for s in info.inferred)


def test_bad_seqinfo_names_the_file(tmp_path):
    seq = make_sequence(tmp_path, "SYN", length=3, write_images=False)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SYN\nseqLength=three\n")
    with pytest.raises(DataError, match=r"seqinfo.ini:3: seqLength=.three.; expected an integer in 1..10000000"):
        read_seqinfo(seq)


def test_frames_prefetch_in_order_and_errors_name_the_frame(tmp_path):
    seq_dir = make_sequence(tmp_path, "SYN", length=8, width=64, height=48)
    info = read_seqinfo(seq_dir)
    got = [(f.frame_id, f.image.shape) for f, _ in iter_frames(info, prefetch=2)]
    assert got == [(i, (48, 64, 3)) for i in range(1, 9)]
    (seq_dir / "img1" / "000005.jpg").write_bytes(b"not a jpeg")
    (seq_dir / "img1" / "000007.jpg").unlink()
    with pytest.raises(FrameError, match=r"SYN frame 5: cannot decode .*000005.jpg"):
        list(iter_frames(info))
    shutil.copy(seq_dir / "img1" / "000004.jpg", seq_dir / "img1" / "000005.jpg")
    with pytest.raises(FrameError, match=r"SYN frame 7: image .*000007.jpg is missing"):
        list(iter_frames(info))
