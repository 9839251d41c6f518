"""Camera-motion compensation: the official GMC files, the image methods on a synthetic pair shifted
by a known translation, the per-sequence estimator and cache, and every image method against the
official code (BoT-SORT's GMC, StrongSORT's ECC) on real frames under the installed OpenCV."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import cv2  # a declared dependency (pyproject.toml): its absence is a failure, not a skip
import numpy as np
import pytest

from mot_bench.trackers.common import cmc
from mot_bench.types import SeqInfo


def _pair(dx: int, dy: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two 640x480 BGR views of one blocky texture; content moves by (dx, dy) px from the first to the second."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (66, 88), dtype=np.uint8)
    base = cv2.resize(base, (704, 528), interpolation=cv2.INTER_NEAREST)
    base = cv2.cvtColor(cv2.GaussianBlur(base, (5, 5), 1.0), cv2.COLOR_GRAY2BGR)
    prev = base[24:504, 32:672]
    curr = base[24 - dy : 504 - dy, 32 - dx : 672 - dx]
    return np.ascontiguousarray(prev), np.ascontiguousarray(curr)


@pytest.mark.parametrize("method, tol", [("orb", 0.3), ("sparseOptFlow", 0.3), ("ecc", 0.3)])
def test_image_methods_recover_a_known_translation(method, tol):
    prev, curr = _pair(12, -8)
    warp = cmc.estimate_warp(method, prev, curr)
    assert warp.shape == (2, 3) and warp.dtype == np.float64
    np.testing.assert_allclose(warp[:, :2], np.eye(2), atol=0.01)
    np.testing.assert_allclose(warp[:, 2], [12, -8], atol=tol)  # full-resolution pixels, prev -> curr


def test_estimator_starts_with_the_identity_and_remembers_the_previous_frame():
    prev, curr = _pair(6, 4, seed=1)
    est = cmc.MotionEstimator("sparseOptFlow")
    assert np.array_equal(est(prev), np.eye(2, 3))
    np.testing.assert_allclose(est(curr)[:, 2], [6, 4], atol=0.3)
    est.reset()
    assert np.array_equal(est(curr), np.eye(2, 3))
    assert np.array_equal(cmc.MotionEstimator("none")(curr), np.eye(2, 3))
    with pytest.raises(ValueError):
        cmc.MotionEstimator("file")
    with pytest.raises(ValueError, match="unknown camera-motion method"):
        cmc.estimate_warp("flow", prev, curr)


def test_feature_mask_drops_the_border_and_the_boxes():
    grey = np.zeros((100, 200), np.uint8)
    mask = cmc._feature_mask(grey, np.array([[40.0, 20.0, 100.0, 60.0]]), downscale=2)
    assert mask[0].max() == 0 and mask[:, 0].max() == 0 and mask[50, 100] == 255
    assert mask[10:30, 20:50].max() == 0 and mask[30, 50] == 255
    # the official slice of a box leaving the image on the left: [-3:15] is empty, nothing is masked
    left = cmc._feature_mask(grey, np.array([[-6.0, 20.0, 30.0, 60.0]], np.float32), downscale=2)
    assert np.array_equal(left, cmc._feature_mask(grey, None, downscale=2))


def test_official_gmc_file_rows_and_frames(shared_data):
    path = cmc.gmc_file_path(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation", "MOT17-09-SDP")
    assert path.name == "GMC-MOT17-09.txt"
    table = cmc.read_gmc_file(path)
    assert table.shape == (262, 2, 3) and table.dtype == np.float64
    assert np.array_equal(table[0], np.eye(2, 3))
    np.testing.assert_array_equal(table[1], [[1.000088, 0.000056, -0.015747], [-0.000056, 1.000088, 0.038086]])
    seq = SeqInfo("MOT17-09-SDP", ".", 525, 1920, 1080, 30.0, first_frame=264)
    warps = cmc.file_warps(path.parent, seq)
    assert min(warps) == 264 and max(warps) == 525  # row k is frame N//2 + 2 + k
    assert np.array_equal(warps[265], table[1])
    assert cmc.file_first_frame(525, seq) == 1  # a full-sequence file starts at frame 1
    with pytest.raises(ValueError, match="rows fit neither"):
        cmc.file_first_frame(100, seq)


def test_gmc_file_parsing_errors(tmp_path):
    good = tmp_path / "GMC-X.txt"
    good.write_text("0\t1.0\t0.0\t0.0\t0.0\t1.0\t0.0\t\n1\t1.0\t0.0\t2.5\t0.0\t1.0\t-1.5\t\n\n")
    table = cmc.read_gmc_file(good)
    assert table.shape == (2, 2, 3) and table[1, 0, 2] == 2.5 and table[1, 1, 2] == -1.5
    bad = tmp_path / "GMC-Y.txt"
    bad.write_text("0\t1\t0\t0\t0\t1\t0\n2\t1\t0\t0\t0\t1\t0\n")
    with pytest.raises(ValueError, match="row index"):
        cmc.read_gmc_file(bad)
    (tmp_path / "GMC-Z.txt").write_text("0\t1\t0\t0\n")
    with pytest.raises(ValueError, match="7 tab-separated"):
        cmc.read_gmc_file(tmp_path / "GMC-Z.txt")


def test_sequence_warps_computed_once_then_cached(tmp_path):
    images = dict(zip((1, 2, 3), (*_pair(10, 0), _pair(10, 0)[1]), strict=True))  # frames 2->3 do not move
    seq = SeqInfo("SYN-01", tmp_path, 3, 640, 480, 30.0)
    calls = []

    def load(s, frame_id):
        calls.append(frame_id)
        return images[frame_id]

    warps = cmc.sequence_warps(seq, "sparseOptFlow", tmp_path / "cache", load_image=load)
    assert calls == [1, 2, 3] and warps.shape == (3, 2, 3)
    assert np.array_equal(warps[0], np.eye(2, 3))
    np.testing.assert_allclose(warps[1, :, 2], [10, 0], atol=0.3)
    np.testing.assert_allclose(warps[2], np.eye(2, 3), atol=1e-3)
    again = cmc.sequence_warps(seq, "sparseOptFlow", tmp_path / "cache", load_image=load)
    assert calls == [1, 2, 3] and np.array_equal(again, warps)  # from the .npy, no image read
    assert len(list((tmp_path / "cache").glob("SYN-01-sparseOptFlow-1-3-*.npy"))) == 1
    assert np.array_equal(cmc.sequence_warps(seq, "none"), np.repeat(np.eye(2, 3)[None], 3, axis=0))


def test_sequence_warps_from_the_official_file(shared_data, tmp_path):
    gmc_dir = shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation"
    seq = SeqInfo("MOT17-09-SDP", ".", 525, 1920, 1080, 30.0, first_frame=264)
    warps = cmc.sequence_warps(seq, "file", tmp_path, gmc_dir=gmc_dir)
    np.testing.assert_array_equal(warps, cmc.read_gmc_file(cmc.gmc_file_path(gmc_dir, seq.name)))
    with pytest.raises(ValueError, match="gmc_dir"):
        cmc.sequence_warps(seq, "file")


def _smooth_pair(dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """Two 640x480 BGR views of a low-frequency texture (still textured at StrongSORT's 0.1 scale);
    content moves by (dx, dy) px from the first to the second."""
    rng = np.random.default_rng(3)
    base = cv2.resize(rng.integers(0, 256, (14, 18), dtype=np.uint8), (720, 560), interpolation=cv2.INTER_CUBIC)
    base = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    prev = base[40:520, 40:680]
    curr = base[40 - dy : 520 - dy, 40 - dx : 680 - dx]
    return np.ascontiguousarray(prev), np.ascontiguousarray(curr)


def test_strongsort_ecc_recovers_a_known_translation():
    prev, curr = _smooth_pair(20, -10)
    warp = cmc.estimate_warp("ecc_strongsort", prev, curr, downscale=4)  # downscale ignored: the scale is 0.1
    assert warp.shape == (2, 3) and warp.dtype == np.float64
    np.testing.assert_allclose(warp[:, :2], np.eye(2), atol=0.01)
    np.testing.assert_allclose(warp[:, 2], [20, -10], atol=0.5)  # full-resolution pixels, prev -> curr
    assert np.array_equal(cmc.estimate_warp("ecc_strongsort", prev, prev), np.eye(2, 3))
    with pytest.raises(ValueError, match="shapes"):
        cmc.estimate_warp("ecc_strongsort", prev, curr[:-1])


# -- the official code on real frames (tests/fixtures/cmc, see its PROVENANCE.md) ------------------------
OFFICIAL = Path(__file__).parent / "fixtures" / "cmc"
OFFICIAL_METHODS = ("orb", "sift", "sparseOptFlow", "ecc", "ecc_strongsort")


@functools.cache
def official_warps() -> dict:
    """The official code's warps under the installed OpenCV (a fixture per OpenCV version of the tested range)."""
    path = OFFICIAL / f"official-opencv-{cv2.__version__}.json"
    if not path.is_file():
        pytest.fail(f"OpenCV {cv2.__version__} is outside the tested range of pyproject.toml (no {path.name}): "
                    "make it with tests/fixtures/cmc/make_official_warps.py (see its PROVENANCE.md)")
    return json.loads(path.read_text())


@functools.cache
def _official_stretch(shared_data: Path, name: str) -> tuple[SeqInfo, list[np.ndarray], list[np.ndarray]]:
    """The fixture's frames of ``name`` decoded as the runner decodes them (the same pixels as the official
    run: checked by hash), and the detections handed to the official GMC (float32 tlbr)."""
    from mot_bench.data.frames import decode_image

    ref = official_warps()["sequences"][name]
    seq = SeqInfo(name, shared_data / "MOT15" / "train" / name, 1000, 0, 0, 7.0, first_frame=ref["frames"][0],
                  last_frame=ref["frames"][-1])
    images = [decode_image(seq, f) for f in seq.frame_ids]
    assert [hashlib.sha256(im.tobytes()).hexdigest() for im in images] == ref["image_sha256"]
    boxes = [np.array(b, np.float32).reshape(-1, 4) for b in ref["boxes"]]
    return seq, images, boxes


@pytest.mark.parametrize("method", OFFICIAL_METHODS)
@pytest.mark.parametrize("name", ["TUD-Campus", "PETS09-S2L1"])
def test_warps_equal_the_official_code_on_real_frames(shared_data, name, method):
    """Bit for bit the warps of BoT-SORT's GMC (orb, sift, sparseOptFlow: one stateful GMC over the frames,
    the frame's detections masked; ecc: per consecutive pair, its translation scaled to full-resolution
    pixels) and of StrongSORT's ECC (ecc_strongsort), under the same OpenCV."""
    ref = official_warps()
    seq, images, boxes = _official_stretch(shared_data, name)
    official = np.array(ref["sequences"][name]["warps"][method], dtype=np.float64)
    if method == "ecc":  # applyEcc returns the translation in downscaled pixels; ours is in full-resolution ones
        official[:, :, 2] *= ref["downscale"]
    if method in ("ecc", "ecc_strongsort"):
        pairs = zip(images[:-1], images[1:], strict=True)
        ours = [cmc.identity()] + [cmc.estimate_warp(method, a, b) for a, b in pairs]
    else:
        estimator = cmc.MotionEstimator(method, ref["downscale"])
        ours = [estimator(image, b) for image, b in zip(images, boxes, strict=True)]
    assert np.array_equal(np.array(ours), official)
    assert np.abs(official[1:, :, 2]).max() > 0.05  # the cameras do move a little: not identities


def test_official_fixtures_differ_between_opencv_4_and_5_as_documented():
    """docs/architecture.md ("OpenCV"): the official code's warps under OpenCV 4.6.0 and 5.1.0, on the same
    pixels, differ by at most 3e-6 px (orb, sift, sparseOptFlow), 0.007 px (ecc) and 0.08 px (ecc_strongsort)
    in translation (full-resolution pixels; the 2x2 parts by less), and never agree exactly."""
    four, five = (json.loads((OFFICIAL / f"official-opencv-{v}.json").read_text()) for v in ("4.6.0", "5.1.0"))
    bounds = {"orb": 3e-6, "sift": 3e-6, "sparseOptFlow": 3e-6, "ecc": 0.007, "ecc_strongsort": 0.08}
    for name, seq4 in four["sequences"].items():
        seq5 = five["sequences"][name]
        assert seq4["image_sha256"] == seq5["image_sha256"] and seq4["boxes"] == seq5["boxes"]
        for method, bound in bounds.items():
            a, b = np.array(seq4["warps"][method]), np.array(seq5["warps"][method])
            if method == "ecc":
                a[:, :, 2] *= four["downscale"]
                b[:, :, 2] *= five["downscale"]
            assert 0 < np.abs(a - b).max() <= bound, (name, method)


@pytest.mark.parametrize("name", ["TUD-Campus", "PETS09-S2L1"])
def test_strongsort_ecc_sequence_warps_equal_the_official_ones(shared_data, tmp_path, name):
    """The runner's per-sequence ecc_strongsort warps (cached) are the official ECC's, bit for bit."""
    seq, _, _ = _official_stretch(shared_data, name)
    official = np.array(official_warps()["sequences"][name]["warps"]["ecc_strongsort"], dtype=np.float64)
    warps = cmc.sequence_warps(seq, "ecc_strongsort", tmp_path, downscale=2)
    assert np.array_equal(warps, official)
    assert np.array_equal(warps[0], np.eye(2, 3))  # the split's first frame: no warp
    # the fixed 0.1 scale is the cache key, whatever downscale was asked
    first, last = seq.first_frame, seq.last_frame
    assert [f.name for f in tmp_path.glob("*.npy")] == [f"{name}-ecc_strongsort-{first}-{last}-s0.1-r2.npy"]
    assert np.array_equal(cmc.sequence_warps(seq, "ecc_strongsort", tmp_path, downscale=10), warps)
