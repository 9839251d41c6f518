"""Fuzz the inputs a run and a score read (gt, det, result files, seqinfo.ini), MOT15 and MOT17.

Every mutated input either scores exactly as the official kit scores it, or is refused with a ``path:line:``
error of the project's own kinds: zero tracebacks, zero silent changes. "The kit" is TrackEval 1.3.0 run
directly on the very same files (its Evaluator and MotChallenge2DBox, reading seqinfo.ini itself; for
half-val, on files cut and renumbered by this test the way ByteTrack's half split does), compared field by
field with what mot-bench reports. Detections are not read by the kit: their rows are compared with the
test's own ``float()`` of each field. Mutations are made on the structure (rows of fields), so each knows
its expected outcome:

* neutral rewrites (``125`` -> ``+125``, ``125.0``, ``1.25e2``, `` 125 ``; CRLF, no final newline, a
  trailing comma on every line; seqinfo spacing, comments, key case), valid changes (a box moved, a row
  dropped, a det row repeated, a longer seqLength; MOT17: another class, visibility or consider flag, the
  half-val split) must score as the kit scores the same files;
* blank lines are the one layout the kit refuses and mot-bench accepts (it skips them): such files must
  score as the kit scores them without the blank lines;
* invalid changes (nan, inf, a huge or malformed number, a missing or extra column, a frame outside the
  sequence, a fractional or out-of-range id, a negative size, a repeated id, a header, a BOM, a bad
  seqinfo value, a seqLength shorter than the gt, an invalid MOT17 class) must be refused naming the file
  and the line.

Then the inputs of issue 19 one by one, through the ``mot-bench`` command: unreadable files, result files
matching no sequence, ``name=`` unlike the folder, a trailing comma, a seqinfo.ini folder, a root with
several benchmarks, a header-only MOT17 gt, a BOM in seqinfo.ini.

Seeded (derandomised), a bounded number of examples (200 MOT15, 120 MOT17): about 12 s of CPU.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_parity import assert_same_as_trackeval, trackeval_direct

from mot_bench.cli import main
from mot_bench.data.motfile import read_mot_file
from mot_bench.data.mottext import MOTFormatError
from mot_bench.data.sequences import DataError, find_sequences, half_range
from mot_bench.data.validate import InputCheckError, check_run_inputs
from mot_bench.detectors.public import PublicDetector
from mot_bench.metrics import EvalError, evaluate

SAMPLE = Path(__file__).resolve().parents[1] / "mot_bench" / "data" / "sample" / "MOT15" / "train" / "TUD-Campus"
LENGTH = 12  # MOT15 case: the first 12 frames of TUD-Campus
LENGTH17 = 14  # MOT17 case: the first 14 frames of MOT17-09-SDP (half-val: frames 9..14)
REFUSALS = (EvalError, MOTFormatError, DataError, InputCheckError)
ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): \S")

Rows = list[list[str]]


def text(rows: Rows) -> str:
    return "".join(",".join(r) + "\n" for r in rows)


def values(rows: Rows) -> np.ndarray:
    """The test's own reading of rows of fields: ``float()`` of each, padded with -1 to 10 columns."""
    out = np.full((len(rows), 10), -1.0)
    for i, r in enumerate(rows):
        out[i, :len(r)] = [float(f) for f in r]
    return out


def _rows(path: Path, length: int) -> Rows:
    return [line.split(",") for line in path.read_text().splitlines() if int(line.split(",")[0]) <= length]


class Case:
    """The clean files of one sequence, and where mutated copies of them are written."""

    def __init__(self, bench: str, seq: str, gt: Rows, det: Rows, res: Rows, ini: list[str]) -> None:
        self.bench, self.seq, self.ini = bench, seq, ini
        self.clean = {"gt": gt, "det": det, "res": res}
        self.names = {"gt": "gt.txt", "det": "det.txt", "res": f"{seq}.txt", "ini": "seqinfo.ini"}

    def files(self, **changed: Rows | list[str]) -> dict[str, bytes]:
        out = {k: text(changed.get(k, v)).encode() for k, v in self.clean.items()}  # type: ignore[arg-type]
        out["ini"] = ("\n".join(changed.get("ini", self.ini)) + "\n").encode()  # type: ignore[arg-type]
        return out

    def write(self, root: Path, files: dict[str, bytes]) -> None:
        seq_dir = root / "data" / self.bench / "train" / self.seq
        for key, rel in (("gt", "gt/gt.txt"), ("det", "det/det.txt"), ("ini", "seqinfo.ini")):
            (seq_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (seq_dir / rel).write_bytes(files[key])
        (root / "res").mkdir(parents=True, exist_ok=True)
        (root / "res" / self.names["res"]).write_bytes(files["res"])


_WORK = Path(tempfile.mkdtemp(prefix="mot-bench-fuzz-"))
_COUNTER = [0]


def _fresh_root() -> Path:
    _COUNTER[0] += 1
    if _COUNTER[0] % 50 == 0:
        shutil.rmtree(_WORK, ignore_errors=True)
        _WORK.mkdir()
    return _WORK / str(_COUNTER[0])


def ours(case: Case, files: dict[str, bytes], split: str = "train"):
    """What mot-bench does with the files: ``("ok", evaluate() output, det rows)`` or ``("refused", error)``.
    Any other exception propagates: a traceback fails the test."""
    root = _fresh_root()
    case.write(root, files)
    try:
        seqs = find_sequences(root / "data", case.bench, split)
        detector = PublicDetector()
        check_run_inputs(seqs, detector, score=True)
        detector.reset(seqs[0])
        dets = read_mot_file(seqs[0].path / "det" / "det.txt", "det", seq_length=seqs[0].length)
        return "ok", evaluate(seqs, root / "res", case.bench, engine="fast"), dets
    except REFUSALS as exc:
        return "refused", exc, root


class KitRefused(Exception):
    """TrackEval itself cannot score the files."""


def kit(case: Case, files: dict[str, bytes], split: str = "train") -> dict:
    """TrackEval 1.3.0 run directly on the files (half-val: on the half cut out and renumbered)."""
    root = _fresh_root()
    if split != "train":
        length = int(next(line for line in files["ini"].decode().splitlines()
                          if line.lower().startswith("seqlength")).split("=")[1])
        first, last = half_range(length, split)
        files = dict(files)
        for key in ("gt", "res"):
            kept = []
            for line in files[key].decode().splitlines():
                fields = line.split(",")
                if line.strip() and first <= int(float(fields[0])) <= last:
                    kept.append(",".join([str(int(float(fields[0])) - first + 1), *fields[1:]]))
            files[key] = "".join(f"{line}\n" for line in kept).encode()
        files["ini"] = re.sub(rb"(?im)^seqLength\s*=.*$", f"seqLength={last - first + 1}".encode(), files["ini"])
    case.write(root, files)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return trackeval_direct()(root / "data" / case.bench / "train", root, "res", [case.seq], case.bench)
    except Exception as exc:  # TrackEvalException, or its csv/configparser errors
        raise KitRefused(f"{type(exc).__name__}: {exc}") from None


def assert_like_the_kit(case: Case, files: dict[str, bytes], *, split: str = "train", det: Rows | None = None,
                        kit_files: dict[str, bytes] | None = None) -> None:
    """mot-bench accepts the files and scores them as TrackEval scores them (``kit_files``: what the kit is
    given instead, for mot-bench's documented leniency, blank lines); detections read as ``det`` rows."""
    got = ours(case, files, split)
    assert got[0] == "ok", got[1]
    assert_same_as_trackeval(got[1], kit(case, kit_files or files, split))
    assert np.array_equal(got[2], values(det if det is not None else case.clean["det"]))


def assert_refused(case: Case, got, key: str, lines: set[int] | None) -> None:
    assert got[0] == "refused", f"accepted a bad {key} file"
    message = str(got[1])
    match = ERROR.match(message)
    assert match, message
    assert Path(match["path"]).name == case.names[key], message
    if lines is not None:
        assert int(match["line"]) in lines, message


# --- the two cases ---------------------------------------------------------------------------------


def _mot15() -> Case:
    gt = _rows(SAMPLE / "gt" / "gt.txt", LENGTH)
    det = _rows(SAMPLE / "det" / "det.txt", LENGTH)
    # results: the gt with boxes moved a little and every fifth row dropped (so the scores are not all 1)
    res = [[r[0], r[1], str(int(r[2]) + (i % 7) - 3), r[3], r[4], r[5], "1", "-1", "-1", "-1"]
           for i, r in enumerate(gt) if i % 5]
    ini = ["[Sequence]", "name=TUD-Campus", "imDir=img1", "frameRate=25", f"seqLength={LENGTH}", "imWidth=640",
           "imHeight=480", "imExt=.jpg"]
    return Case("MOT15", "TUD-Campus", gt, det, res, ini)


MOT15 = _mot15()


def _mot17(shared: Path) -> Case:
    """Real MOT17 gt (pedestrians, reflections, static persons, distractors, occluders, zero-marked rows);
    results: the pedestrians jittered with misses and an id switch, plus boxes on some distractors (which
    the kit's preprocessing removes)."""
    folder = shared / "MOT17" / "train" / "MOT17-09-SDP"
    gt = _rows(folder / "gt" / "gt.txt", LENGTH17)
    rng = np.random.default_rng(17)
    res = []
    for r in gt:
        cls, frame = int(r[7]), int(r[0])
        if cls == 1 and rng.random() < 0.85 or cls in (7, 8) and rng.random() < 0.5:
            tid = int(r[1]) + (50 if cls == 1 and frame > 8 and int(r[1]) % 4 == 0 else 0)
            box = [float(v) + float(rng.normal(0, 3)) for v in r[2:6]]
            res.append([r[0], str(tid), *(f"{v:.2f}" for v in box), "1", "-1", "-1", "-1"])
    det = [[r[0], "-1", r[2], r[3], r[4], r[5], "0.9", "-1", "-1", "-1"] for r in gt if r[7] == "1"]
    ini = ["[Sequence]", "name=MOT17-09-SDP", "imDir=img1", "frameRate=30", f"seqLength={LENGTH17}",
           "imWidth=1920", "imHeight=1080", "imExt=.jpg"]
    return Case("MOT17", "MOT17-09-SDP", gt, det, res, ini)


@pytest.fixture(scope="module")
def mot17(shared_data: Path) -> Case:
    return _mot17(shared_data)


def test_the_clean_inputs_score_as_the_kit_scores_them(mot17: Case) -> None:
    for case in (MOT15, mot17):
        got = ours(case, case.files())
        assert got[0] == "ok" and 0.4 < got[1]["combined"]["HOTA"] < 1
        assert_like_the_kit(case, case.files())
    assert_like_the_kit(mot17, mot17.files(), split="half-val")
    removed = ours(mot17, mot17.files())[1]["combined"]
    assert removed["Dets"] < len(mot17.clean["res"])  # the distractor boxes were taken out, as by the kit


# --- mutations ---------------------------------------------------------------------------------------


def _neutral(field: str, how: int) -> str:
    value = float(field)
    forms = [f"+{field}" if not field.startswith("-") else field, repr(value), f"{field}e0", f" {field} ",
             f"{value:.6e}" if float(f"{value:.6e}") == value else field, f"0{field}" if field[0].isdigit() else field]
    return forms[how % len(forms)]


def _layout(data: str, how: int, where: int) -> tuple[str, bool]:
    """A layout change, and whether it is one the kit refuses (blank lines: mot-bench skips them)."""
    lines = data.splitlines(keepends=True)
    if how == 0:  # blank lines
        lines.insert(where % (len(lines) + 1), "\n  \n")
        return "".join(lines), True
    if how == 1:
        return data.replace("\n", "\r\n"), False
    if how == 2:
        return data.rstrip("\n"), False
    if how == 3:
        return "".join(line.replace("\n", "  \n") for line in lines), False
    if how == 4:
        return data.replace(",", ", "), False
    if how == 5:  # a trailing comma on every line, as some writers leave it: the kit drops the empty field
        return data.replace("\n", ",\n"), False
    return "".join(line.replace("\n", ", \n") if i % 2 else line for i, line in enumerate(lines)), False


INVALID_VALUES = ["nan", "NaN", "inf", "-inf", "abc", "", "1e10", "347.e67", "0x10", "1_0", "1.2.3", "--1", "1e"]


@st.composite
def mutation(draw):
    kind = draw(st.sampled_from(["neutral", "layout", "valid", "invalid", "structure", "seqinfo"]))
    key = draw(st.sampled_from(["gt", "det", "res"]))
    rows = [list(r) for r in MOT15.clean[key]]
    r = draw(st.integers(0, len(rows) - 1))
    return kind, key, rows, r, draw(st.integers(0, 9)), draw(st.integers(0, 1000))


@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutation())
def test_mot15_mutations_score_as_the_kit_or_are_refused_by_line(m) -> None:
    case = MOT15
    kind, key, rows, r, c, k = m
    line = {r + 1}
    clean = case.files()
    if kind == "neutral":
        rows[r][c] = _neutral(rows[r][c], k)
        changed = {**clean, key: text(rows).encode()}
        assert_like_the_kit(case, changed, det=rows if key == "det" else None)
    elif kind == "layout":
        data, lenient = _layout(text(rows), k % 7, r)
        assert_like_the_kit(case, {**clean, key: data.encode()}, kit_files=clean if lenient else None)
    elif kind == "valid":
        how = k % 3
        if how == 0:
            rows[r][2 + c % 2] = str(k % 600)  # a box moved
        elif how == 1:
            del rows[r]
        else:
            rows.insert(r, list(rows[r]))  # a repeated row: fine for detections only
            if key != "det":
                assert_refused(case, ours(case, {**clean, key: text(rows).encode()}), key, {r + 1, r + 2})
                return
        assert_like_the_kit(case, {**clean, key: text(rows).encode()}, det=rows if key == "det" else None)
    elif kind == "invalid":
        col = c
        value = INVALID_VALUES[k % len(INVALID_VALUES)]
        if k % 4 == 0:  # a rule of the column instead of a malformed number
            col, value = [(0, "0"), (0, "-1"), (0, "1.5"), (0, str(LENGTH + 1)), (1, "1.5"), (1, str(2**31)),
                          (1, "-2"), (4, "-5"), (5, "-0.5")][k % 9]
        rows[r][col] = value
        assert_refused(case, ours(case, {**clean, key: text(rows).encode()}), key, line)
    elif kind == "structure":
        _structure(case, key, rows, r, c, k)
    else:
        _seqinfo(case, r, c, k)


def _structure(case: Case, key: str, rows: Rows, r: int, c: int, k: int) -> None:
    how = k % 5
    data = text(rows)
    line: set[int] | None = {r + 1}
    if how == 0:
        rows[r] = rows[r][:-1]  # one column missing: the first line that disagrees is refused
        data, line = text(rows), {r + 1} if r else {2}
    elif how == 1:
        rows[r].append("1")
        data = text(rows)
    elif how == 2:
        data, line = "\ufeff" + data, {1}
    elif how == 3:
        data, line = "frame,id,x,y,w,h,conf,a,b,c\n" + data, {1}
    else:  # cut short at a field boundary of line r
        short = rows[r][: 1 + c % 9]
        data = text(rows[:r]) + ",".join(short) + "\n"
        if not r and len(short) >= 6 + (key == "det"):
            # the whole file is that one short line: valid, if pointless, and scored as the kit scores it
            assert_like_the_kit(case, {**case.files(), key: data.encode()}, det=[short] if key == "det" else None)
            return
        line = {r + 1} if r else None
    assert_refused(case, ours(case, {**case.files(), key: data.encode()}), key, line)


def _seqinfo(case: Case, r: int, c: int, k: int) -> None:
    ini = list(case.ini)
    how = k % 4
    if how == 0:  # neutral: spacing, comments, key case, blank lines (the kit's configparser reads them too)
        ini[4] = [f"seqLength = {LENGTH}", f"SEQLENGTH={LENGTH}", f"seqLength={LENGTH}  "][c % 3]
        ini.insert(1 + r % 7, ["; a comment", "", "# note"][k % 3])
        assert_like_the_kit(case, case.files(ini=ini))
    elif how == 1:  # a bad seqLength or frameRate, refused at its line
        bad = ["-1", "0", "abc", "nan", "7.5", "", "1e4", "inf"][r % 8]
        index = 4 if c % 2 else 3
        ini[index] = ini[index].split("=")[0] + "=" + bad
        assert_refused(case, ours(case, case.files(ini=ini)), "ini", {index + 1})
    elif how == 2:  # shorter than the gt: the gt line is named, with seqinfo.ini as the other suspect
        short = 1 + r % (LENGTH - 1)
        ini[4] = f"seqLength={short}"
        got = ours(case, case.files(ini=ini))
        first = next(i for i, row in enumerate(case.clean["gt"]) if int(row[0]) > short) + 1
        assert_refused(case, got, "gt", {first})
        assert "seqinfo.ini" in str(got[1])
    else:  # longer than the gt: frames without boxes; the kit counts them too
        ini[4] = f"seqLength={LENGTH + 1 + r % 5}"
        assert_like_the_kit(case, case.files(ini=ini))


@st.composite
def mot17_mutation(draw):
    kind = draw(st.sampled_from(["class", "visibility", "consider", "box", "result", "layout"]))
    return (kind, draw(st.sampled_from(["train", "half-val"])), draw(st.integers(0, 10_000)),
            draw(st.integers(0, 10_000)))


CLASSES = [str(c) for c in range(1, 14)] + ["0", "14", "-1", "1.0", "7.5"]


@settings(max_examples=120, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(m=mot17_mutation())
def test_mot17_mutations_score_as_the_kit_or_are_refused_by_line(mot17: Case, m) -> None:
    """Classes (every valid one, invalid ones only where a frame has tracker boxes, as the kit checks),
    visibility (unused by the kit), the consider flag (truncated to an integer, as the kit does), boxes and
    results, each scored on the whole sequence or on the half-val frames."""
    kind, split, i, v = m
    gt = [list(r) for r in mot17.clean["gt"]]
    res = [list(r) for r in mot17.clean["res"]]
    r = i % len(gt)
    if kind == "class":
        gt[r][7] = CLASSES[v % len(CLASSES)]
    elif kind == "visibility":
        gt[r][8] = ["0", "1", "0.5", "0.123456", "2.5", "-1", "1e-3"][v % 7]
    elif kind == "consider":
        gt[r][6] = ["0", "1", "2", "0.5", "-1"][v % 5]
    elif kind == "box":
        gt[r][2 + v % 4] = str(v % 1900)
    elif kind == "result":
        j = i % len(res)
        how = v % 3
        if how == 0:
            del res[j]
        elif how == 1:
            res[j][1] = str(900 + v % 50)  # another id for one box
        else:
            res[j][2] = str(float(res[j][2]) + v % 40 - 20)
    files = mot17.files(gt=gt, res=res)
    if kind == "layout":
        key = ("gt", "res")[v % 2]
        data, lenient = _layout(files[key].decode(), i % 7, v)
        files[key] = data.encode()
        assert_like_the_kit(mot17, files, split=split, kit_files=mot17.files(gt=gt, res=res) if lenient else None)
        return
    got = ours(mot17, files, split)
    if got[0] == "refused":  # only an invalid class where the frame has tracker boxes, exactly as the kit
        assert kind == "class" and gt[r][7] in ("0", "14", "-1"), got[1]
        assert_refused(mot17, got, "gt", {r + 1})
        with pytest.raises(KitRefused, match="invalid gt classes"):
            kit(mot17, files, split)
        return
    assert_same_as_trackeval(got[1], kit(mot17, files, split))


# --- issue 19: the last bad inputs, through the command line ------------------------------------------


@contextlib.contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """``path`` cannot be opened: mode 000, and where that does not stop this process (root), every
    ``open`` of exactly that path refused as the system refuses other users."""
    path.chmod(0)
    try:
        try:
            path.open("rb").close()
        except PermissionError:
            yield
            return
        real_open, target = io.open, os.path.abspath(path)

        def refusing_open(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and os.path.abspath(os.fspath(file)) == target:
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real_open(file, *args, **kwargs)

        with mock.patch.object(io, "open", refusing_open), mock.patch.object(builtins, "open", refusing_open):
            yield
    finally:
        path.chmod(0o644)


def _tree(tmp_path: Path, case: Case, files: dict[str, bytes] | None = None) -> Path:
    case.write(tmp_path, files or case.files())
    return tmp_path


def _cli(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def _one_line_error(result, name: str, line: int | None = None) -> str:
    """The command failed with exit status 2 and one line ``Error: <...name>[:line]: message``."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    message = lines[0][len("Error: "):]
    match = re.match(r"^(?P<path>.+?)(:(?P<line>\d+))?: \S", message)
    assert match and match["path"].endswith(name), message
    assert line is None or match["line"] == str(line), message
    return message


@pytest.mark.parametrize("which", ["gt/gt.txt", "seqinfo.ini", "res", "det/det.txt"])
def test_unreadable_input_files_are_one_line_and_exit_2_in_every_command(tmp_path: Path, which: str) -> None:
    root = _tree(tmp_path, MOT15)
    seq_dir = root / "data" / "MOT15" / "train" / "TUD-Campus"
    path = root / "res" / "TUD-Campus.txt" if which == "res" else seq_dir / which
    data = root / "data"
    with unreadable(path):
        if which != "det/det.txt":
            for engine in ("fast", "trackeval"):
                result = _cli("eval", "--gt-root", data, "--results", root / "res", "--engine", engine)
                assert "permission denied" in _one_line_error(result, path.name)
        if which != "res":
            result = _cli("run", "--data", data, "--benchmark", "MOT15", "--tracker", "sort", "--out",
                          tmp_path / "run", "--no-progress")
            assert "permission denied" in _one_line_error(result, path.name)


def test_unreadable_run_folder_files_are_exit_2_not_a_regression(tmp_path: Path) -> None:
    root = _tree(tmp_path, MOT15)
    run = tmp_path / "run"
    assert _cli("run", "--data", root / "data", "--benchmark", "MOT15", "--tracker", "sort", "--out", run,
                "--no-progress").exit_code == 0
    assert _cli("check", run, "--write-baseline", tmp_path / "base.json").exit_code == 0
    for name in ("metrics.json", "config.json"):
        with unreadable(run / name):
            for args in (("check", run, "--baseline", tmp_path / "base.json"),
                         ("report", run, "--out", tmp_path / "r")):
                assert "permission denied" in _one_line_error(_cli(*args), name)


def test_a_result_file_matching_no_sequence_is_reported_and_combined_is_the_kits(tmp_path: Path) -> None:
    root = _tree(tmp_path, MOT15)
    (root / "res" / "TUD-Campos.txt").write_bytes((root / "res" / "TUD-Campus.txt").read_bytes())  # a typo
    (root / "res" / "pedestrian_summary.txt").write_text("HOTA DetA\n1 1\n")  # TrackEval's own output
    result = CliRunner().invoke(main, ["eval", "--gt-root", str(root / "data"), "--results",
                                                       str(root / "res"), "--json", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    assert "2 file(s)" in result.stderr and "TUD-Campos.txt" in result.stderr
    assert "pedestrian_summary.txt" in result.stderr and "--seqs" in result.stderr
    got = json.loads((tmp_path / "m.json").read_text())
    assert list(got["per_sequence"]) == ["TUD-Campus"]
    assert_same_as_trackeval(got, kit(MOT15, MOT15.files()))


def test_sequences_without_results_are_reported(tmp_path: Path, mot17: Case) -> None:
    root = _tree(tmp_path, mot17)
    other = root / "data" / "MOT17" / "train" / "MOT17-09-FRCNN"
    shutil.copytree(root / "data" / "MOT17" / "train" / "MOT17-09-SDP", other)
    result = CliRunner().invoke(main, ["eval", "--gt-root", str(root / "data"), "--results",
                                                       str(root / "res")])
    assert result.exit_code == 0, result.output
    assert "COMBINED covers 1 of the 2 sequences" in result.stderr and "MOT17-09-FRCNN" in result.stderr


def test_a_seqinfo_name_unlike_the_folder_is_the_folder_name_as_for_the_kit(tmp_path: Path) -> None:
    ini = [line if not line.startswith("name=") else "name=Campus-Renamed" for line in MOT15.ini]
    files = MOT15.files(ini=ini)
    root = _tree(tmp_path, MOT15, files)
    result = _cli("eval", "--gt-root", root / "data", "--results", root / "res", "--json", tmp_path / "m.json")
    assert result.exit_code == 0, result.output
    assert_same_as_trackeval(json.loads((tmp_path / "m.json").read_text()), kit(MOT15, files))
    run = tmp_path / "run"
    assert _cli("run", "--data", root / "data", "--benchmark", "MOT15", "--tracker", "sort", "--out", run,
                "--no-progress").exit_code == 0
    assert sorted(p.name for p in (run / "results").iterdir()) == ["TUD-Campus.txt"]


@pytest.mark.parametrize("key", ["gt", "res"])
def test_a_trailing_comma_on_every_line_scores_as_the_kit_scores_it(tmp_path: Path, key: str) -> None:
    files = MOT15.files()
    files[key] = files[key].replace(b"\n", b",\n")
    assert_like_the_kit(MOT15, files)
    root = _tree(tmp_path, MOT15, files)
    assert _cli("eval", "--gt-root", root / "data", "--results", root / "res").exit_code == 0


def test_a_seqinfo_folder_is_named_not_taken_for_missing(tmp_path: Path) -> None:
    root = _tree(tmp_path, MOT15)
    ini = root / "data" / "MOT15" / "train" / "TUD-Campus" / "seqinfo.ini"
    ini.unlink()
    ini.mkdir()
    for args in (("eval", "--gt-root", root / "data", "--results", root / "res"),
                 ("run", "--data", root / "data", "--tracker", "sort", "--out", tmp_path / "run", "--no-progress")):
        message = _one_line_error(_cli(*args), "seqinfo.ini")
        assert "is a folder" in message and "seqinfo.ini" in message


def test_a_root_with_several_benchmarks_names_them_and_the_option(tmp_path: Path, mot17: Case) -> None:
    root = _tree(tmp_path, MOT15)
    _tree(tmp_path, mot17)
    for args in (("eval", "--gt-root", root / "data", "--results", root / "res"),
                 ("run", "--data", root / "data", "--tracker", "sort", "--out", tmp_path / "run", "--no-progress")):
        message = _one_line_error(_cli(*args), "data")
        assert "None" not in message and "MOT15, MOT17" in message and "--benchmark" in message


@pytest.mark.parametrize("header", ["frame,id,bb_left,bb_top,bb_width,bb_height,conf,x,y,z",
                                    "frame,id,bb_left,bb_top,bb_width,bb_height,conf,class,visibility"])
@pytest.mark.parametrize("rows", [False, True])
def test_a_header_in_a_mot17_gt_is_named_as_a_header(tmp_path: Path, mot17: Case, header: str, rows: bool) -> None:
    files = mot17.files()
    files["gt"] = (header + "\n").encode() + (files["gt"] if rows else b"")
    root = _tree(tmp_path, mot17, files)
    for bench in (("--benchmark", "MOT17"), ()):
        message = _one_line_error(_cli("eval", "--gt-root", root / "data", *bench, "--results", root / "res"),
                                  "gt.txt", 1)
        assert "a header line?" in message and "MOT15" not in message


def test_a_mot15_gt_scored_as_mot17_names_the_command_line_option(tmp_path: Path) -> None:
    root = _tree(tmp_path, MOT15)
    (root / "data" / "MOT15").rename(root / "data" / "MOT17")
    message = _one_line_error(_cli("eval", "--gt-root", root / "data", "--benchmark", "MOT17", "--results",
                                   root / "res"), "gt.txt", 1)
    assert "MOT15's 3D format" in message and "--benchmark MOT15" in message


def test_a_bom_in_seqinfo_is_refused_as_the_kit_refuses_it(tmp_path: Path) -> None:
    files = MOT15.files()
    files["ini"] = b"\xef\xbb\xbf" + files["ini"]
    with pytest.raises(KitRefused, match="MissingSectionHeaderError"):
        kit(MOT15, files)
    assert_refused(MOT15, ours(MOT15, files), "ini", {1})
    root = _tree(tmp_path, MOT15, files)
    message = _one_line_error(_cli("eval", "--gt-root", root / "data", "--results", root / "res"), "seqinfo.ini", 1)
    assert "byte-order mark" in message


@pytest.fixture(autouse=True, scope="module")
def _cleanup():
    yield
    shutil.rmtree(_WORK, ignore_errors=True)
