"""Re-ID networks in plain PyTorch, with the parameter names of their published weights.

Two families, each a network you can read top to bottom:

* **OSNet** (Zhou et al., ICCV 2019), widths x1.0/x0.75/x0.5/x0.25, laid out exactly as
  ``torchreid/models/osnet.py`` of KaiyangZhou/deep-person-reid, so torchreid's model-zoo files
  (e.g. ``osnet_x0_25_msmt17.pth``, the default re-ID model of BoxMOT) load by name:
  ``conv1.conv.weight``, ``conv2.0.conv2a.conv1.weight``, ``conv5.bn.running_mean``, ``fc.0.weight`` ...
  The embedding is the 512-d output of ``fc`` (Linear + BatchNorm1d + ReLU) in eval mode.

* **BoT** ("Bag of Tricks", Luo et al., CVPRW 2019): ResNet-50 with last stride 1, global average
  pooling and the BNNeck, named as in michuanhaohao/reid-strong-baseline (``modeling/baseline.py``):
  ``base.conv1.weight``, ``base.layer4.2.bn3.running_var``, ``bottleneck.weight`` ... The embedding is
  the 2048-d feature *after* the BNNeck (``TEST.NECK_FEAT 'after'``, the repository's default).
  Faithful to that code, its ResNet has no ReLU after the stem's ``bn1``.

The identity classifiers these networks were trained with (``classifier.*``: one output per training
identity) are not part of the embedding network; :data:`TRAINING_ONLY` names them so a loader can drop
exactly those keys and stay strict about every other one.
"""

from __future__ import annotations

from torch import nn
from torch.nn import functional as F

# ---------------------------------------------------------------------------------------------- OSNet


class ConvLayer(nn.Module):
    """conv + bn + relu (the 7x7 stem)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Conv1x1(nn.Module):
    """1x1 conv + bn + relu."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Conv1x1Linear(nn.Module):
    """1x1 conv + bn, no non-linearity."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class LightConv3x3(nn.Module):
    """1x1 (linear) then depth-wise 3x3, bn, relu."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False, groups=cout)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    """The unified aggregation gate: global pool, two 1x1 convs, sigmoid, multiply."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=True)
        self.gate_activation = nn.Sigmoid()

    def forward(self, x):
        g = self.gate_activation(self.fc2(self.relu(self.fc1(self.global_avgpool(x)))))
        return x * g


class OSBlock(nn.Module):
    """Omni-scale block: four streams of 1..4 light 3x3 convs, gated and summed, plus the residual."""

    def __init__(self, cin: int, cout: int, bottleneck_reduction: int = 4) -> None:
        super().__init__()
        mid = cout // bottleneck_reduction
        self.conv1 = Conv1x1(cin, mid)
        self.conv2a = LightConv3x3(mid, mid)
        self.conv2b = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(2)))
        self.conv2c = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(3)))
        self.conv2d = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(4)))
        self.gate = ChannelGate(mid)
        self.conv3 = Conv1x1Linear(mid, cout)
        self.downsample = Conv1x1Linear(cin, cout) if cin != cout else None

    def forward(self, x):
        x1 = self.conv1(x)
        x2 = (self.gate(self.conv2a(x1)) + self.gate(self.conv2b(x1)) + self.gate(self.conv2c(x1))
              + self.gate(self.conv2d(x1)))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(self.conv3(x2) + identity)


class OSNet(nn.Module):
    """OSNet backbone + ``fc`` embedding layer (torchreid's ``OSNet`` without its ``classifier``)."""

    def __init__(self, channels: tuple[int, int, int, int], layers: tuple[int, int, int] = (2, 2, 2),
                 feature_dim: int = 512) -> None:
        super().__init__()
        c0, c1, c2, c3 = channels
        self.conv1 = ConvLayer(3, c0, 7, stride=2, padding=3)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = self._make_layer(layers[0], c0, c1, reduce_spatial_size=True)
        self.conv3 = self._make_layer(layers[1], c1, c2, reduce_spatial_size=True)
        self.conv4 = self._make_layer(layers[2], c2, c3, reduce_spatial_size=False)
        self.conv5 = Conv1x1(c3, c3)
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(c3, feature_dim), nn.BatchNorm1d(feature_dim), nn.ReLU(inplace=True))
        self.feature_dim = feature_dim
        self._init_params()

    @staticmethod
    def _make_layer(n: int, cin: int, cout: int, reduce_spatial_size: bool) -> nn.Sequential:
        blocks: list[nn.Module] = [OSBlock(cin, cout)]
        blocks += [OSBlock(cout, cout) for _ in range(1, n)]
        if reduce_spatial_size:
            blocks.append(nn.Sequential(Conv1x1(cout, cout), nn.AvgPool2d(2, stride=2)))
        return nn.Sequential(*blocks)

    def _init_params(self) -> None:  # torchreid's initialisation (what seeded random weights look like)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.conv5(self.conv4(self.conv3(self.conv2(self.maxpool(self.conv1(x))))))
        v = self.global_avgpool(x).flatten(1)
        return self.fc(v)


# --------------------------------------------------------------------------------- BoT (ResNet-50)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """reid-strong-baseline's ResNet (``modeling/backbones/resnet.py``): no ReLU after ``bn1``, as there."""

    def __init__(self, last_stride: int = 1, layers: tuple[int, int, int, int] = (3, 4, 6, 3)) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=last_stride)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(planes * 4))
        out = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        out += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*out)

    def forward(self, x):
        x = self.maxpool(self.bn1(self.conv1(x)))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class BoT(nn.Module):
    """ResNet-50 (last stride 1) + GAP + BNNeck; the embedding is the feature after the BNNeck."""

    def __init__(self, last_stride: int = 1) -> None:
        super().__init__()
        self.base = ResNet(last_stride)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.bottleneck = nn.BatchNorm1d(2048)
        nn.init.constant_(self.bottleneck.weight, 1.0)
        nn.init.constant_(self.bottleneck.bias, 0.0)
        self.feature_dim = 2048

    def forward(self, x):
        return self.bottleneck(self.gap(self.base(x)).flatten(1))


# ------------------------------------------------------------------------------------------- table

OSNET_CHANNELS = {
    "osnet_x1_0": (64, 256, 384, 512),
    "osnet_x0_75": (48, 192, 288, 384),
    "osnet_x0_5": (32, 128, 192, 256),
    "osnet_x0_25": (16, 64, 96, 128),
}
MODELS = (*OSNET_CHANNELS, "bot_r50")
EMBEDDING_DIMS = {**{name: 512 for name in OSNET_CHANNELS}, "bot_r50": 2048}
# Keys of the published files that belong to training only (the identity classifier), per model family.
TRAINING_ONLY = {**{name: ("classifier.",) for name in OSNET_CHANNELS}, "bot_r50": ("classifier.",)}
NAMING = {**{name: "torchreid (KaiyangZhou/deep-person-reid)" for name in OSNET_CHANNELS},
          "bot_r50": "reid-strong-baseline (michuanhaohao/reid-strong-baseline, neck=bnneck, last_stride=1)"}


def build_model(name: str) -> nn.Module:
    """A freshly initialised (torch's global RNG) embedding network, in train mode."""
    if name in OSNET_CHANNELS:
        return OSNet(OSNET_CHANNELS[name])
    if name == "bot_r50":
        return BoT()
    raise ValueError(f"unknown re-ID model {name!r}; valid models: {', '.join(MODELS)}")
