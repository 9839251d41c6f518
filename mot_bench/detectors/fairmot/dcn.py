"""Modulated deformable convolution (DCNv2) with two interchangeable backends.

The module :class:`DCN` keeps the parameter names of the DCNv2 package that FairMOT's checkpoints
were trained with (``weight``, ``bias``, ``conv_offset_mask.weight``, ``conv_offset_mask.bias``), so
official weights load by name. Offsets and mask come from one 3x3 convolution whose output is split
in three equal chunks ``o1, o2, m``: the offset is ``cat(o1, o2)`` and the mask ``sigmoid(m)``.
DCNv2's kernels read offset channel ``2k`` as the vertical and ``2k + 1`` as the horizontal shift of
kernel tap ``k`` (row-major over the kernel), the same layout ``torchvision.ops.deform_conv2d``
expects, so the offset is handed over unchanged.

Backends (``DCN.backend``):

* ``"torchvision"``: ``torchvision.ops.deform_conv2d`` (reference; the one to use on CUDA).
* ``"fast"``: :func:`deform_conv2d_fast`, plain PyTorch ops. The weights are applied first: a 1x1
  convolution with K*O output channels gives, for every input pixel, what each of the K kernel taps
  would contribute there (the "tap table", K*O*H*W values, the same FLOPs as the convolution). The
  deformable part is then linear in that table: each output is the sum, over taps, of the four
  bilinear corners of its sampling point in that tap's slice, weighted by the bilinear weight times
  the mask, i.e. one ``embedding_bag`` reduction of 4*K rows of O values per output position. Both
  steps are multi-threaded library kernels (oneDNN and the embedding-bag kernel) where torchvision's
  CPU path is a scalar im2col loop followed by a GEMM, and no (positions x K*C) column matrix is
  built. It reproduces torchvision's sampling arithmetic (zero outside the image, the same float32
  positions and weights), is differentiable w.r.t. input, offsets, mask, weight and bias, and keeps
  the input's memory format. Strided DCNs pay for the table at every input pixel (FairMOT's are
  all stride 1). Speed end to end: ``benchmarks/bench_dcn.py``, docs/benchmarks.md.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

BACKENDS = ("torchvision", "fast")


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown DCN backend {backend!r}; valid: {', '.join(BACKENDS)}")
    return backend


def _bilinear_bags(
    offset: torch.Tensor,
    mask: torch.Tensor,
    in_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of the tap table each output position sums, and their weights: both (N*Ho*Wo, 4*K).

    The table (see :func:`deform_conv2d_fast`) has one row per (image, pixel of the input padded by
    one zero pixel on every side, tap). Output position ``p`` of image ``n`` reads, for every tap
    ``k``, the four bilinear corners around its sampling point in tap ``k``'s slice, weighted by the
    bilinear weight times the mask. A corner outside the image reads the zero border, and a point
    with no corner inside (torchvision's ``y <= -1 or y >= H`` test) gets weight 0: exactly
    torchvision's rule, inf/nan offsets included."""
    height, width = in_hw
    kh, kw = kernel
    taps = kh * kw
    n, _, out_h, out_w = offset.shape
    dev, dt = offset.device, offset.dtype
    # Integer part of the sampling position, exactly as torchvision computes it:
    # (out * stride - pad) + tap * dilation, then the float offset is added.
    ys = torch.arange(out_h, device=dev) * stride[0] - padding[0]
    xs = torch.arange(out_w, device=dev) * stride[1] - padding[1]
    ky = torch.arange(kh, device=dev).repeat_interleave(kw) * dilation[0]
    kx = torch.arange(kw, device=dev).repeat(kh) * dilation[1]
    base_y = (ys.view(out_h, 1, 1) + ky.view(1, 1, taps)).to(dt)  # (Ho, 1, K)
    base_x = (xs.view(1, out_w, 1) + kx.view(1, 1, taps)).to(dt)  # (1, Wo, K)
    # (N, K, 2, Ho, Wo) -> (2, N, Ho, Wo, K): position-major, tap-minor
    off = offset.view(n, taps, 2, out_h, out_w).permute(2, 0, 3, 4, 1)
    py = base_y + off[0]
    px = base_x + off[1]
    m = mask.view(n, taps, out_h, out_w).permute(0, 2, 3, 1)

    inside = (py > -1) & (py < height) & (px > -1) & (px < width)
    m = m.masked_fill(~inside, 0.0)  # also keeps inf/nan positions out of the weights below
    py = py.masked_fill(~inside, 0.0)
    px = px.masked_fill(~inside, 0.0)
    y0f = torch.floor(py)
    x0f = torch.floor(px)
    ly = py - y0f
    lx = px - x0f
    wy = torch.stack((1 - ly, ly), -1)  # rows y0, y0 + 1
    wx = torch.stack((1 - lx, lx), -1) * m.unsqueeze(-1)  # columns x0, x0 + 1, mask folded in
    weights = (wy.unsqueeze(-1) * wx.unsqueeze(-2)).reshape(n * out_h * out_w, 4 * taps)
    pw = width + 2
    plane = (height + 2) * pw
    # y0 in [-1, H - 1] for inside points: +1 for the zero border; the table interleaves taps
    pixel = (y0f.to(torch.int64) + 1) * pw + (x0f.to(torch.int64) + 1)
    pixel = pixel + torch.arange(n, device=dev).view(n, 1, 1, 1) * plane
    row = pixel * taps + torch.arange(taps, device=dev)
    corners = torch.tensor([0, taps, pw * taps, (pw + 1) * taps], device=dev)
    return (row.unsqueeze(-1) + corners).reshape(n * out_h * out_w, 4 * taps), weights


def deform_conv2d_fast(
    input: torch.Tensor,
    offset: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Same contract as ``torchvision.ops.deform_conv2d`` (one offset group, no weight groups)."""
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    n, c, height, width = input.shape
    out_ch, c_w, kh, kw = weight.shape
    taps = kh * kw
    if c_w != c:
        raise NotImplementedError(f"fast DCN supports groups=1 only (weight has {c_w} input channels, input {c})")
    if offset.shape[1] != 2 * taps:
        raise NotImplementedError(
            f"fast DCN supports one offset group: expected {2 * taps} offset channels, got {offset.shape[1]}"
        )
    out_h, out_w = offset.shape[-2:]
    exp_h = (height + 2 * padding[0] - (dilation[0] * (kh - 1) + 1)) // stride[0] + 1
    exp_w = (width + 2 * padding[1] - (dilation[1] * (kw - 1) + 1)) // stride[1] + 1
    if (out_h, out_w) != (exp_h, exp_w):
        raise ValueError(f"offset spatial size {(out_h, out_w)} does not match the output size {(exp_h, exp_w)}")
    if mask is None:
        mask = torch.ones((n, taps, out_h, out_w), dtype=input.dtype, device=input.device)
    # Tap table: the weights of tap k applied to every input pixel, a 1x1 convolution with K*O
    # output channels over the input padded by one zero pixel (padding=1 on a 1x1 kernel does that,
    # no bias, so the border rows are exactly 0). Channels-last, its memory is (N, H+2, W+2, K, O).
    w_taps = weight.permute(2, 3, 0, 1).reshape(taps * out_ch, c, 1, 1)
    table = F.conv2d(input.contiguous(memory_format=torch.channels_last), w_taps, padding=1)
    table = table.permute(0, 2, 3, 1).reshape(-1, out_ch)
    rows, weights = _bilinear_bags(offset, mask, (height, width), (kh, kw), stride, padding, dilation)
    # Each output position is a weighted sum of 4*K table rows: one embedding-bag reduction.
    out = F.embedding_bag(rows, table, per_sample_weights=weights, mode="sum")
    if bias is not None:
        out = out + bias
    out = out.view(n, out_h, out_w, out_ch).permute(0, 3, 1, 2)
    # Keep the caller's memory format, as PyTorch's own convolutions do (the result is channels-last).
    return out.contiguous(memory_format=torch.channels_last if _is_channels_last(input) else torch.contiguous_format)


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def _torchvision_deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask):
    from torchvision.ops import deform_conv2d

    return deform_conv2d(input, offset, weight, bias, stride=stride, padding=padding, dilation=dilation, mask=mask)


def modulated_deform_conv2d(
    input: torch.Tensor,
    offset: torch.Tensor,
    mask: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    backend: str,
) -> torch.Tensor:
    """Dispatch to one backend; both take DCNv2's offset layout (dy, dx per tap) unchanged."""
    if backend == "fast":
        return deform_conv2d_fast(input, offset, weight, bias, stride, padding, dilation, mask)
    if backend == "torchvision":
        return _torchvision_deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask)
    raise ValueError(f"unknown DCN backend {backend!r}; valid: {', '.join(BACKENDS)}")


class DCN(nn.Module):
    """DCNv2 ``DCN`` layer: a 3x3 conv predicts offsets and mask, then a modulated deformable conv."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int],
        padding: int | tuple[int, int],
        dilation: int | tuple[int, int] = 1,
        deformable_groups: int = 1,
        backend: str = "torchvision",
    ) -> None:
        super().__init__()
        if deformable_groups != 1:
            raise NotImplementedError("only deformable_groups=1 is supported (FairMOT uses 1)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.deformable_groups = deformable_groups
        self.backend = _check_backend(backend)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels))
        taps = self.kernel_size[0] * self.kernel_size[1]
        self.conv_offset_mask = nn.Conv2d(
            in_channels,
            3 * deformable_groups * taps,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            bias=True,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """DCNv2's init: uniform weight by fan-in, zero bias, zero offset/mask predictor."""
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.zero_()
            self.conv_offset_mask.weight.zero_()
            self.conv_offset_mask.bias.zero_()

    def offset_and_mask(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.conv_offset_mask(x)
        o1, o2, m = torch.chunk(out, 3, dim=1)
        return torch.cat((o1, o2), dim=1), torch.sigmoid(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        offset, mask = self.offset_and_mask(x)
        backend = self.backend
        if backend == "fast" and x.is_cuda:
            backend = "torchvision"  # the fast path is a CPU optimisation; CUDA has a native kernel
        return modulated_deform_conv2d(
            x, offset, mask, self.weight, self.bias, self.stride, self.padding, self.dilation, backend
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, backend={self.backend!r}"
        )


def set_dcn_backend(model: nn.Module, backend: str) -> nn.Module:
    """Switch every :class:`DCN` in ``model`` to ``backend`` (parameters are shared by both)."""
    _check_backend(backend)
    for module in model.modules():
        if isinstance(module, DCN):
            module.backend = backend
    return model


__all__ = ["BACKENDS", "DCN", "deform_conv2d_fast", "modulated_deform_conv2d", "set_dcn_backend"]
