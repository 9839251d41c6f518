"""Text-file detectors: public, oracle (seeded noise) and precomputed (deep_sort .npy)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.sequences import find_sequences
from mot_bench.detectors.oracle import OracleDetector
from mot_bench.detectors.precomputed import PrecomputedDetector, PrecomputedFormatError, load_npy, save_npy
from mot_bench.detectors.public import PublicDetector
from mot_bench.registry import DETECTORS, parse_bool
from mot_bench.types import Detections, Frame

REPO = Path(__file__).resolve().parents[1]


def test_public_detector_reads_real_det_and_det_dir(shared_data):
    seq = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus"])[0]
    det = PublicDetector()
    det.reset(seq)
    d = det(Frame(seq, 1))
    rows = np.loadtxt(seq.det_path, delimiter=",")
    first = rows[rows[:, 0] == 1]
    assert len(d) == len(first)
    np.testing.assert_allclose(d.tlbr[:, 2], first[:, 2] + first[:, 4], rtol=1e-6)
    sort_dir = shared_data / "detections/MOT15/SORT_FRCNN"
    frcnn = PublicDetector(det_dir=str(sort_dir), min_score=0.5)
    frcnn.reset(seq)
    assert all((frcnn(Frame(seq, f)).scores >= 0.5).all() for f in seq.frame_ids)
    with pytest.raises(FileNotFoundError, match="no detection file"):
        PublicDetector(det_dir=str(shared_data)).reset(seq)


def test_oracle_is_seeded_and_noise_does_what_it_says(shared_data):
    seq = find_sequences(shared_data, "MOT17", "train", ["MOT17-09-FRCNN"])[0]
    clean = OracleDetector()
    clean.reset(seq)
    noisy_a = OracleDetector(jitter=0.05, miss_rate=0.3, fp_per_frame=2, seed=7)
    noisy_b = OracleDetector(jitter=0.05, miss_rate=0.3, fp_per_frame=2, seed=7)
    noisy_a.reset(seq)
    noisy_b.reset(seq)
    n_clean = n_noisy = 0
    for f in range(1, 60):
        a, b = noisy_a(Frame(seq, f)), noisy_b(Frame(seq, f))
        np.testing.assert_array_equal(a.tlbr, b.tlbr)
        n_clean += len(clean(Frame(seq, f)))
        n_noisy += len(a)
    # 30% misses and ~2 false positives per frame over 59 frames
    assert n_noisy == pytest.approx(0.7 * n_clean + 2 * 59, rel=0.1)


def test_oracle_keeps_only_scored_gt_rows(shared_data):
    seq = find_sequences(shared_data, "MOT17", "train", ["MOT17-09-FRCNN"])[0]
    det = OracleDetector()
    det.reset(seq)
    gt = np.loadtxt(seq.gt_path, delimiter=",")
    keep = gt[(gt[:, 0] == 1) & (gt[:, 6] == 1) & (gt[:, 7] == 1)]
    assert len(det(Frame(seq, 1))) == len(keep)


def test_precomputed_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((3, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    frames = {1: Detections([[0, 0, 10, 20], [5, 5, 15, 30]], [0.9, 0.8], emb[:2]),
              4: Detections([[1, 2, 3, 4]], [0.5], emb[2:])}
    save_npy(tmp_path / "SEQ.npy", frames)
    arr = np.load(tmp_path / "SEQ.npy")
    assert arr.shape == (3, 26) and (arr[:, 1] == -1).all()
    back = load_npy(tmp_path / "SEQ.npy")
    assert sorted(back) == [1, 4]
    np.testing.assert_allclose(back[1].tlbr, frames[1].tlbr)
    np.testing.assert_allclose(back[4].embeddings, emb[2:], atol=1e-6)
    det = PrecomputedDetector(det_dir=str(tmp_path))
    seq = type("S", (), {"name": "SEQ"})()
    det.reset(seq)
    assert det.provides_embeddings and len(det(Frame(seq, 2))) == 0
    np.save(tmp_path / "BAD.npy", np.zeros((3, 5)))
    with pytest.raises(PrecomputedFormatError, match=r"BAD.npy: expected a 2-D array with 10 MOTChallenge"):
        load_npy(tmp_path / "BAD.npy")


def test_registry_lists_builtins_and_parses_booleans_strictly():
    assert {"public", "oracle", "precomputed", "fairmot"} <= set(DETECTORS.names())
    assert parse_bool("False") is False and parse_bool("yes") is True
    with pytest.raises(ValueError, match="expected a boolean"):
        parse_bool("maybe")
    det = DETECTORS.create("oracle", {"with_embeddings": "false", "jitter": "0.1"})
    assert det.with_embeddings is False and det.jitter == 0.1


def test_ci_runs_exactly_the_readme_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme.split("## Using it")[0], re.S)
    assert len(commands) == 2, "README keeps exactly two set-up commands"
    for cmd in commands:
        assert cmd.strip() in ci
