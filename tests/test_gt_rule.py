"""One gt rule (mot_bench.data.gt) read by the oracle, FairMOT training and the metrics; one BENCHMARKS."""

from __future__ import annotations

import numpy as np
import pytest

from mot_bench.data.gt import infer_benchmark, is_mot15_style, pedestrian_rows
from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.fairmot.training.dataset import training_rows
from mot_bench.detectors.oracle import OracleDetector
from mot_bench.types import Frame

CASES = [("MOT15", "ETH-Bahnhof", True), ("MOT15", "PETS09-S2L1", True), ("PETS2009", "PETS09-S3-MF1", True),
         ("MOT16", "MOT16-09", False), ("MOT17", "MOT17-09-FRCNN", False)]


def _oracle_rows(seq) -> int:
    det = OracleDetector()
    det.reset(seq)
    return sum(len(rows) for rows in det._frames.values())


@pytest.mark.parametrize(("bench", "name", "mot15"), CASES)
def test_oracle_training_and_metrics_share_the_rule(shared_data, bench, name, mot15) -> None:
    seq = find_sequences(shared_data, bench, "train", [name])[0]
    gt = np.loadtxt(seq.gt_path, delimiter=",")
    expected = gt[(gt[:, 6] != 0) & (True if mot15 else gt[:, 7] == 1)]
    assert is_mot15_style(seq) is mot15
    assert (infer_benchmark(seq) == "MOT15") is mot15
    assert len(pedestrian_rows(seq)) == len(expected)
    assert len(training_rows(seq)) == len(expected)
    assert _oracle_rows(seq) == len(expected)


def test_oracle_drops_zero_marked_mot15_rows_as_the_kit_does(shared_data) -> None:
    """TrackEval scores MOT15 gt rows whose column 7 is non-zero; the oracle used to keep them all."""
    seq = find_sequences(shared_data, "MOT15", "train", ["PETS09-S2L1"])[0]
    gt = np.loadtxt(seq.gt_path, delimiter=",")
    assert (gt[:, 6] == 0).sum() > 0
    frame = int(gt[gt[:, 6] == 0][0, 0])
    det = OracleDetector()
    det.reset(seq)
    assert len(det(Frame(seq, frame))) == int(((gt[:, 0] == frame) & (gt[:, 6] != 0)).sum())


def test_one_benchmark_list() -> None:
    import mot_bench.data.gt as gt
    import mot_bench.data.sequences as sequences
    import mot_bench.metrics as metrics
    import mot_bench.metrics.official as official

    assert sequences.BENCHMARKS is gt.BENCHMARKS
    assert official.BENCHMARKS is gt.BENCHMARKS and metrics.BENCHMARKS is gt.BENCHMARKS
    assert official.infer_benchmark is gt.infer_benchmark
