"""Issue 16: every bad input is answered before work starts by one line naming file and line, exit 2;
no silent wrong numbers. One test per case the issue found (each failed on main before this branch)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.mottext import first_duplicate

SAMPLE = Path(__file__).resolve().parents[1] / "mot_bench" / "data" / "sample" / "MOT15" / "train" / "TUD-Campus"
LINE_ERROR = re.compile(r"^Error: \S+:\d+: .+$")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the bundled MOT15 TUD-Campus (71 frames) and a result file equal to its gt."""
    root = tmp_path / "data"
    shutil.copytree(SAMPLE, root / "MOT15" / "train" / "TUD-Campus")
    (tmp_path / "res").mkdir()
    shutil.copy(SAMPLE / "gt" / "gt.txt", tmp_path / "res" / "TUD-Campus.txt")
    return root


def gt_file(root: Path) -> Path:
    return root / "MOT15" / "train" / "TUD-Campus" / "gt" / "gt.txt"


def edit_line(path: Path, lineno: int, new: str | None, insert: bool = False) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if insert:
        lines.insert(lineno - 1, new + "\n")
    elif new is None:
        del lines[lineno - 1]
    else:
        lines[lineno - 1] = new + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def evaluate_cli(root: Path, *extra: str):
    res = CliRunner().invoke(main, ["eval", "--gt-root", str(root), "--benchmark", "MOT15",
                                    "--results", str(root.parent / "res"), *extra])
    return res


def assert_one_line_error(res, path: Path, line: int | None, *needles: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    text = res.output.strip()
    assert len(text.splitlines()) == 1, text
    where = f"{path}:{line}:" if line is not None else f"{path}"
    assert text.startswith(f"Error: {where}"), (where, text)
    for needle in needles:
        assert needle in text, (needle, text)


# --- result files ------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["fast", "trackeval"])
@pytest.mark.parametrize("row, needle", [
    ("1,5,125,209,74,157,1,-1,-1", "9 columns, but earlier lines have 10"),          # one column missing
    ("1,5,347.e67,209,74,157,1,-1,-1,-1", "column 3 is 3.47e+69; expected a value of magnitude"),
    ("1,100000000000000,125,209,74,157,1,-1,-1,-1", "id 100000000000000 is outside the declared range"),
    ("1,4294967296,125,209,74,157,1,-1,-1,-1", "id 4294967296 is outside the declared range"),
])
def test_bad_result_rows_are_refused_not_read_shifted(data: Path, engine: str, row: str, needle: str) -> None:
    res_file = data.parent / "res" / "TUD-Campus.txt"
    edit_line(res_file, 5, row)
    assert_one_line_error(evaluate_cli(data, "--engine", engine), res_file, 5, needle)


def test_ids_are_compared_exactly_not_packed() -> None:
    """id 2**32 and id 0 in one frame were a false duplicate (on 'line 0')."""
    frames = np.array([1.0, 1.0, 2.0])
    assert first_duplicate(frames, np.array([2.0**32, 0.0, 0.0])) is None
    assert first_duplicate(np.array([1.0, 2.0, 1.0]), np.array([7.0, 7.0, 7.0])) == (0, 2)


def test_large_ids_within_range_score_like_small_ones(data: Path) -> None:
    """Ids up to the declared maximum are remapped: same numbers, no memory growing with the largest id."""
    plain = evaluate_cli(data, "--engine", "trackeval")
    assert plain.exit_code == 0, plain.output
    res_file = data.parent / "res" / "TUD-Campus.txt"
    rows = res_file.read_text().splitlines()
    big = [",".join([r.split(",")[0], str(2**31 - 1000 + int(r.split(",")[1])), *r.split(",")[2:]]) for r in rows]
    res_file.write_text("\n".join(big) + "\n")
    for engine in ("fast", "trackeval"):
        got = evaluate_cli(data, "--engine", engine)
        assert got.exit_code == 0, got.output
        assert got.output == plain.output


# --- gt files ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["fast", "trackeval"])
@pytest.mark.parametrize("lineno, row, insert, needle", [
    (5, "1,5,125,209,inf,157,1,-1,-1,-1", False, "column 5 is not a number"),
    (5, "1,5,125,209,-74,157,1,-1,-1,-1", False, "width and height must be >= 0"),
    (5, "1,5,125,209,74,-157,1,-1,-1,-1", False, "width and height must be >= 0"),
    (5, "1,5,125,209,1e300,157,1,-1,-1,-1", False, "magnitude"),
    (5, "1,5,nan,209,74,157,1,-1,-1,-1", False, "column 3 is not a number"),
    (1, "frame,id,x,y,w,h,conf,a,b,c", True, "a header line?"),
    (5, "1,5,12a5,209,74,157,1,-1,-1,-1", False, "column 3 is not a number"),
    (5, "1,5,125,209,74,157,1,-1,-1", False, "9 columns, but earlier lines have 10"),
    (5, "1,-1,125,209,74,157,1,-1,-1,-1", False, "gt id must be >= 0"),
    (5, "72,5,125,209,74,157,1,-1,-1,-1", False, "frame 72 is outside the sequence (seqLength=71 in "),
])
def test_bad_gt_rows_are_refused_by_our_reader(data: Path, engine: str, lineno: int, row: str, insert: bool,
                                               needle: str) -> None:
    gt = gt_file(data)
    edit_line(gt, lineno, row, insert=insert)
    assert_one_line_error(evaluate_cli(data, "--engine", engine), gt, lineno, needle)


def test_gt_with_a_byte_order_mark_is_named(data: Path) -> None:
    gt = gt_file(data)
    gt.write_bytes(b"\xef\xbb\xbf" + gt.read_bytes())
    assert_one_line_error(evaluate_cli(data), gt, 1, "byte-order mark")


def test_empty_gt_is_refused_not_scored(data: Path) -> None:
    """An empty gt scored MOTA -29700 (every box a false positive), exit 0."""
    gt = gt_file(data)
    gt.write_text("")
    for engine in ("fast", "trackeval"):
        assert_one_line_error(evaluate_cli(data, "--engine", engine), gt, 1, "the gt file has no rows")


def test_short_seqlength_blames_seqinfo_and_gt_not_the_results(data: Path) -> None:
    ini = data / "MOT15" / "train" / "TUD-Campus" / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("seqLength=71", "seqLength=60"))
    res = evaluate_cli(data)
    assert res.exit_code == 2 and str(gt_file(data)) in res.output and f"seqLength=60 in {ini}" in res.output
    assert "res/TUD-Campus.txt" not in res.output


# --- mot-bench run: one validation pass before any work --------------------------------------------

def _pixel_detector():
    from mot_bench.plugins import Detector
    from mot_bench.registry import DETECTORS
    from mot_bench.types import Detections

    @DETECTORS.register("pixels")
    class PixelDetector(Detector):
        """Looks at pixels (like FairMOT), finds nothing."""

        name = "pixels"
        needs_images = True

        def __call__(self, frame):
            assert frame.image is not None
            return Detections.empty()

    return PixelDetector


def run_cli(root: Path, out: Path, *extra: str):
    return CliRunner().invoke(main, ["run", "--data", str(root), "--benchmark", "MOT15", "--tracker", "sort",
                                     "--out", str(out), "--no-progress", *extra])


def test_seqlength_beyond_the_images_fails_before_frame_one(data: Path, tmp_path: Path) -> None:
    """seqLength 80 with 71 images: a FairMOT run failed at frame 72 after minutes and kept nothing."""
    _pixel_detector()
    ini = data / "MOT15" / "train" / "TUD-Campus" / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("seqLength=71", "seqLength=80"))
    out = tmp_path / "run"
    res = run_cli(data, out, "--detector", "pixels", "--no-eval")
    folder = data / "MOT15" / "train" / "TUD-Campus" / "img1"
    assert_one_line_error(res, folder, None, "no image for frame(s) 72..80 (9 of 80 missing", f"per {ini}")
    assert not out.exists()


def test_a_truncated_jpeg_is_refused_before_work(data: Path, tmp_path: Path) -> None:
    _pixel_detector()
    image = data / "MOT15" / "train" / "TUD-Campus" / "img1" / "000040.jpg"
    blob = image.read_bytes()
    image.write_bytes(blob[: len(blob) // 2])
    out = tmp_path / "run"
    res = run_cli(data, out, "--detector", "pixels", "--no-eval")
    assert_one_line_error(res, image, None, "no end-of-image marker: the file is cut short")
    assert not out.exists()


def test_a_wrong_image_size_is_refused(data: Path, tmp_path: Path) -> None:
    _pixel_detector()
    ini = data / "MOT15" / "train" / "TUD-Campus" / "seqinfo.ini"
    ini.write_text(ini.read_text().replace("imWidth=640", "imWidth=1920"))
    res = run_cli(data, tmp_path / "run", "--detector", "pixels", "--no-eval")
    assert_one_line_error(res, data / "MOT15" / "train" / "TUD-Campus" / "img1" / "000001.jpg", None,
                          "image is 640x480, but", "says 1920x480")


@pytest.mark.parametrize("detector, which, row, needle", [
    ("public", "det/det.txt", "1,-1,125,209,74,157,1,-1,-1", "9 columns, but earlier lines have 10"),
    ("public", "det/det.txt", "1,-1,125,209,74,157,1e99,-1,-1,-1", "column 7 is 1e+99"),
    ("public", "gt/gt.txt", "1,5,nan,209,74,157,1,-1,-1,-1", "column 3 is not a number"),  # read to score
    ("oracle", "gt/gt.txt", "1,5,nan,209,74,157,1,-1,-1,-1", "column 3 is not a number"),
    ("oracle", "gt/gt.txt", "1,5,125,209,74,157,1,-1,-1", "9 columns, but earlier lines have 10"),
])
def test_bad_text_inputs_of_a_run_are_refused_before_anything_is_written(
        data: Path, tmp_path: Path, which: str, row: str, needle: str, detector: str) -> None:
    path = data / "MOT15" / "train" / "TUD-Campus" / which
    edit_line(path, 3, row)
    out = tmp_path / "run"
    assert_one_line_error(run_cli(data, out, "--detector", detector), path, 3, needle)
    assert not out.exists()


def test_a_clean_run_passes_the_checks(data: Path, tmp_path: Path) -> None:
    _pixel_detector()
    res = run_cli(data, tmp_path / "run", "--detector", "pixels")
    assert res.exit_code == 0, res.output


# --- seqinfo.ini -------------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, line, needle", [
    ("seqLength=71", "seqLength=-71", 5, "seqLength='-71'; expected an integer in 1..10000000"),
    ("seqLength=71", "seqLength=71.5", 5, "seqLength='71.5'"),
    ("seqLength=71", "seqLength=", 5, "seqLength=''"),
    ("frameRate=25", "frameRate=nan", 4, "frameRate='nan'; expected a number of frames per second"),
    ("frameRate=25", "frameRate=0", 4, "frameRate='0'"),
    ("imWidth=640", "imWidth=wide", 6, "imWidth='wide'"),
    ("[Sequence]", "[Sequenz]", 1, "no [Sequence] section"),
    ("imDir=img1", "imDir img1", 3, "cannot be read as an ini file"),
    ("imExt=.jpg", "imExt=../x", 8, "imExt='../x'"),
])
def test_bad_seqinfo_is_refused_with_its_line(data: Path, old: str, new: str, line: int, needle: str) -> None:
    ini = data / "MOT15" / "train" / "TUD-Campus" / "seqinfo.ini"
    assert old in ini.read_text()
    ini.write_text(ini.read_text().replace(old, new))
    assert_one_line_error(evaluate_cli(data), ini, line, needle)


# --- plugin names and options ------------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["--tracker", "sortt"], "unknown tracker 'sortt' (did you mean 'sort'?); valid trackers: "),
    (["--detector", "publc", "--tracker", "sort"], "unknown detector 'publc' (did you mean 'public'?); valid "),
    (["--tracker", "sort", "--tracker-opt", "max_agee=3"], "has no option 'max_agee' (did you mean 'max_age'?)"),
    (["--tracker", "bytetrack", "--tracker-opt", "track_thresh=nan"], "expected a finite number"),
    (["--tracker", "bytetrack", "--tracker-opt", "track_thresh=1.5"], "outside its valid range"),
    (["--tracker", "sort", "--detector-opt", "min_scor=0.2"], "did you mean 'min_score'?"),
    (["--tracker", "sort", "--device", "tpu"], "unknown device 'tpu'"),
])
def test_plugin_and_option_errors_are_one_line_exit_2(data: Path, tmp_path: Path, args: list[str],
                                                      needle: str) -> None:
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["run", "--data", str(data), "--benchmark", "MOT15", "--out", str(out),
                                    "--no-progress", *args])
    assert res.exit_code == 2, res.output
    assert len(res.output.strip().splitlines()) == 1 and res.output.startswith("Error: "), res.output
    assert needle in res.output, res.output
    assert not out.exists()
    if "--device" in args:
        assert not (out / "env.json").exists()  # --device tpu was once recorded in env.json


def test_list_with_an_unknown_name_is_a_usage_error() -> None:
    res = CliRunner().invoke(main, ["list", "trackers", "bytetrak"])
    assert res.exit_code == 2 and "did you mean 'bytetrack'?" in res.output, res.output
