"""FairMOT networks: DLA-34 with deformable DLAUp/IDAUp (``pose_dla_dcn.py``) and ResNet-DCN
(``resnet_dcn.py``), rewritten to the same module tree so official checkpoints load by name.

Architectures (``ARCHS``):

* ``dla_34`` (alias ``dla34``): the FairMOT default, levels [1,1,1,2,2,1], channels
  [16,32,64,128,256,512], down ratio 4 (first level 2), last level 5, 1x1 final kernels.
* ``resdcn_18`` / ``resdcn_34`` (and ``resdcn_50`` / ``resdcn_101``): ResNet + three DCN/deconv
  upsampling stages to stride 4.
* ``dla_tiny``: for tests only. The DLA-34 topology (same levels, same DLAUp/IDAUp wiring, same
  heads) with every channel count divided by 8 ([2,4,8,16,32,64]); a 64x64 image runs in a few
  milliseconds on CPU. Its state dict has the same key names as DLA-34 with smaller shapes.

Heads: for each ``name: channels`` a 3x3 conv (``head_conv`` channels) + ReLU + 1x1 conv; the
heat-map head's last bias starts at -2.19, the others' biases at 0 (as the official init).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from mot_bench.detectors.fairmot.dcn import DCN

BN_MOMENTUM = 0.1
DEFAULT_HEADS = {"hm": 1, "wh": 4, "id": 128, "reg": 2}

_DLA_SPECS = {
    "dla_34": ([1, 1, 1, 2, 2, 1], [16, 32, 64, 128, 256, 512]),
    "dla_tiny": ([1, 1, 1, 2, 2, 1], [2, 4, 8, 16, 32, 64]),
}
_ALIASES = {"dla34": "dla_34", "dlatiny": "dla_tiny", "resdcn18": "resdcn_18", "resdcn34": "resdcn_34"}


# --------------------------------------------------------------------------------------- DLA


class BasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=dilation, bias=False, dilation=dilation)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=dilation, bias=False, dilation=dilation)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.stride = stride

    def forward(self, x: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        if residual is None:
            residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class Root(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, residual: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, stride=1, bias=False, padding=(kernel_size - 1) // 2)
        self.bn = nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.residual = residual

    def forward(self, *children: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(torch.cat(children, 1)))
        if self.residual:
            x = x + children[0]
        return self.relu(x)


class Tree(nn.Module):
    def __init__(
        self,
        levels: int,
        block: type[BasicBlock],
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        level_root: bool = False,
        root_dim: int = 0,
        root_kernel_size: int = 1,
        dilation: int = 1,
        root_residual: bool = False,
    ) -> None:
        super().__init__()
        if root_dim == 0:
            root_dim = 2 * out_channels
        if level_root:
            root_dim += in_channels
        if levels == 1:
            self.tree1 = block(in_channels, out_channels, stride, dilation=dilation)
            self.tree2 = block(out_channels, out_channels, 1, dilation=dilation)
            self.root = Root(root_dim, out_channels, root_kernel_size, root_residual)
        else:
            self.tree1 = Tree(
                levels - 1, block, in_channels, out_channels, stride, root_dim=0,
                root_kernel_size=root_kernel_size, dilation=dilation, root_residual=root_residual,
            )  # fmt: skip
            self.tree2 = Tree(
                levels - 1, block, out_channels, out_channels, root_dim=root_dim + out_channels,
                root_kernel_size=root_kernel_size, dilation=dilation, root_residual=root_residual,
            )  # fmt: skip
        self.level_root = level_root
        self.root_dim = root_dim
        self.levels = levels
        self.downsample = nn.MaxPool2d(stride, stride=stride) if stride > 1 else None
        self.project = None
        if in_channels != out_channels:
            self.project = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, bias=False),
                nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM),
            )

    def forward(
        self, x: torch.Tensor, residual: torch.Tensor | None = None, children: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        children = [] if children is None else children
        bottom = self.downsample(x) if self.downsample is not None else x
        residual = self.project(bottom) if self.project is not None else bottom
        if self.level_root:
            children.append(bottom)
        x1 = self.tree1(x, residual)
        if self.levels == 1:
            x2 = self.tree2(x1)
            return self.root(x2, x1, *children)
        children.append(x1)
        return self.tree2(x1, children=children)


class DLA(nn.Module):
    """The DLA backbone; ``forward`` returns the six level outputs (strides 1..32)."""

    def __init__(self, levels: list[int], channels: list[int], residual_root: bool = False) -> None:
        super().__init__()
        self.channels = channels
        self.base_layer = nn.Sequential(
            nn.Conv2d(3, channels[0], kernel_size=7, stride=1, padding=3, bias=False),
            nn.BatchNorm2d(channels[0], momentum=BN_MOMENTUM),
            nn.ReLU(inplace=True),
        )
        self.level0 = self._make_conv_level(channels[0], channels[0], levels[0])
        self.level1 = self._make_conv_level(channels[0], channels[1], levels[1], stride=2)
        self.level2 = Tree(levels[2], BasicBlock, channels[1], channels[2], 2, level_root=False,
                           root_residual=residual_root)  # fmt: skip
        self.level3 = Tree(levels[3], BasicBlock, channels[2], channels[3], 2, level_root=True,
                           root_residual=residual_root)  # fmt: skip
        self.level4 = Tree(levels[4], BasicBlock, channels[3], channels[4], 2, level_root=True,
                           root_residual=residual_root)  # fmt: skip
        self.level5 = Tree(levels[5], BasicBlock, channels[4], channels[5], 2, level_root=True,
                           root_residual=residual_root)  # fmt: skip

    @staticmethod
    def _make_conv_level(inplanes: int, planes: int, convs: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
        modules: list[nn.Module] = []
        for i in range(convs):
            modules += [
                nn.Conv2d(inplanes, planes, 3, stride=stride if i == 0 else 1, padding=dilation, bias=False,
                          dilation=dilation),
                nn.BatchNorm2d(planes, momentum=BN_MOMENTUM),
                nn.ReLU(inplace=True),
            ]  # fmt: skip
            inplanes = planes
        return nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        x = self.base_layer(x)
        for i in range(6):
            x = getattr(self, f"level{i}")(x)
            out.append(x)
        return out


def fill_up_weights(up: nn.ConvTranspose2d) -> None:
    """Bilinear upsampling kernel in every (depthwise) channel, as the official init."""
    w = up.weight.data
    f = math.ceil(w.size(2) / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    for i in range(w.size(2)):
        for j in range(w.size(3)):
            w[0, 0, i, j] = (1 - math.fabs(i / f - c)) * (1 - math.fabs(j / f - c))
    for ch in range(1, w.size(0)):
        w[ch, 0, :, :] = w[0, 0, :, :]


class DeformConv(nn.Module):
    """DCN 3x3 followed by BN + ReLU (module names ``conv`` and ``actf`` as in the checkpoint)."""

    def __init__(self, chi: int, cho: int, dcn: str = "torchvision") -> None:
        super().__init__()
        self.actf = nn.Sequential(nn.BatchNorm2d(cho, momentum=BN_MOMENTUM), nn.ReLU(inplace=True))
        self.conv = DCN(chi, cho, kernel_size=(3, 3), stride=1, padding=1, dilation=1, deformable_groups=1,
                        backend=dcn)  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.actf(self.conv(x))


class IDAUp(nn.Module):
    def __init__(self, o: int, channels: list[int], up_f: list[int], dcn: str = "torchvision") -> None:
        super().__init__()
        for i in range(1, len(channels)):
            c = channels[i]
            f = int(up_f[i])
            proj = DeformConv(c, o, dcn)
            node = DeformConv(o, o, dcn)
            up = nn.ConvTranspose2d(o, o, f * 2, stride=f, padding=f // 2, output_padding=0, groups=o, bias=False)
            fill_up_weights(up)
            setattr(self, f"proj_{i}", proj)
            setattr(self, f"up_{i}", up)
            setattr(self, f"node_{i}", node)

    def forward(self, layers: list[torch.Tensor], startp: int, endp: int) -> None:
        """Updates ``layers`` in place (as the official code, which later stages rely on)."""
        for i in range(startp + 1, endp):
            upsample = getattr(self, f"up_{i - startp}")
            project = getattr(self, f"proj_{i - startp}")
            layers[i] = upsample(project(layers[i]))
            node = getattr(self, f"node_{i - startp}")
            layers[i] = node(layers[i] + layers[i - 1])


class DLAUp(nn.Module):
    def __init__(
        self, startp: int, channels: list[int], scales: list[int], in_channels: list[int] | None = None,
        dcn: str = "torchvision",
    ) -> None:  # fmt: skip
        super().__init__()
        self.startp = startp
        in_channels = list(channels) if in_channels is None else list(in_channels)
        self.channels = channels
        channels = list(channels)
        scales_arr = np.array(scales, dtype=int)
        for i in range(len(channels) - 1):
            j = -i - 2
            setattr(self, f"ida_{i}", IDAUp(channels[j], in_channels[j:], list(scales_arr[j:] // scales_arr[j]), dcn))
            scales_arr[j + 1 :] = scales_arr[j]
            in_channels[j + 1 :] = [channels[j] for _ in channels[j + 1 :]]

    def forward(self, layers: list[torch.Tensor]) -> list[torch.Tensor]:
        out = [layers[-1]]
        for i in range(len(layers) - self.startp - 1):
            ida = getattr(self, f"ida_{i}")
            ida(layers, len(layers) - i - 2, len(layers))
            out.insert(0, layers[-1])
        return out


def _make_head(in_ch: int, classes: int, head_conv: int, final_kernel: int, name: str, std: float | None) -> nn.Module:
    """One output head. ``std``: the ResNet-DCN file also draws head weights from N(0, std)."""
    if head_conv > 0:
        fc: nn.Module = nn.Sequential(
            nn.Conv2d(in_ch, head_conv, kernel_size=3, padding=1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(head_conv, classes, kernel_size=final_kernel, stride=1, padding=final_kernel // 2, bias=True),
        )
        last = fc[-1]
    else:
        fc = nn.Conv2d(in_ch, classes, kernel_size=final_kernel, stride=1, padding=final_kernel // 2, bias=True)
        last = fc
    if "hm" in name:
        last.bias.data.fill_(-2.19)
    else:
        for m in fc.modules():
            if isinstance(m, nn.Conv2d):
                if std is not None:
                    nn.init.normal_(m.weight, std=std)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
    return fc


class DLASeg(nn.Module):
    """DLA backbone + DLAUp + IDAUp + heads. ``forward`` returns ``{head: map}`` (the official code wraps
    the same dict in a one-element list; nothing else differs)."""

    def __init__(
        self,
        levels: list[int],
        channels: list[int],
        heads: dict[str, int],
        down_ratio: int = 4,
        final_kernel: int = 1,
        last_level: int = 5,
        head_conv: int = 256,
        out_channel: int = 0,
        dcn: str = "torchvision",
    ) -> None:
        super().__init__()
        if down_ratio not in (2, 4, 8, 16):
            raise ValueError(f"down_ratio must be 2, 4, 8 or 16, got {down_ratio}")
        self.first_level = int(np.log2(down_ratio))
        self.last_level = last_level
        self.down_ratio = down_ratio
        self.base = DLA(levels, channels)
        channels = self.base.channels
        scales = [2**i for i in range(len(channels[self.first_level :]))]
        self.dla_up = DLAUp(self.first_level, channels[self.first_level :], scales, dcn=dcn)
        if out_channel == 0:
            out_channel = channels[self.first_level]
        self.ida_up = IDAUp(
            out_channel, channels[self.first_level : self.last_level],
            [2**i for i in range(self.last_level - self.first_level)], dcn,
        )  # fmt: skip
        self.heads = dict(heads)
        for head, classes in self.heads.items():
            setattr(self, head, _make_head(channels[self.first_level], classes, head_conv, final_kernel, head, None))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.base(x)
        x = self.dla_up(x)
        y = [x[i].clone() for i in range(self.last_level - self.first_level)]
        self.ida_up(y, 0, len(y))
        return {head: getattr(self, head)(y[-1]) for head in self.heads}


# --------------------------------------------------------------------------------- ResNet-DCN


class ResBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class ResBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + residual)


_RESNET_SPECS = {
    18: (ResBasicBlock, [2, 2, 2, 2]),
    34: (ResBasicBlock, [3, 4, 6, 3]),
    50: (ResBottleneck, [3, 4, 6, 3]),
    101: (ResBottleneck, [3, 4, 23, 3]),
}


class PoseResNet(nn.Module):
    """ResNet backbone + 3 x (DCN, BN, ReLU, 4x4 deconv stride 2, BN, ReLU) + heads (stride 4)."""

    def __init__(self, num_layers: int, heads: dict[str, int], head_conv: int = 256, dcn: str = "torchvision") -> None:
        super().__init__()
        block, layers = _RESNET_SPECS[num_layers]
        self.inplanes = 64
        self.heads = dict(heads)
        self.down_ratio = 4
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.deconv_layers = self._make_deconv_layer([256, 128, 64], dcn)
        for head, classes in self.heads.items():
            setattr(self, head, _make_head(64, classes, head_conv, 1, head, 0.001))

    def _make_layer(self, block: type, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion, momentum=BN_MOMENTUM),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _make_deconv_layer(self, filters: list[int], dcn: str) -> nn.Sequential:
        layers: list[nn.Module] = []
        for planes in filters:
            fc = DCN(self.inplanes, planes, kernel_size=(3, 3), stride=1, padding=1, dilation=1, deformable_groups=1,
                     backend=dcn)  # fmt: skip
            up = nn.ConvTranspose2d(planes, planes, kernel_size=4, stride=2, padding=1, output_padding=0, bias=False)
            fill_up_weights(up)
            layers += [fc, nn.BatchNorm2d(planes, momentum=BN_MOMENTUM), nn.ReLU(inplace=True), up,
                       nn.BatchNorm2d(planes, momentum=BN_MOMENTUM), nn.ReLU(inplace=True)]  # fmt: skip
            self.inplanes = planes
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.deconv_layers(x)
        return {head: getattr(self, head)(x) for head in self.heads}


# ------------------------------------------------------------------------------------ factory


def canonical_arch(arch: str) -> str:
    """'dla34' -> 'dla_34' etc.; raise a clear error for names we do not build."""
    name = _ALIASES.get(arch.lower(), arch.lower())
    if name in _DLA_SPECS:
        return name
    if name.startswith("resdcn_") and name[7:].isdigit() and int(name[7:]) in _RESNET_SPECS:
        return name
    valid = sorted(_DLA_SPECS) + [f"resdcn_{n}" for n in _RESNET_SPECS]
    raise ValueError(f"unknown FairMOT arch {arch!r}; valid: {', '.join(valid)} (aliases: {', '.join(_ALIASES)})")


def create_network(
    arch: str, heads: dict[str, int] | None = None, head_conv: int = 256, dcn: str = "torchvision"
) -> nn.Module:
    """Randomly initialised network (official init rules; no ImageNet download)."""
    name = canonical_arch(arch)
    heads = dict(DEFAULT_HEADS if heads is None else heads)
    if name in _DLA_SPECS:
        levels, channels = _DLA_SPECS[name]
        return DLASeg(levels, channels, heads, down_ratio=4, final_kernel=1, last_level=5, head_conv=head_conv,
                      dcn=dcn)  # fmt: skip
    return PoseResNet(int(name[7:]), heads, head_conv=head_conv, dcn=dcn)
