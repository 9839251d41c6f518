"""mot_bench.metrics: official scores via TrackEval, on real MOT15 data and small synthetic cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import EvalError, check_eval_dependencies, evaluate, infer_benchmark
from mot_bench.types import SeqInfo

# --------------------------------------------------------------------------------------------------
# helpers: tiny synthetic sequences


def make_seq(root: Path, name: str, length: int, gt_rows: list[str], first: int = 1, last: int = 0) -> SeqInfo:
    seq_dir = root / "data" / name
    (seq_dir / "gt").mkdir(parents=True)
    (seq_dir / "gt" / "gt.txt").write_text("".join(r + "\n" for r in gt_rows), encoding="utf-8")
    return SeqInfo(name, seq_dir, length, 640, 480, 30.0, first_frame=first, last_frame=last)


def write_results(root: Path, name: str, rows: list[str]) -> Path:
    res_dir = root / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / f"{name}.txt").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return res_dir


def box(frame: int, obj: int, x: float, cls: int | None = 1, w: float = 40, h: float = 80) -> str:
    """A gt row (MOT17 9 columns, with class) or, with cls=None, a result row (10 columns)."""
    if cls is None:
        return f"{frame},{obj},{x},50,{w},{h},0.9,-1,-1,-1"
    return f"{frame},{obj},{x},50,{w},{h},1,{cls},1.0"


def two_people(length: int) -> list[str]:
    return [r for f in range(1, length + 1) for r in (box(f, 1, 10 + f), box(f, 2, 300 + f))]


# --------------------------------------------------------------------------------------------------
# real data: CEM on TUD-Campus / TUD-Stadtmitte against the official MATLAB devkit and TrackEval


@pytest.fixture(scope="module")
def cem(shared_data: Path) -> tuple[dict, dict]:
    seqs = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus", "TUD-Stadtmitte"])
    result = evaluate(seqs, shared_data / "trackers" / "MOT15" / "CEM")
    expected = json.loads((shared_data / "expected_metrics.json").read_text())["CEM_TUD_Campus_and_Stadtmitte"]
    return result, expected


# devkit column -> (our field, scale to the devkit's printed unit)
DEVKIT = {"IDF1": ("IDF1", 100), "IDP": ("IDP", 100), "IDR": ("IDR", 100), "Rcll": ("CLR_Re", 100),
          "Prcn": ("CLR_Pr", 100), "FAR": ("FP_per_frame", 1), "GT": ("GT_IDs", 1), "MT": ("MT", 1),
          "PT": ("PT", 1), "ML": ("ML", 1), "FP": ("CLR_FP", 1), "FN": ("CLR_FN", 1), "IDs": ("IDSW", 1),
          "FM": ("Frag", 1), "MOTA": ("MOTA", 100), "MOTP": ("MOTP", 100)}


def test_cem_mot15_matches_official_devkit(cem: tuple[dict, dict]) -> None:
    result, expected = cem
    assert result["benchmark"] == "MOT15"  # 10-column gt: no class preprocessing, as the kit does for MOT15
    for seq, official in expected["matlab_devkit_official"].items():
        if seq == "source":
            continue
        ours = result["per_sequence"][seq]
        for col, (field, scale) in DEVKIT.items():
            decimals = 2 if col == "FAR" else 1
            assert round(ours[field] * scale, decimals) == pytest.approx(official[col]), (seq, col, ours[field])


def test_cem_motal_differs_from_devkit_only_by_its_log_term(cem: tuple[dict, dict]) -> None:
    """TrackEval's MOTAL subtracts log10(IDSW), the MATLAB devkit log10(IDSW + 1): same counts, other formula."""
    result, expected = cem
    for seq in ("TUD-Campus", "TUD-Stadtmitte"):
        r = result["per_sequence"][seq]
        gt = r["CLR_TP"] + r["CLR_FN"]
        trackeval_motal = (r["CLR_TP"] - r["CLR_FP"] - math.log10(r["IDSW"])) / gt
        devkit_motal = 1 - (r["CLR_FN"] + r["CLR_FP"] + math.log10(r["IDSW"] + 1)) / gt
        assert r["MOTAL"] == pytest.approx(trackeval_motal, abs=1e-12)
        assert round(100 * devkit_motal, 1) == expected["matlab_devkit_official"][seq]["MOTAL"]


def test_cem_mot15_matches_py_motmetrics_and_trackeval_hota(cem: tuple[dict, dict]) -> None:
    result, expected = cem
    pm = expected["py_motmetrics_test_expected"]
    fields = ["IDF1", "IDP", "IDR", "CLR_Re", "CLR_Pr", "GT_IDs", "MT", "PT", "ML", "CLR_FP", "CLR_FN", "IDSW",
              "Frag", "MOTA", "MOTP"]
    assert len(fields) == len(pm["columns"])
    for seq in ("TUD-Campus", "TUD-Stadtmitte", "OVERALL"):
        ours = result["combined"] if seq == "OVERALL" else result["per_sequence"][seq]
        for field, col, want in zip(fields, pm["columns"], pm[seq], strict=True):
            got = 1 - ours[field] if col == "motp(1-IoU)" else ours[field]
            assert got == pytest.approx(want, abs=1e-6), (seq, field)
    for seq, golden in expected["trackeval_hota_golden"].items():
        if seq in ("note", "source"):
            continue
        for field in ("HOTA", "DetA", "AssA"):
            assert result["per_sequence"][seq][field] == pytest.approx(golden[field], abs=1e-12), (seq, field)


def test_result_shape_alpha_arrays_and_json(cem: tuple[dict, dict]) -> None:
    result, _ = cem
    assert result["alphas"] == pytest.approx([0.05 * k for k in range(1, 20)])
    for fields in [*result["per_sequence"].values(), result["combined"]]:
        for name in ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr"):
            assert len(fields[f"{name}_alpha"]) == 19
            assert fields[name] == pytest.approx(sum(fields[f"{name}_alpha"]) / 19, abs=1e-15)
        for name in ("HOTA(0)", "LocA(0)", "HOTALocA(0)", "MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR",
                     "PTR", "MLR", "sMOTA", "IDF1", "IDR", "IDP"):
            assert type(fields[name]) is float, name
        for name in ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "IDTP", "IDFN", "IDFP",
                     "Dets", "GT_Dets", "IDs", "GT_IDs"):
            assert type(fields[name]) is int, name
    json.dumps(result, allow_nan=False)


# --------------------------------------------------------------------------------------------------
# frame ranges, misses, preprocessing


def test_half_range_counts_only_its_frames(tmp_path: Path) -> None:
    length, first = 10, 6
    gt = two_people(length)
    res = []
    for f in range(1, length + 1):
        if f < first:  # outside the range: wrong places and an extra id; must not count
            res += [box(f, 5, 500, None), box(f, 6, 200, None), box(f, 7, 100, None)]
        else:
            res.append(box(f, 1, 10 + f, None))
            if f != 8:  # one miss inside the range
                res.append(box(f, 2, 300 + f, None))
    res_dir = write_results(tmp_path, "SYN-01", res)
    half = make_seq(tmp_path, "SYN-01", length, gt, first=first, last=length)
    r = evaluate([half], res_dir, benchmark="MOT17")["per_sequence"]["SYN-01"]
    assert (r["GT_Dets"], r["Dets"], r["CLR_TP"], r["CLR_FN"], r["CLR_FP"], r["IDSW"]) == (10, 9, 9, 1, 0, 0)
    assert (r["GT_IDs"], r["IDs"]) == (2, 2)
    assert r["MOTA"] == pytest.approx(0.9)

    # the same frames laid out by hand as a 5-frame sequence give identical scores in every field
    short_gt = [box(f - first + 1, o, x) for f in range(first, length + 1) for o, x in ((1, 10 + f), (2, 300 + f))]
    short_res = [box(f - first + 1, 1, 10 + f, None) for f in range(first, length + 1)]
    short_res += [box(f - first + 1, 2, 300 + f, None) for f in range(first, length + 1) if f != 8]
    short_dir = write_results(tmp_path / "short", "SYN-01", sorted(short_res, key=lambda s: int(s.split(",")[0])))
    short = make_seq(tmp_path / "short", "SYN-01", length - first + 1, short_gt)
    assert evaluate([short], short_dir, benchmark="MOT17")["per_sequence"]["SYN-01"] == r

    full = make_seq(tmp_path / "full", "SYN-01", length, gt)
    rf = evaluate([full], res_dir, benchmark="MOT17")["per_sequence"]["SYN-01"]
    assert rf["GT_Dets"] == 20 and rf["CLR_FP"] > 0  # the range really did exclude frames 1..5


def test_frames_without_output_are_misses(tmp_path: Path) -> None:
    seq = make_seq(tmp_path, "SYN-02", 6, two_people(6))
    rows = [box(f, o, x + f, None) for f in (1, 2) for o, x in ((1, 10), (2, 300))]
    res_dir = write_results(tmp_path, "SYN-02", rows)
    r = evaluate([seq], res_dir, benchmark="MOT17")["combined"]
    assert (r["GT_Dets"], r["CLR_TP"], r["CLR_FN"]) == (12, 4, 8)
    empty = write_results(tmp_path / "empty", "SYN-02", [])
    r0 = evaluate([seq], empty, benchmark="MOT17")["combined"]
    assert (r0["CLR_TP"], r0["CLR_FN"], r0["MOTA"], r0["HOTA"]) == (0, 12, 0.0, 0.0)


@pytest.mark.parametrize("first", [1, 3])
def test_result_files_trackeval_cannot_read_are_scored_the_same(tmp_path: Path, first: int) -> None:
    """6 columns, spaces and blank lines are valid MOT text; TrackEval's reader would fail on them."""
    clean = [box(f, o, x + f + 0.25, None) for f in range(1, 7) for o, x in ((1, 10), (2, 300)) if (f, o) != (4, 2)]
    odd = []
    for row in clean:
        odd += [" ".join(row.split(",")[:6]), ""]
    seq = make_seq(tmp_path, "SYN-08", 6, two_people(6), first=first, last=6)
    want = evaluate([seq], write_results(tmp_path / "clean", "SYN-08", clean), benchmark="MOT17")
    got = evaluate([seq], write_results(tmp_path / "odd", "SYN-08", odd), benchmark="MOT17")
    assert got == want
    assert want["combined"]["CLR_FN"] == (1 if first <= 4 else 0) and want["combined"]["CLR_TP"] > 0


def test_mot20_removes_its_extra_distractor_class(tmp_path: Path) -> None:
    """non_mot_vehicle (class 6) is a distractor in MOT20 only: a box on it is ignored there, an FP in MOT17."""
    gt = [r for f in range(1, 4) for r in (box(f, 1, 10), box(f, 2, 300, cls=6))]
    res = [r for f in range(1, 4) for r in (box(f, 1, 10, None), box(f, 2, 300, None))]
    seq = make_seq(tmp_path, "MOT20-99", 3, gt)
    res_dir = write_results(tmp_path, "MOT20-99", res)
    assert infer_benchmark(seq) == "MOT20"
    r20 = evaluate([seq], res_dir)
    r17 = evaluate([seq], res_dir, benchmark="MOT17")
    assert r20["benchmark"] == "MOT20"
    assert (r20["combined"]["CLR_FP"], r20["combined"]["Dets"], r20["combined"]["MOTA"]) == (0, 3, 1.0)
    assert (r17["combined"]["CLR_FP"], r17["combined"]["Dets"]) == (3, 6)


def test_benchmark_inference_and_mixing(tmp_path: Path, shared_data: Path) -> None:
    pets = find_sequences(shared_data / "PETS2009", None, "train")[0]
    assert infer_benchmark(pets) == "MOT15"  # 10-column 3D gt
    mot17 = make_seq(tmp_path, "CUSTOM-01", 3, two_people(3))
    assert infer_benchmark(mot17) == "MOT17"
    res_dir = write_results(tmp_path, "CUSTOM-01", [])
    write_results(tmp_path, pets.name, [])
    with pytest.raises(EvalError, match="different benchmarks"):
        evaluate([mot17, pets], res_dir)
    with pytest.raises(EvalError, match="benchmark='MOT15'"):
        evaluate([pets], res_dir, benchmark="MOT17")
    with pytest.raises(EvalError, match="unknown benchmark"):
        evaluate([mot17], res_dir, benchmark="KITTI")


# --------------------------------------------------------------------------------------------------
# bad inputs: clear errors naming file and line


def test_missing_result_file_is_named(tmp_path: Path) -> None:
    seq = make_seq(tmp_path, "SYN-03", 3, two_people(3))
    res_dir = tmp_path / "results"
    res_dir.mkdir()
    with pytest.raises(EvalError, match=r"missing result file .*SYN-03\.txt") as err:
        evaluate([seq], res_dir)
    assert err.value.path == str(res_dir / "SYN-03.txt")


def test_duplicate_id_names_file_and_line(tmp_path: Path) -> None:
    seq = make_seq(tmp_path, "SYN-04", 3, two_people(3))
    rows = [box(1, 1, 11, None), box(2, 1, 12, None), "", box(2, 4, 200, None), box(2, 1, 300, None)]
    res_dir = write_results(tmp_path, "SYN-04", rows)
    with pytest.raises(EvalError, match=r"SYN-04\.txt:5: id 1 appears 2 times in frame 2") as err:
        evaluate([seq], res_dir)
    assert err.value.line == 5


def test_malformed_result_line_names_file_and_line(tmp_path: Path) -> None:
    seq = make_seq(tmp_path, "SYN-05", 3, two_people(3))
    res_dir = write_results(tmp_path, "SYN-05", [box(1, 1, 11, None), "2,1,12,50,abc,80,0.9,-1,-1,-1"])
    with pytest.raises(EvalError, match=r"SYN-05\.txt:2: column 5 is not a number"):
        evaluate([seq], res_dir)
    write_results(tmp_path, "SYN-05", [box(1, 1, 11, None), box(9, 1, 11, None)])
    with pytest.raises(EvalError, match=r"SYN-05\.txt:2: frame 9 is outside the sequence"):
        evaluate([seq], res_dir)
    write_results(tmp_path, "SYN-05", [box(1, 1, 11, None), "", "2,3,12,50,40,80,0.9,2,-1,-1"])
    with pytest.raises(EvalError, match=r"SYN-05\.txt:3: column 8 .* class"):
        evaluate([seq], res_dir)


def test_gt_missing_and_bad_metric(tmp_path: Path) -> None:
    seq = SeqInfo("NOGT-01", tmp_path / "NOGT-01", 3, 640, 480, 30.0)
    res_dir = write_results(tmp_path, "NOGT-01", [])
    with pytest.raises(EvalError, match="no ground truth"):
        evaluate([seq], res_dir, benchmark="MOT17")
    with pytest.raises(EvalError, match="unknown metric"):
        evaluate([seq], res_dir, metrics=("MOTA",))


# --------------------------------------------------------------------------------------------------
# quiet, parallel, subsets of metrics, dependency check


def test_quiet_parallel_and_metric_subset(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    seqs = []
    for i, name in enumerate(("SYN-06", "SYN-07")):
        seqs.append(make_seq(tmp_path, name, 5, two_people(5)))
        res_dir = write_results(tmp_path, name, [box(f, 1 + i, 10 + f, None) for f in range(1, 6)])
    one = evaluate(seqs, res_dir)
    two = evaluate(seqs, res_dir, num_workers=2)
    assert one == two
    assert capfd.readouterr().out == ""  # TrackEval prints nothing through us
    sub = evaluate(seqs, res_dir, metrics=("Identity",))
    assert "IDF1" in sub["combined"] and "MOTA" not in sub["combined"] and "HOTA" not in sub["combined"]
    assert sub["combined"]["IDF1"] == one["combined"]["IDF1"]


def test_check_eval_dependencies_passes() -> None:
    check_eval_dependencies()


def test_check_eval_dependencies_reports_numpy_breakage(monkeypatch: pytest.MonkeyPatch) -> None:
    import trackeval

    def broken(self, data):  # what an old TrackEval does on numpy 2
        raise AttributeError("module 'numpy' has no attribute 'float'")

    monkeypatch.setattr(trackeval.metrics.HOTA, "eval_sequence", broken)
    with pytest.raises(RuntimeError, match=r"numpy.*np\.float"):
        check_eval_dependencies()
