"""The ``fairmot`` detector end to end on real frames (tiny random network), options and cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mot_bench.data.sequences import read_seqinfo
from mot_bench.detectors.fairmot import build_model, save_checkpoint, weights_hash
from mot_bench.detectors.fairmot.detector import FairMOTDetector
from mot_bench.detectors.precomputed import load_npy
from mot_bench.registry import DETECTORS
from mot_bench.types import Frame, SeqInfo

TINY = {"arch": "dla_tiny", "input_width": 320, "input_height": 192, "head_conv": 32, "K": 40}


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def campus(shared_data: Path) -> SeqInfo:
    seq = read_seqinfo(shared_data / "MOT15" / "train" / "TUD-Campus")
    return dataclasses.replace(seq, last_frame=3)  # three real frames keep it fast


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny network whose heat map fires (hm bias raised so random features give scores > 0.4) and
    whose size head predicts positive extents (wh bias raised; inverted boxes are dropped)."""
    torch.manual_seed(0)
    model = build_model("dla_tiny", head_conv=32)
    with torch.no_grad():
        model.hm[2].bias.fill_(0.5)
        model.wh[2].bias.fill_(4.0)
    path = tmp_path_factory.mktemp("w") / "tiny.pth"
    save_checkpoint(path, model, epoch=1)
    return path


def _run(det: FairMOTDetector, seq: SeqInfo) -> dict[int, object]:
    det.reset(seq)
    out = {}
    for fid in seq.frame_ids:
        img = cv2.imread(str(seq.image_path(fid)))
        assert img is not None
        out[fid] = det(Frame(seq, fid, img))
    return out


def test_detector_on_real_frames(campus: SeqInfo, tiny_weights: Path) -> None:
    det = FairMOTDetector(weights=str(tiny_weights), **TINY)
    assert det.needs_images and det.provides_embeddings and det.dcn == "fast"
    results = _run(det, campus)
    assert det.network_calls == 3
    total = 0
    for d in results.values():
        n = len(d)
        total += n
        assert n <= TINY["K"]
        assert d.tlbr.dtype == np.float32 and np.isfinite(d.tlbr).all()
        assert (d.scores > 0.4).all() and (d.scores <= 1).all()
        assert d.embeddings.shape == (n, 128)
        assert np.allclose(np.linalg.norm(d.embeddings, axis=1), 1.0, atol=1e-5)
        assert (d.tlbr[:, 2] > d.tlbr[:, 0]).all() and (d.tlbr[:, 3] > d.tlbr[:, 1]).all()
    assert total > 0, "raised hm bias should give detections above 0.4"
    cfg = det.config()
    assert cfg["weights_hash"] == weights_hash(torch.load(tiny_weights, weights_only=True)["state_dict"])
    assert cfg["input_width"] == 320 and cfg["conf_thres"] == 0.4 and cfg["dcn"] == "fast"
    assert cfg["precision"] == "fp32" and cfg["random_weights"] is False


def test_cache_round_trip_skips_the_network(campus: SeqInfo, tiny_weights: Path, tmp_path: Path) -> None:
    first = FairMOTDetector(weights=str(tiny_weights), cache_dir=str(tmp_path), **TINY)
    ref = _run(first, campus)
    path = first.cache_path(campus)
    assert path.is_file() and first.network_calls == 3
    assert path.name.startswith("TUD-Campus_f1-3_w")
    stored = load_npy(path)
    assert set(stored) <= {1, 2, 3}

    second = FairMOTDetector(weights=str(tiny_weights), cache_dir=str(tmp_path), **TINY)
    again = _run(second, campus)
    assert second.network_calls == 0 and second._model is None
    for fid, d in ref.items():
        r = again[fid]
        assert len(r) == len(d)
        assert np.allclose(r.tlbr, d.tlbr, atol=1e-3)
        assert np.allclose(r.scores, d.scores, atol=1e-6)
        assert np.allclose(r.embeddings, d.embeddings, atol=1e-5)
    # an interrupted sequence (2 of 3 frames) leaves no cache behind
    partial = FairMOTDetector(weights=str(tiny_weights), cache_dir=str(tmp_path / "p"), **TINY)
    partial.reset(campus)
    for fid in (1, 2):
        partial(Frame(campus, fid, cv2.imread(str(campus.image_path(fid)))))
    assert not partial.cache_path(campus).exists()
    # another threshold is another cache entry: the network runs again
    third = FairMOTDetector(weights=str(tiny_weights), cache_dir=str(tmp_path), **{**TINY, "conf_thres": 0.5})
    assert third.cache_path(campus) != path
    _run(third, campus)
    assert third.network_calls == 3


def test_random_weights_need_consent_and_options_coerce(campus: SeqInfo) -> None:
    # without weights the bundled checkpoint runs; an option that contradicts it says what to do instead
    with pytest.raises(ValueError, match="arch='dla_tiny'.*bundled checkpoint runs.*allow_random=true"):
        FairMOTDetector(arch="dla_tiny")
    with pytest.raises(FileNotFoundError, match="not found"):
        FairMOTDetector(weights="/nonexistent/fairmot.pth")
    with pytest.raises(ValueError, match="multiple of 32"):
        FairMOTDetector(allow_random=True, input_width=1000)
    det = DETECTORS.create(
        "fairmot",
        {"arch": "dla_tiny", "allow_random": "true", "input_width": "320", "input_height": "192",
         "conf_thres": "0.0", "K": "10", "head_conv": "16"},
    )  # fmt: skip
    assert isinstance(det, FairMOTDetector)
    assert det.K == 10 and det.conf_thres == 0.0 and det.runtime.precision == "fp32" and det.allow_random is True
    cfg = det.config()
    assert cfg["random_weights"] is True and "WARNING" in cfg
    img = cv2.imread(str(campus.image_path(1)))
    det.reset(campus)
    d = det(Frame(campus, 1, img))
    # at most K boxes; random size heads may predict inverted boxes, which the decoder drops
    assert len(d) <= 10 and d.embeddings.shape == (len(d), 128)
    assert (d.tlbr[:, 2:] >= d.tlbr[:, :2]).all()


@pytest.mark.slow
def test_batched_frames_equal_one_by_one_and_the_runner_batches(
    campus: SeqInfo, tiny_weights: Path, tmp_path: Path
) -> None:
    single = _run(FairMOTDetector(weights=str(tiny_weights), **TINY), campus)
    batched = FairMOTDetector(weights=str(tiny_weights), batch_size=3, **TINY)
    batched.reset(campus)
    frames = [Frame(campus, f, cv2.imread(str(campus.image_path(f)))) for f in campus.frame_ids]
    got = batched.detect_frames(frames)
    assert batched.network_calls == 3
    for f, d in zip(frames, got, strict=True):
        np.testing.assert_allclose(d.tlbr, single[f.frame_id].tlbr, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(d.embeddings, single[f.frame_id].embeddings, atol=1e-4)

    from mot_bench.results import RunFolder
    from mot_bench.runner import RunOptions, run

    outs = {}
    for bs in (1, 2):
        out = tmp_path / f"bs{bs}"
        opts = {**{k: str(v) for k, v in TINY.items()}, "weights": str(tiny_weights), "batch_size": str(bs)}
        run(RunOptions(detector="fairmot", detector_options=opts, tracker="fairmot",
                       data=str(campus.path), seqs=None, out=str(out), progress=False, evaluate=False,
                       warmup_frames=1))
        outs[bs] = RunFolder(out)
    # whole sequence (71 frames): same tracks, one timing row per frame, batch time shared by its frames
    a = np.loadtxt(outs[1].result_path("TUD-Campus"), delimiter=",", ndmin=2)
    b = np.loadtxt(outs[2].result_path("TUD-Campus"), delimiter=",", ndmin=2)
    np.testing.assert_allclose(a, b, atol=0.02)
    rows = outs[2].read_timing("TUD-Campus")
    assert [r["frame"] for r in rows] == list(range(1, 72))
    assert rows[2]["model"] == rows[3]["model"] > 0  # frames 3 and 4 share one forward pass
