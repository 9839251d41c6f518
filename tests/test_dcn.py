"""The deformable convolution: the fast CPU backend against torchvision, and DCNv2's layout."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import deform_conv2d

from mot_bench.detectors.fairmot.dcn import DCN, deform_conv2d_fast, set_dcn_backend

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().abs().max() / b.detach().abs().max().clamp_min(1e-12))


@pytest.mark.parametrize(
    "stride,padding,dilation,scale",
    [(1, 1, 1, 2.0), (1, 1, 1, 9.0), (2, 1, 1, 3.0), (1, 2, 2, 3.0), (1, 0, 1, 1.5)],
)
def test_fast_matches_torchvision(stride: int, padding: int, dilation: int, scale: float) -> None:
    """Random offsets (large ones sample far outside the image) and masks: same output."""
    g = torch.Generator().manual_seed(stride * 100 + padding * 10 + dilation)
    n, c, o, h, w = 2, 5, 7, 13, 17
    x = torch.randn(n, c, h, w, generator=g)
    weight = torch.randn(o, c, 3, 3, generator=g)
    bias = torch.randn(o, generator=g)
    ho = (h + 2 * padding - dilation * 2 - 1) // stride + 1
    wo = (w + 2 * padding - dilation * 2 - 1) // stride + 1
    offset = torch.randn(n, 18, ho, wo, generator=g) * scale
    mask = torch.rand(n, 9, ho, wo, generator=g)
    ref = deform_conv2d(x, offset, weight, bias, stride=stride, padding=padding, dilation=dilation, mask=mask)
    got = deform_conv2d_fast(x, offset, weight, bias, stride, padding, dilation, mask)
    assert got.shape == ref.shape
    assert _rel(got, ref) <= 1e-5
    # integer offsets hit the corner cases (weights exactly 0/1, positions exactly on the border)
    offset_int = torch.round(offset)
    ref = deform_conv2d(x, offset_int, weight, None, stride=stride, padding=padding, dilation=dilation, mask=mask)
    got = deform_conv2d_fast(x, offset_int, weight, None, stride, padding, dilation, mask)
    assert _rel(got, ref) <= 1e-5


def test_fast_matches_torchvision_fairmot_layer() -> None:
    """A FairMOT-sized layer (64 -> 64 channels, so each output sums 4 * 9 * 64 products): same bound."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(1, 64, 24, 40, generator=g)
    weight = torch.randn(64, 64, 3, 3, generator=g) * 0.05
    bias = torch.randn(64, generator=g)
    offset = torch.randn(1, 18, 24, 40, generator=g) * 3
    mask = torch.rand(1, 9, 24, 40, generator=g)
    ref = deform_conv2d(x, offset, weight, bias, padding=1, mask=mask)
    assert _rel(deform_conv2d_fast(x, offset, weight, bias, 1, 1, 1, mask), ref) <= 1e-5


@pytest.mark.parametrize("channels_last", [False, True])
def test_fast_keeps_the_memory_format(channels_last: bool) -> None:
    """NCHW in, contiguous NCHW out (as torchvision); channels-last in, channels-last out."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 6, 9, 11, generator=g)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    offset = torch.randn(2, 18, 9, 11, generator=g)
    mask = torch.rand(2, 9, 9, 11, generator=g)
    weight = torch.randn(4, 6, 3, 3, generator=g)
    got = deform_conv2d_fast(x, offset, weight, None, 1, 1, 1, mask)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    assert got.is_contiguous(memory_format=fmt)
    assert _rel(got, deform_conv2d(x.contiguous(), offset, weight, padding=1, mask=mask)) <= 1e-5


def test_fast_matches_torchvision_all_outside() -> None:
    """Every tap far outside the image: both give exactly the bias."""
    x = torch.randn(1, 3, 6, 6)
    weight = torch.randn(4, 3, 3, 3)
    bias = torch.randn(4)
    offset = torch.full((1, 18, 6, 6), 50.0)
    mask = torch.ones(1, 9, 6, 6)
    got = deform_conv2d_fast(x, offset, weight, bias, 1, 1, 1, mask)
    ref = deform_conv2d(x, offset, weight, bias, padding=1, mask=mask)
    assert torch.equal(got, bias.view(1, 4, 1, 1).expand_as(got))
    assert torch.allclose(got, ref)
    offset[0, :, 2, 2] = float("inf")  # a diverged offset predictor: zero contribution, as torchvision
    got = deform_conv2d_fast(x, offset, weight, bias, 1, 1, 1, mask)
    assert torch.equal(got, bias.view(1, 4, 1, 1).expand_as(got))


def test_fast_zero_offset_is_plain_conv() -> None:
    x = torch.randn(1, 4, 9, 10)
    weight = torch.randn(6, 4, 3, 3)
    got = deform_conv2d_fast(x, torch.zeros(1, 18, 9, 10), weight, None, 1, 1, 1, torch.ones(1, 9, 9, 10))
    assert _rel(got, F.conv2d(x, weight, padding=1)) <= 1e-5


def test_fast_gradients_match_torchvision() -> None:
    """Gradients w.r.t. input, offset, mask, weight and bias agree (training may use the fast path)."""
    g = torch.Generator().manual_seed(3)
    tensors = [
        torch.randn(1, 3, 7, 8, generator=g),
        torch.randn(1, 18, 7, 8, generator=g) * 2,
        torch.rand(1, 9, 7, 8, generator=g),
        torch.randn(4, 3, 3, 3, generator=g),
        torch.randn(4, generator=g),
    ]
    grads = []
    for fn in ("tv", "fast"):
        leaves = [t.clone().requires_grad_(True) for t in tensors]
        x, off, m, w, b = leaves
        if fn == "tv":
            out = deform_conv2d(x, off, w, b, padding=1, mask=m)
        else:
            out = deform_conv2d_fast(x, off, w, b, 1, 1, 1, m)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads.append([t.grad for t in leaves])
    for name, a, b in zip(("input", "offset", "mask", "weight", "bias"), grads[1], grads[0], strict=True):
        assert a is not None, name
        assert _rel(a, b) <= 1e-4, name


def test_dcn_module_layout_is_dcnv2() -> None:
    """DCNv2 layout, checked without torchvision: the offset conv's output splits in three chunks,
    cat(o1, o2) interleaves (dy, dx) per tap, the mask goes through a sigmoid. A constant offset of
    dy=+1, dx=0 with mask ~1 must equal a plain conv whose window starts one row lower."""
    torch.manual_seed(0)
    for backend in ("fast", "torchvision"):
        dcn = DCN(3, 5, kernel_size=3, stride=1, padding=1, backend=backend)
        bias = torch.zeros(27)
        dy_dx = torch.zeros(18)
        dy_dx[0::2] = 1.0  # channel 2k is dy of tap k
        bias[:18] = dy_dx  # o1 = bias[0:9], o2 = bias[9:18]
        bias[18:] = 30.0  # sigmoid(30) == 1 in float32
        with torch.no_grad():
            dcn.conv_offset_mask.bias.copy_(bias)
            dcn.bias.normal_()
        x = torch.randn(2, 3, 8, 9)
        # tap row ki samples row y - 1 + ki + 1 = y + ki: no zero row on top, two at the bottom
        ref = F.conv2d(F.pad(x, (1, 1, 0, 2)), dcn.weight, dcn.bias)
        with torch.no_grad():
            got = dcn(x)
        assert _rel(got, ref) <= 1e-5, backend
        offset, mask = dcn.offset_and_mask(x)
        assert offset.shape == (2, 18, 8, 9) and mask.shape == (2, 9, 8, 9)


def test_dcn_parameter_names_and_init() -> None:
    dcn = DCN(4, 6, kernel_size=(3, 3), stride=1, padding=1)
    assert {k: tuple(v.shape) for k, v in dcn.state_dict().items()} == {
        "weight": (6, 4, 3, 3),
        "bias": (6,),
        "conv_offset_mask.weight": (27, 4, 3, 3),
        "conv_offset_mask.bias": (27,),
    }
    assert torch.count_nonzero(dcn.conv_offset_mask.weight) == 0 and torch.count_nonzero(dcn.bias) == 0


def test_backend_switch_and_errors() -> None:
    model = torch.nn.Sequential(DCN(2, 2, 3, 1, 1), DCN(2, 2, 3, 1, 1))
    set_dcn_backend(model, "fast")
    assert all(m.backend == "fast" for m in model)
    with pytest.raises(ValueError, match="unknown DCN backend"):
        set_dcn_backend(model, "cuda")
    with pytest.raises(NotImplementedError, match="deformable_groups"):
        DCN(2, 2, 3, 1, 1, deformable_groups=2)
    with pytest.raises(ValueError, match="does not match the output size"):
        deform_conv2d_fast(torch.zeros(1, 2, 5, 5), torch.zeros(1, 18, 4, 4), torch.zeros(2, 2, 3, 3), padding=1)
