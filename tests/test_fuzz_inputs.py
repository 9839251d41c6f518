"""Issue 16, item 6: fuzz the inputs a run and a score read (gt, det, result files, seqinfo.ini).

Every mutated input either scores exactly like its clean equivalent or is refused with a ``path:line:``
error of the project's own kinds: zero tracebacks, zero silent changes. Mutations are made on the
structure (rows of fields), so each knows its expected outcome without a second parser:

* neutral rewrites (``125`` -> ``+125``, ``125.0``, ``1.25e2``, `` 125 ``; blank lines, CRLF, no final
  newline; seqinfo spacing, comments, key case) must score exactly like the clean files;
* valid changes (a box moved, a row dropped, a det row repeated) must score exactly like the same change
  written cleanly;
* invalid changes (nan, inf, a huge or malformed number, a missing or extra column, a frame outside the
  sequence, a fractional or out-of-range id, a negative size, a repeated id, a header, a BOM, a bad
  seqinfo value, a seqLength shorter than the gt) must be refused naming the file and the line.

Seeded (derandomised), a few hundred examples, well under 30 s.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mot_bench.data.motfile import read_mot_file
from mot_bench.data.mottext import MOTFormatError
from mot_bench.data.sequences import DataError, find_sequences
from mot_bench.data.validate import InputCheckError, check_run_inputs
from mot_bench.detectors.public import PublicDetector
from mot_bench.metrics import EvalError, evaluate

SAMPLE = Path(__file__).resolve().parents[1] / "mot_bench" / "data" / "sample" / "MOT15" / "train" / "TUD-Campus"
LENGTH = 12
REFUSALS = (EvalError, MOTFormatError, DataError, InputCheckError)
ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): \S")

Rows = list[list[str]]


def _rows(path: Path) -> Rows:
    return [line.split(",") for line in path.read_text().splitlines() if int(line.split(",")[0]) <= LENGTH]


GT = _rows(SAMPLE / "gt" / "gt.txt")
DET = _rows(SAMPLE / "det" / "det.txt")
# results: the gt with boxes moved a little and every fifth row dropped (so the scores are not all 1)
RES = [[r[0], r[1], str(int(r[2]) + (i % 7) - 3), r[3], r[4], r[5], "1", "-1", "-1", "-1"]
       for i, r in enumerate(GT) if i % 5]
INI = ["[Sequence]", "name=TUD-Campus", "imDir=img1", "frameRate=25", f"seqLength={LENGTH}", "imWidth=640",
       "imHeight=480", "imExt=.jpg"]
CLEAN = {"gt": GT, "det": DET, "res": RES}
FILES = {"gt": "seq/gt/gt.txt", "det": "seq/det/det.txt", "res": "res/TUD-Campus.txt", "ini": "seq/seqinfo.ini"}


def text(rows: Rows) -> str:
    return "".join(",".join(r) + "\n" for r in rows)


_WORK = Path(tempfile.mkdtemp(prefix="mot-bench-fuzz-"))
_COUNTER = [0]


def outcome(files: dict[str, bytes]):
    """Score the files (``gt``, ``det``, ``res``, ``ini``: bytes): ``("ok", combined metrics, det rows)`` or
    ``("refused", exception)``. Any other exception propagates: a traceback fails the test."""
    _COUNTER[0] += 1
    root = _WORK / str(_COUNTER[0])
    seq = root / "data" / "MOT15" / "train" / "TUD-Campus"
    for key, rel in FILES.items():
        path = (seq.parent if rel.startswith("seq/") else root) / rel.replace("seq/", "TUD-Campus/", 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[key])
    try:
        seqs = find_sequences(root / "data", "MOT15", "train")
        detector = PublicDetector()
        check_run_inputs(seqs, detector, score=True)
        detector.reset(seqs[0])
        dets = read_mot_file(seq / "det" / "det.txt", "det", seq_length=seqs[0].length)
        metrics = evaluate(seqs, root / "res", "MOT15", engine="fast")
        return "ok", metrics["combined"], dets
    except REFUSALS as exc:
        return "refused", exc, root
    finally:
        if _COUNTER[0] % 50 == 0:
            shutil.rmtree(_WORK, ignore_errors=True)
            _WORK.mkdir()


def clean_files(**rows: Rows | list[str]) -> dict[str, bytes]:
    out = {k: text(rows.get(k, v)).encode() for k, v in CLEAN.items()}
    out["ini"] = ("\n".join(rows.get("ini", INI)) + "\n").encode()  # type: ignore[arg-type]
    return out


BASELINE = outcome(clean_files())


def assert_same(got, want) -> None:
    assert got[0] == "ok", got[1]
    assert want[0] == "ok"
    assert got[1] == want[1]  # every metric field, exactly
    assert np.array_equal(got[2], want[2])


def assert_refused(got, file_key: str, lines: set[int] | None, *, path_key: str | None = None) -> None:
    assert got[0] == "refused", f"accepted a bad {file_key} file"
    message = str(got[1])
    match = ERROR.match(message)
    assert match, message
    path = Path(match["path"])
    expected = FILES[path_key or file_key].split("/")[-1]
    assert path.name == expected, message
    if lines is not None:
        assert int(match["line"]) in lines, message


# --- neutral rewrites of one field, and of the layout ------------------------------------------------

def _neutral(field: str, how: int) -> str:
    value = float(field)
    forms = [f"+{field}" if not field.startswith("-") else field, repr(value), f"{field}e0", f" {field} ",
             f"{value:.6e}" if float(f"{value:.6e}") == value else field, f"0{field}" if field[0].isdigit() else field]
    return forms[how % len(forms)]


def _layout(data: str, how: int, where: int) -> str:
    lines = data.splitlines(keepends=True)
    if how == 0:  # blank lines
        lines.insert(where % (len(lines) + 1), "\n  \n")
    elif how == 1:
        return data.replace("\n", "\r\n")
    elif how == 2:
        return data.rstrip("\n")
    elif how == 3:
        return "".join(line.replace("\n", "  \n") for line in lines)
    elif how == 4:
        return data.replace(",", ", ")
    return "".join(lines)


INVALID_VALUES = ["nan", "NaN", "inf", "-inf", "abc", "", "1e10", "347.e67", "0x10", "1_0", "1.2.3", "--1", "1e"]


@st.composite
def mutation(draw):
    kind = draw(st.sampled_from(["neutral", "layout", "valid", "invalid", "structure", "seqinfo"]))
    key = draw(st.sampled_from(["gt", "det", "res"]))
    rows = [list(r) for r in CLEAN[key]]
    r = draw(st.integers(0, len(rows) - 1))
    return kind, key, rows, r, draw(st.integers(0, 9)), draw(st.integers(0, 1000))


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutation())
def test_mutated_inputs_score_like_their_clean_equivalent_or_are_refused_by_line(m) -> None:
    kind, key, rows, r, c, k = m
    line = {r + 1}
    if kind == "neutral":
        rows[r][c] = _neutral(rows[r][c], k)
        assert_same(outcome({**clean_files(), key: text(rows).encode()}), BASELINE)
    elif kind == "layout":
        assert_same(outcome({**clean_files(), key: _layout(text(rows), k % 5, r).encode()}), BASELINE)
    elif kind == "valid":
        how = k % 3
        if how == 0:
            rows[r][2 + c % 2] = str(k % 600)  # a box moved
        elif how == 1:
            del rows[r]
        else:
            rows.insert(r, list(rows[r]))  # a repeated row: fine for detections only
            if key != "det":
                assert_refused(outcome({**clean_files(), key: text(rows).encode()}), key, {r + 1, r + 2})
                return
        changed = {**clean_files(), key: text(rows).encode()}
        assert_same(outcome(changed), outcome(clean_files(**{key: rows})))
    elif kind == "invalid":
        col = c
        value = INVALID_VALUES[k % len(INVALID_VALUES)]
        if k % 4 == 0:  # a rule of the column instead of a malformed number
            col, value = [(0, "0"), (0, "-1"), (0, "1.5"), (0, str(LENGTH + 1)), (1, "1.5"), (1, str(2**31)),
                          (1, "-2"), (4, "-5"), (5, "-0.5")][k % 9]
        rows[r][col] = value
        assert_refused(outcome({**clean_files(), key: text(rows).encode()}), key, line)
    elif kind == "structure":
        how = k % 5
        data = text(rows)
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
            cut = ",".join(rows[r][: 1 + c % 9])
            data = text(rows[:r]) + cut + "\n"
            line = {r + 1} if r else None  # a one-line file has no earlier line to disagree with
        got = outcome({**clean_files(), key: data.encode()})
        if line is None and got[0] == "ok":
            return  # the whole file is that one short line: valid, if pointless, when 6+ columns
        assert_refused(got, key, line)
    else:
        _seqinfo(r, c, k)


def _seqinfo(r: int, c: int, k: int) -> None:
    ini = list(INI)
    how = k % 4
    if how == 0:  # neutral: spacing, comments, key case, blank lines
        ini[4] = [f"seqLength = {LENGTH}", f"SEQLENGTH={LENGTH}", f"seqLength={LENGTH}  "][c % 3]
        ini.insert(1 + r % 7, ["; a comment", "", "# note"][k % 3])
        assert_same(outcome(clean_files(ini=ini)), BASELINE)
    elif how == 1:  # a bad seqLength or frameRate, refused at its line
        bad = ["-1", "0", "abc", "nan", "7.5", "", "1e4", "inf"][r % 8]
        index = 4 if c % 2 else 3
        ini[index] = ini[index].split("=")[0] + "=" + bad
        assert_refused(outcome(clean_files(ini=ini)), "ini", {index + 1})
    elif how == 2:  # shorter than the gt: the gt line is named, with seqinfo.ini as the other suspect
        short = 1 + r % (LENGTH - 1)
        ini[4] = f"seqLength={short}"
        got = outcome(clean_files(ini=ini))
        first = next(i for i, row in enumerate(GT) if int(row[0]) > short) + 1
        assert_refused(got, "gt", {first}, path_key="gt")
        assert "seqinfo.ini" in str(got[1])
    else:  # longer than the gt: frames without boxes change no score, only the frame count
        ini[4] = f"seqLength={LENGTH + 1 + r % 5}"
        got = outcome(clean_files(ini=ini))
        assert got[0] == "ok" and got[1]["CLR_Frames"] == LENGTH + 1 + r % 5
        assert {k: v for k, v in got[1].items() if k != "CLR_Frames"} == \
            {k: v for k, v in BASELINE[1].items() if k != "CLR_Frames"}


def test_the_clean_inputs_score() -> None:
    assert BASELINE[0] == "ok" and 0.5 < BASELINE[1]["HOTA"] < 1


@pytest.fixture(autouse=True, scope="module")
def _cleanup():
    yield
    shutil.rmtree(_WORK, ignore_errors=True)
