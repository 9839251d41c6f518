"""`mot-bench eval --engine/--compare-engines/--workers` and `mot-bench run --engine`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mot_bench.cli import main


def test_eval_compare_engines_prints_zero_differences(shared_data: Path, tmp_path: Path) -> None:
    args = ["eval", "--gt-root", str(shared_data / "MOT15" / "train"), "--results",
            str(shared_data / "trackers" / "MOT15" / "CEM"), "--compare-engines", "--workers", "2",
            "--json", str(tmp_path / "m.json")]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "fast vs trackeval" in out.output
    total = [line for line in out.output.splitlines() if line.startswith("all fields")]
    assert total and total[0].split()[-1] == "0"
    rows = [line.split() for line in out.output.splitlines() if line.startswith(("MOTA ", "IDF1 ", "HOTA_alpha"))]
    assert len(rows) == 3 and all(r[2] == "0" for r in rows)
    assert json.loads((tmp_path / "m.json").read_text())["combined"]["CLR_FP"] == 58


def test_eval_engines_print_the_same_table(shared_data: Path) -> None:
    base = ["eval", "--gt-root", str(shared_data / "MOT15" / "train"), "--results",
            str(shared_data / "trackers" / "MOT15" / "CEM")]
    fast = CliRunner().invoke(main, [*base, "--engine", "fast"])
    ref = CliRunner().invoke(main, [*base, "--engine", "trackeval"])
    assert fast.exit_code == ref.exit_code == 0
    assert fast.output == ref.output and "TUD-Campus" in fast.output


def test_run_engine_option(tmp_path: Path) -> None:
    """The bundled sample with SORT, scored by each engine: same metrics.json numbers."""
    results = {}
    for engine in ("trackeval", "fast"):
        out = tmp_path / engine
        res = CliRunner().invoke(main, ["run", "--tracker", "sort", "--no-progress", "--warmup", "0",
                                        "--out", str(out), "--engine", engine])
        assert res.exit_code == 0, res.output
        results[engine] = json.loads((out / "metrics.json").read_text())
    assert results["fast"]["combined"] == results["trackeval"]["combined"]
    assert results["fast"]["per_sequence"] == results["trackeval"]["per_sequence"]


def test_default_engine_is_fast_and_unknown_engines_are_refused(shared_data: Path) -> None:
    import inspect

    import pytest

    from mot_bench.data.sequences import find_sequences
    from mot_bench.metrics import DEFAULT_ENGINE, EvalError, evaluate

    assert DEFAULT_ENGINE == "fast" and inspect.signature(evaluate).parameters["engine"].default == "fast"
    seqs = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus"])
    with pytest.raises(EvalError, match="unknown scoring engine 'motmetrics'"):
        evaluate(seqs, shared_data / "trackers" / "MOT15" / "CEM", engine="motmetrics")
