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
* ``"fast"``: :func:`deform_conv2d_fast`, plain PyTorch ops: the bilinear sampling of every kernel
  tap is a sparse matrix (4 weights per sampled point, the mask folded in) multiplied with the
  channels-last input, then one dense matmul applies the weights. When gradients are needed the
  sampling runs as a gather + weighted sum instead (autograd does not differentiate the CSR values).
  It reproduces torchvision's sampling arithmetic (zero outside the image, same float32 position and
  weight formulas); both products run in multi-threaded kernels where torchvision's CPU im2col is a
  scalar loop. On a 64-channel 272x152 layer it takes about a third of torchvision's time; end to end
  (where the ordinary convolutions are shared) see ``benchmarks/bench_dcn.py``.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

BACKENDS = ("torchvision", "fast")


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown DCN backend {backend!r}; valid: {', '.join(BACKENDS)}")
    return backend


def _sampling_weights(
    offset: torch.Tensor,
    mask: torch.Tensor,
    in_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """For one image: (flat index (P*K, 4) into the input padded by one zero pixel on every side,
    weight (P*K, 4)) of the four bilinear corners with which output position ``p`` samples kernel
    tap ``k`` (row ``p*K + k``), the mask folded in. A corner that falls outside the image reads the
    zero border, and a point with no corner inside (torchvision's ``y <= -1 or y >= H`` test) gets
    weight 0, which is exactly torchvision's rule."""
    height, width = in_hw
    kh, kw = kernel
    taps = kh * kw
    out_h, out_w = offset.shape[-2:]
    dev, dt = offset.device, offset.dtype
    # Integer part of the sampling position, exactly as torchvision computes it:
    # (out * stride - pad) + tap * dilation, then the float offset is added.
    ys = torch.arange(out_h, device=dev) * stride[0] - padding[0]
    xs = torch.arange(out_w, device=dev) * stride[1] - padding[1]
    ky = torch.arange(kh, device=dev).repeat_interleave(kw) * dilation[0]
    kx = torch.arange(kw, device=dev).repeat(kh) * dilation[1]
    base_y = (ys.view(out_h, 1, 1) + ky.view(1, 1, taps)).to(dt)  # (Ho, 1, K)
    base_x = (xs.view(1, out_w, 1) + kx.view(1, 1, taps)).to(dt)  # (1, Wo, K)
    # (K, 2, Ho, Wo) -> (Ho, Wo, K): rows ordered position-major so the columns come out as (P, K, C)
    off = offset.view(taps, 2, out_h, out_w).permute(1, 2, 3, 0)
    py = (base_y + off[0]).reshape(-1)
    px = (base_x + off[1]).reshape(-1)
    m = mask.view(taps, out_h, out_w).permute(1, 2, 0).reshape(-1)

    inside = (py > -1) & (py < height) & (px > -1) & (px < width)
    m = m.masked_fill(~inside, 0.0)  # also keeps inf/nan positions out of the weights below
    py = py.masked_fill(~inside, 0.0)
    px = px.masked_fill(~inside, 0.0)
    y0f = torch.floor(py)
    x0f = torch.floor(px)
    ly = py - y0f
    lx = px - x0f
    wy = torch.stack((1 - ly, ly), 1)  # (R, 2): rows y0, y0 + 1
    wx = torch.stack((1 - lx, lx), 1) * m.unsqueeze(1)  # (R, 2): columns x0, x0 + 1, mask folded in
    vals = (wy.unsqueeze(2) * wx.unsqueeze(1)).reshape(-1, 4)  # (y0,x0) (y0,x1) (y1,x0) (y1,x1)
    pw = width + 2
    # y0 in [-1, H - 1] for inside points: +1 for the zero border
    base = (y0f.to(torch.int64) + 1) * pw + (x0f.to(torch.int64) + 1)
    corners = torch.tensor([0, 1, pw, pw + 1], device=dev)
    return base.unsqueeze(1) + corners, vals


def _sample(x_cl: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, differentiable: bool) -> torch.Tensor:
    """(H*W, C) input, corners (R, 4) -> (R, C) sampled values.

    Inference: one CSR sparse @ dense product (multi-threaded, no (R, 4, C) temporary). Training:
    a gather + weighted sum, which autograd differentiates w.r.t. the input, offsets and mask."""
    n_rows = cols.shape[0]
    if differentiable:
        picked = x_cl.index_select(0, cols.reshape(-1)).view(n_rows, 4, -1)
        return (picked * vals.unsqueeze(-1)).sum(1)
    crow = torch.arange(0, 4 * n_rows + 1, 4, device=cols.device)
    with warnings.catch_warnings():  # "CSR support is in beta": we rely only on CSR @ dense, tested here
        warnings.simplefilter("ignore", UserWarning)
        smat = torch.sparse_csr_tensor(
            crow, cols.reshape(-1), vals.reshape(-1), size=(n_rows, x_cl.shape[0]), check_invariants=False
        )
    return torch.sparse.mm(smat, x_cl)


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
    # (O, C, kh, kw) -> (O, K*C) to match columns laid out as (P, K, C)
    w_mat = weight.permute(0, 2, 3, 1).reshape(out_ch, taps * c)
    differentiable = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (input, offset, mask, weight, bias)
    )
    outs = []
    for b in range(n):
        idx, wgt = _sampling_weights(offset[b], mask[b], (height, width), (kh, kw), stride, padding, dilation)
        # ((H+2)*(W+2), C) rows of the zero-bordered input (a strided view of one padded copy)
        x_cl = F.pad(input[b], (1, 1, 1, 1)).permute(1, 2, 0).reshape((height + 2) * (width + 2), c)
        sampled = _sample(x_cl, idx, wgt, differentiable)  # (P*K, C)
        cols = sampled.view(out_h * out_w, taps * c)
        # (O, P) = W (O, K*C) @ cols^T: BLAS reads the transposed operand in place; bias fused
        if bias is None:
            out = torch.mm(w_mat, cols.t())
        else:
            out = torch.addmm(bias.view(-1, 1), w_mat, cols.t())
        outs.append(out.view(out_ch, out_h, out_w))
    return outs[0].unsqueeze(0) if n == 1 else torch.stack(outs)


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
