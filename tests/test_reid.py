"""The ``reid`` stage: OSNet/BoT networks, strict weights loading, crops, batching, and the composing
detector end to end (bundled sample -> deepsort), its cache and its timing column. Seeded random weights
only: no published weights can be downloaded here (README 'Re-ID embeddings' says how to plug them in)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mot_bench.detectors.public import PublicDetector
from mot_bench.detectors.reid.crops import clip_boxes, crop_boxes, to_tensor
from mot_bench.detectors.reid.detector import ReIDDetector
from mot_bench.detectors.reid.embedder import Embedder, ReIDWeightsError, load_weights, read_weights
from mot_bench.detectors.reid.models import build_model
from mot_bench.options import OptionError
from mot_bench.registry import DETECTORS
from mot_bench.results import RunFolder
from mot_bench.runner import SAMPLE_ROOT, RunOptions, build, make_detector, run
from mot_bench.runtime import Runtime, RuntimeConfigError
from mot_bench.types import Frame

pytestmark = pytest.mark.usefixtures("torch_one_thread")

SMALL = (32, 16)  # crop size for speed; the published models use (256, 128)


def _random_state(name: str, seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = build_model(name)
    # Non-trivial BatchNorm statistics, so that a file that did not load would show in the outputs.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net.state_dict()


@pytest.fixture(scope="module")
def osnet_file(tmp_path_factory) -> Path:
    """A torchreid-style checkpoint: {'state_dict': ..., 'epoch'}, DataParallel's 'module.' prefix and the
    identity classifier (751 Market-1501 ids) the embedding network does not have."""
    state = _random_state("osnet_x0_25", seed=1)
    state = {f"module.{k}": v for k, v in state.items()}
    state["module.classifier.weight"] = torch.randn(751, 512)
    state["module.classifier.bias"] = torch.zeros(751)
    path = tmp_path_factory.mktemp("weights") / "osnet_x0_25_market.pth"
    torch.save({"state_dict": state, "epoch": 150}, path)
    return path


# ----------------------------------------------------------------------------------------- models


@pytest.mark.parametrize(("name", "dim"), [("osnet_x0_25", 512), ("bot_r50", 2048)])
def test_models_give_unit_embeddings_of_their_size(name, dim):
    emb = Embedder(name, allow_random=True, seed=3)
    out = emb.embed_tensor(torch.randn(3, 3, 64, 32))
    assert out.shape == (3, dim) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(out[0], out[1])


def test_parameter_names_follow_the_published_code():
    osnet = build_model("osnet_x0_25").state_dict()
    for key in ("conv1.conv.weight", "conv1.bn.running_var", "conv2.0.conv2a.conv1.weight",
                "conv2.0.conv2d.3.conv2.weight", "conv2.0.gate.fc1.bias", "conv2.0.downsample.conv.weight",
                "conv2.2.0.conv.weight", "conv4.0.downsample.bn.weight", "conv5.conv.weight", "fc.0.weight",
                "fc.1.running_mean"):
        assert key in osnet, key
    assert osnet["conv1.conv.weight"].shape == (16, 3, 7, 7) and osnet["fc.0.weight"].shape == (512, 128)
    assert not any(k.startswith("classifier") for k in osnet)
    bot = build_model("bot_r50").state_dict()
    for key in ("base.conv1.weight", "base.bn1.running_mean", "base.layer3.5.bn3.weight",
                "base.layer4.0.downsample.0.weight", "bottleneck.weight", "bottleneck.running_var"):
        assert key in bot, key
    assert build_model("bot_r50").base.layer4[0].conv2.stride == (1, 1)  # last stride 1, as BoT


TORCHREID = Path(__file__).parent / "fixtures" / "reid" / "osnet_x0_25-torchreid.json"


def test_osnet_equals_torchreids_own_network(tmp_path):
    """torchreid's OSNet (KaiyangZhou/deep-person-reid's osnet.py run on seeded weights, see
    tests/fixtures/reid/PROVENANCE.md): its state dict, identity classifier included, saved as torchreid
    names it, loads strictly into ours (the same parameter names in the same order) and gives the same
    512-d features on the same input, and so the same embeddings."""
    import json

    from seeded_weights import seeded_input, seeded_state, tensors_sha256

    ref = json.loads(TORCHREID.read_text())
    state = seeded_state(ref["keys"], ref["seed"])
    x = seeded_input(ref["input_shape"], ref["seed"])
    assert tensors_sha256(state) == ref["weights_sha256"] and tensors_sha256({"x": x}) == ref["input_sha256"]
    torch.save(state, tmp_path / "torchreid_osnet.pth")
    emb = Embedder(ref["model"], tmp_path / "torchreid_osnet.pth")
    net = emb.network()
    assert list(net.state_dict()) == [k for k, _, _ in ref["keys"] if not k.startswith("classifier.")]
    expected = torch.tensor(ref["features"])
    with torch.inference_mode():
        features = net(x)
    assert (expected > 0).float().mean() > 0.2  # the seeded BatchNorms leave many features alive
    torch.testing.assert_close(features, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(emb.embed_tensor(x), torch.nn.functional.normalize(expected, dim=1).numpy(),
                               rtol=0, atol=1e-6)


# -------------------------------------------------------------------------------- strict loading


def test_a_published_style_checkpoint_loads_strictly_and_round_trips(osnet_file, tmp_path):
    state = read_weights(osnet_file)
    assert "conv1.conv.weight" in state and "classifier.weight" in state  # module. dropped
    x = torch.randn(2, 3, 64, 32)
    a = Embedder("osnet_x0_25", osnet_file)
    expected = a.embed_tensor(x)
    assert a.weights_hash == Embedder("osnet_x0_25", osnet_file).weights_hash
    # The loaded network's own state dict, saved bare, loads and gives the same embeddings.
    bare = tmp_path / "bare.pth"
    torch.save(a.network().state_dict(), bare)
    np.testing.assert_array_equal(Embedder("osnet_x0_25", bare).embed_tensor(x), expected)
    random = Embedder("osnet_x0_25", allow_random=True, seed=1).embed_tensor(x)
    assert not np.allclose(random, expected, atol=1e-3)  # the file's BatchNorm statistics were used


def test_missing_unexpected_and_misshaped_keys_are_listed():
    state = _random_state("osnet_x0_25")
    del state["fc.0.weight"], state["conv5.bn.running_mean"]
    state["head.extra.weight"] = torch.zeros(3)
    state["fc.0.bias"] = torch.zeros(7)
    with pytest.raises(ReIDWeightsError) as err:
        load_weights(build_model("osnet_x0_25"), state, "osnet_x0_25", "w.pth")
    text = str(err.value)
    assert "w.pth does not match re-ID model osnet_x0_25 (torchreid" in text
    assert "missing keys (2): conv5.bn.running_mean, fc.0.weight" in text
    assert "unexpected keys (1): head.extra.weight" in text
    assert "fc.0.bias: file (7,) vs model (512,)" in text


@pytest.mark.parametrize(("file_model", "chosen", "says"), [
    ("osnet_x1_0", "osnet_x0_25", "looks like osnet_x1_0, not osnet_x0_25"),
    ("osnet_x0_25", "bot_r50", "looks like osnet_x0_25, not bot_r50"),
])
def test_weights_of_another_architecture_say_which(tmp_path, file_model, chosen, says):
    path = tmp_path / "w.pth"
    torch.save(build_model(file_model).state_dict(), path)
    with pytest.raises(ReIDWeightsError, match=says):
        Embedder(chosen, path).network()


def test_no_weights_needs_allow_random_and_bad_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="allow_random=true"):
        Embedder("osnet_x0_25")
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    with pytest.raises(ReIDWeightsError, match="cannot read as a PyTorch state dict"):
        Embedder("osnet_x0_25", bad)
    with pytest.raises(ReIDWeightsError, match="not found"):
        Embedder("osnet_x0_25", tmp_path / "absent.pth")


# ------------------------------------------------------------------------------------------ crops


def test_crops_at_image_borders():
    h, w = 40, 60
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.stack([xx, yy, xx + yy], axis=-1).astype(np.uint8)  # BGR, every pixel tells its position
    boxes = np.array([
        [10.2, 5.0, 20.0, 25.4],      # inside
        [-15.0, -8.0, 10.0, 12.0],    # over the top-left corner
        [50.0, 30.0, 90.0, 70.0],     # over the bottom-right corner
        [100.0, 100.0, 120.0, 130.0],  # wholly outside: the nearest border pixel
        [5.0, 5.0, 5.0, 5.0],          # degenerate
    ])
    np.testing.assert_array_equal(clip_boxes(boxes, w, h), [[10, 5, 20, 25], [0, 0, 10, 12], [50, 30, 60, 40],
                                                            [59, 39, 60, 40], [5, 5, 6, 6]])
    crops = crop_boxes(image, boxes, (20, 10))
    assert crops.shape == (5, 20, 10, 3) and crops.dtype == np.uint8
    # A crop of exactly the output size is copied unchanged; the corner box keeps its inside part.
    np.testing.assert_array_equal(crop_boxes(image, [[10, 5, 20, 25]], (20, 10))[0], image[5:25, 10:20])
    np.testing.assert_array_equal(crop_boxes(image, [[-5, -5, 10, 20]], (20, 10))[0], image[0:20, 0:10])
    assert (crops[3] == image[39, 59]).all() and (crops[4] == image[5, 5]).all()
    x = to_tensor(crops[:1])
    assert x.shape == (1, 3, 20, 10)
    # RGB order and ImageNet normalisation: channel 0 is the image's red (BGR index 2).
    red = image[5, 10, 2] / 255.0
    assert x[0, 0, 0, 0].item() == pytest.approx((red - 0.485) / 0.229, abs=1e-5)


def test_batching_equals_one_by_one():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    boxes = [np.array([[0, 0, 20, 40], [30, 5, 60, 45.5]]), np.zeros((0, 4)),
             np.array([[5, 5, 25, 30], [-5, 10, 15, 50], [40, 0, 70, 20]])]
    batched = Embedder("osnet_x0_25", allow_random=True, size=SMALL, crop_batch=4)
    out = batched.embed_frames(images, boxes)
    assert [o.shape for o in out] == [(2, 512), (0, 512), (3, 512)]
    assert batched.calls == 2  # five crops, four at a time, across frames
    single = Embedder("osnet_x0_25", allow_random=True, size=SMALL, crop_batch=1)
    for im, bx, o in zip(images, boxes, out, strict=True):
        for box, row in zip(bx, o, strict=True):
            np.testing.assert_allclose(single.embed(im, box[None])[0], row, atol=1e-5)


# -------------------------------------------------------------------------- the detector, composed


def test_base_options_pass_through_and_runtime_reaches_every_part():
    rt = Runtime()
    det = make_detector("reid", {"allow_random": "true", "base.min_score": "0.5", "det_dir": None}, rt)
    assert det.base_detector.name == "public" and det.base_detector.min_score == 0.5
    assert det.base_detector.runtime is rt and det.embedder.runtime is rt
    assert det.config()["base_config"] == {"name": "public", "det_dir": None, "min_score": 0.5, "loose_det_dir": None}
    with pytest.raises(OptionError, match="min_score given both"):
        DETECTORS.create("reid", {"base_options": '{"min_score": 0.1}', "base.min_score": "0.5",
                                  "allow_random": "true"})
    with pytest.raises(RuntimeConfigError, match="device"):
        make_detector("reid", {"allow_random": "true", "base.device": "cuda"}, rt)
    with pytest.raises(ValueError, match="base=reid"):
        DETECTORS.create("reid", {"base": "reid", "allow_random": "true"})


def test_a_tracker_needing_embeddings_names_the_detectors_that_provide_them():
    with pytest.raises(ValueError) as err:
        build(RunOptions(detector="public", tracker="deepsort"))
    text = str(err.value)
    assert "tracker 'deepsort' needs re-ID embeddings but detector 'public' provides none" in text
    for provider in ("fairmot", "precomputed", "oracle with with_embeddings=true", "reid"):
        assert provider in text
    detector, _ = build(RunOptions(detector="reid", tracker="deepsort", detector_options={"allow_random": "true"}))
    assert detector.provides_embeddings


def test_wrap_outside_the_runner():
    seq_root = SAMPLE_ROOT / "MOT15" / "train" / "TUD-Campus"
    from mot_bench.data.sequences import find_sequences

    seq = find_sequences(SAMPLE_ROOT, "MOT15", "train", ["TUD-Campus"])[0]
    det = ReIDDetector.wrap(PublicDetector(), allow_random=True, crop_height=32, crop_width=16)
    det.reset(seq)
    import cv2

    image = cv2.imread(str(seq_root / "img1" / "000001.jpg"))
    out = det(Frame(frame_id=1, seq=seq, image=image))
    assert len(out) > 0 and out.embeddings.shape == (len(out), 512)
    np.testing.assert_allclose(np.linalg.norm(out.embeddings, axis=1), 1.0, rtol=1e-6)


def test_reid_detector_end_to_end_feeds_deepsort_and_replays_its_cache(tmp_path, monkeypatch):
    """The bundled sample (MOT15 TUD-Campus, 71 frames, public detections) -> reid -> deepsort, twice."""
    cache = tmp_path / "cache"
    opts = dict(detector="reid", tracker="deepsort", progress=False,
                detector_options={"allow_random": "true", "crop_height": "32", "crop_width": "16",
                                  "cache_dir": str(cache), "base.min_score": "0"})
    first = run(RunOptions(**opts, out=str(tmp_path / "a")))
    files = list(cache.glob("TUD-Campus_f1-71_b*_osnet_x0_25_wrandom-*_c32x16_fp32.npy"))
    assert len(files) == 1
    assert first.metrics["combined"]["CLR_TP"] > 0
    timing = RunFolder(tmp_path / "a").read_timing("TUD-Campus")
    assert "reid" in timing[0] and all(r["reid"] > 0 for r in timing)
    assert first.timing["combined"]["ms_per_frame"]["reid"] > 0
    header = (tmp_path / "a" / "timing" / "TUD-Campus.csv").read_text().splitlines()[0]
    assert header.split(",")[6] == "reid"
    config = RunFolder(tmp_path / "a").read_config()["detector"]
    assert config["base_config"]["name"] == "public" and config["model"] == "osnet_x0_25"

    # Second run, same key: the network never runs and the tracks are the same.
    def refuse(*args, **kwargs):
        raise AssertionError("the re-ID network ran on a cached sequence")

    monkeypatch.setattr(Embedder, "embed_tensor", refuse)
    monkeypatch.setattr(PublicDetector, "__call__", refuse)
    second = run(RunOptions(**opts, out=str(tmp_path / "b")))
    a = (tmp_path / "a" / "results" / "TUD-Campus.txt").read_text()
    assert a == (tmp_path / "b" / "results" / "TUD-Campus.txt").read_text()
    assert second.metrics["combined"]["HOTA"] == first.metrics["combined"]["HOTA"]
    assert all(r["reid"] > 0 for r in RunFolder(tmp_path / "b").read_timing("TUD-Campus"))

    # Another crop size is another key: not a hit.
    monkeypatch.undo()
    other = dict(opts, detector_options={**opts["detector_options"], "crop_height": "64", "crop_width": "32"})
    calls = []
    monkeypatch.setattr(Embedder, "embed_tensor", lambda self, x: calls.append(len(x)) or
                        np.tile(np.eye(1, 512, dtype=np.float32), (len(x), 1)))
    run(RunOptions(**other, out=str(tmp_path / "c"), evaluate=False))
    assert calls and len(list(cache.glob("*.npy"))) == 2


def test_old_timing_files_without_the_reid_column_still_load(tmp_path):
    folder = RunFolder(tmp_path)
    folder.timing_dir.mkdir(parents=True)
    (folder.timing_dir / "S.csv").write_text(
        "frame,warmup,read,preprocess,model,postprocess,track,write,decode,total\n"
        "1,0,0.1,0,0.2,0,0.3,0,0,0.6\n")
    (folder.results_dir).mkdir()
    (folder.results_dir / "S.txt").write_text("")
    rows = folder.read_timing("S")
    assert rows == [{"frame": 1, "warmup": 0, "read": 0.1, "preprocess": 0.0, "model": 0.2, "postprocess": 0.0,
                     "reid": 0.0, "track": 0.3, "write": 0.0, "decode": 0.0, "total": 0.6, "cmc": 0.0,
                     "track_post": 0.0}]
    summary = folder.timing_summary()["combined"]
    assert summary["ms_per_frame"]["reid"] == 0 and summary["stage_fps"]["reid"] is None
    (folder.timing_dir / "S.csv").write_text("frame,warmup,read\n1,0,0.1\n")
    with pytest.raises(ValueError, match="missing timing columns"):
        folder.read_timing("S")
