"""Image backbones in plain torch (no torchvision): a ResNet-18-shaped net and a small CNN.

`ResNet18` keeps torchvision's module names (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, ...), so
torchvision/timm ResNet-18 weights in a .safetensors file load straight in; `width` scales the channels
(64 = the real ResNet-18, 16 = a quarter-width net for CPUs). Pretrained weights are read only when asked,
from a local .safetensors file or a Hub repo id.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm2d with fixed statistics and affine parameters (torchvision's, same buffer names)."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        bias = self.bias - self.running_mean * scale
        return x * scale.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)


def make_norm(kind: str, channels: int) -> nn.Module:
    if kind == "frozen_bn":
        return FrozenBatchNorm2d(channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        # lerobot's Diffusion Policy rule: groups of 16 channels (at least one group).
        return nn.GroupNorm(max(1, channels // 16), channels)
    raise ValueError(f"unknown norm {kind!r}")


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, cout: int, stride: int, norm: str, dilation: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = make_norm(norm, cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = make_norm(norm, cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), make_norm(norm, cout))

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18 trunk up to layer4 (no pooling/fc): [B, 3, H, W] -> [B, 8*width, H/32, W/32]
    (H/16 with `dilate_last`, which swaps layer4's stride for dilation)."""

    def __init__(self, width: int = 64, norm: str = "frozen_bn", dilate_last: bool = False):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = make_norm(norm, w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(w, w, 1, norm), BasicBlock(w, w, 1, norm))
        self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2, norm), BasicBlock(2 * w, 2 * w, 1, norm))
        self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2, norm), BasicBlock(4 * w, 4 * w, 1, norm))
        if dilate_last:
            self.layer4 = nn.Sequential(BasicBlock(4 * w, 8 * w, 1, norm),
                                        BasicBlock(8 * w, 8 * w, 1, norm, dilation=2))
        else:
            self.layer4 = nn.Sequential(BasicBlock(4 * w, 8 * w, 2, norm), BasicBlock(8 * w, 8 * w, 1, norm))
        self.out_channels = 8 * w
        self.stride = 16 if dilate_last else 32
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        self.to(memory_format=torch.channels_last)

    def forward(self, x: Tensor) -> Tensor:
        x = x.contiguous(memory_format=torch.channels_last)  # oneDNN's fast layout on CPU (and good on GPUs)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class SmallCNN(nn.Module):
    """Four strided 3x3 conv blocks (stride 16 in all): the cheapest image encoder that still keeps a
    spatial map for attention / spatial softmax."""

    def __init__(self, width: int = 32, norm: str = "group", dilate_last: bool = False):
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for i in range(4):
            stride = 1 if (dilate_last and i == 3) else 2
            layers += [nn.Conv2d(chans[i], chans[i + 1], 5 if i == 0 else 3, stride, 2 if i == 0 else 1,
                                 bias=False), make_norm(norm, chans[i + 1]), nn.ReLU(inplace=True)]
        self.net = nn.Sequential(*layers)
        self.out_channels = chans[-1]
        self.stride = 8 if dilate_last else 16
        self.to(memory_format=torch.channels_last)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.contiguous(memory_format=torch.channels_last))


def make_backbone(name: str, width: int, norm: str, dilate_last: bool = False,
                  pretrained: str | None = None) -> nn.Module:
    if name == "resnet18":
        net: nn.Module = ResNet18(width, norm, dilate_last)
    elif name == "small_cnn":
        net = SmallCNN(width, norm, dilate_last)
    else:
        raise ValueError(f"unknown vision backbone {name!r} (resnet18 or small_cnn)")
    if pretrained:
        if name != "resnet18":
            raise ValueError("pretrained weights exist only for the resnet18 backbone")
        load_backbone_weights(net, pretrained)
    return net


def load_backbone_weights(net: nn.Module, source: str) -> None:
    """Load ResNet-18 weights from a .safetensors file or a Hub repo id (its model.safetensors). The fc head
    is ignored; anything else that does not fit is an error naming the tensor."""
    from safetensors.torch import load_file

    path = source
    if not os.path.exists(source):
        if source.endswith((".pth", ".pt", ".bin", ".pkl", ".ckpt")):
            raise ValueError(f"refusing {source}: only .safetensors weights are loaded, never pickles")
        from huggingface_hub import hf_hub_download

        try:
            path = hf_hub_download(source, "model.safetensors")
        except Exception as e:  # offline, no such repo, ...
            raise ValueError(f"cannot get backbone weights {source!r}: not a file and not on the Hub ({e})") from e
    if not str(path).endswith(".safetensors"):
        raise ValueError(f"refusing {path}: only .safetensors weights are loaded, never pickles")
    sd = load_file(str(path))
    sd = {k.removeprefix("model.").removeprefix("backbone."): v for k, v in sd.items()}
    sd = {k: v for k, v in sd.items() if not k.startswith("fc.") and not k.endswith("num_batches_tracked")}
    own = net.state_dict()
    missing = [k for k in own if k not in sd]
    if missing:
        raise ValueError(f"{path} lacks backbone tensors, e.g. {missing[0]} ({len(missing)} missing)")
    for k in own:
        if tuple(sd[k].shape) != tuple(own[k].shape):
            raise ValueError(f"{path}: {k} has shape {tuple(sd[k].shape)}, the backbone needs "
                             f"{tuple(own[k].shape)} (use backbone_width=64 for standard ResNet-18 weights)")
    net.load_state_dict({k: sd[k] for k in own})


def feature_map_shape(net: nn.Module, image_hw: tuple[int, int]) -> tuple[int, int, int]:
    """(C, h, w) of the backbone's output for an input of `image_hw`."""
    with torch.no_grad():
        was = net.training
        net.eval()
        out = net(torch.zeros(1, 3, *image_hw))
        net.train(was)
    return tuple(out.shape[1:])


def resize_images(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Float images [..., C, H, W] -> size, bilinear with antialiasing (used only when the caller did not
    already provide images at the policy's resolution)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    lead = x.shape[:-3]
    y = F.interpolate(x.reshape(-1, *x.shape[-3:]), size=size, mode="bilinear", antialias=True,
                      align_corners=False)
    return y.reshape(*lead, *y.shape[-3:])
