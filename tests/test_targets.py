"""FairMOT targets: a known box gives a known peak, radius, offsets, sizes and index."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mot_bench.detectors.fairmot.training.targets import build_targets, draw_umich_gaussian, gaussian_radius


def test_gaussian_radius_hand_computed() -> None:
    # h = w = 10, min_overlap 0.7: the third root (both corners inside) is the smallest.
    r3 = (-2 * 0.7 * 20 + math.sqrt((1.4 * 20) ** 2 + 4 * 2.8 * 0.3 * 100)) / 2
    assert r3 == pytest.approx(2.7332, abs=1e-4)
    assert gaussian_radius((10, 10)) == pytest.approx(r3)
    assert gaussian_radius((40, 20)) > gaussian_radius((20, 10))


def test_draw_gaussian_peak_and_border_clipping() -> None:
    hm = np.zeros((8, 8), np.float32)
    draw_umich_gaussian(hm, (0, 7), 2)  # corner: must clip, not wrap or fail
    assert hm[7, 0] == 1.0
    assert hm[7, 1] == pytest.approx(math.exp(-1 / (2 * (5 / 6) ** 2)), rel=1e-6)
    assert hm[7, 3] == 0.0 and hm[4, 0] == 0.0
    assert hm[:, 5:].sum() == 0


def test_known_box_targets() -> None:
    out_w, out_h = 40, 40
    cx, cy, w, h = 10.6, 20.3, 8.0, 24.0  # output-map units
    labels = np.array([[0, 7, cx / out_w, cy / out_h, w / out_w, h / out_h]])
    t = build_targets(labels, out_w, out_h, max_objs=5)
    assert t["hm"].shape == (1, 40, 40)
    assert np.unravel_index(t["hm"][0].argmax(), (40, 40)) == (20, 10)
    assert t["hm"][0, 20, 10] == 1.0 and (t["hm"][0] == 1.0).sum() == 1
    r = int(gaussian_radius((24, 8)))
    assert t["hm"][0, 20, 10 + r] > 0 and t["hm"][0, 20, 10 + r + 1] == 0
    assert t["ind"][0] == 20 * 40 + 10
    np.testing.assert_allclose(t["reg"][0], [0.6, 0.3], atol=1e-5)
    np.testing.assert_allclose(t["wh"][0], [4, 12, 4, 12], atol=1e-4)
    assert t["reg_mask"].tolist() == [1, 0, 0, 0, 0]
    assert t["ids"][0] == 7


def test_centre_outside_is_clipped_and_ltrb_stays_amodal() -> None:
    # Box centred 2 cells left of the map: centre clipped to x=0, left distance keeps the true edge.
    labels = np.array([[0, 1, -2 / 20, 10 / 20, 8 / 20, 6 / 20]])
    t = build_targets(labels, 20, 20, max_objs=2)
    assert t["ind"][0] == 10 * 20 + 0
    np.testing.assert_allclose(t["wh"][0], [6, 3, 2, 3], atol=1e-5)


def test_max_objs_caps_objects() -> None:
    labels = np.array([[0, i, 0.1 + 0.1 * i, 0.5, 0.05, 0.2] for i in range(6)])
    t = build_targets(labels, 64, 32, max_objs=4)
    assert t["reg_mask"].sum() == 4
    assert (t["hm"][0] == 1).sum() == 4
