"""Backbones: ResNet-18 shape and key names, strides, pretrained weights only from safetensors."""

import pickle

import pytest
import torch
from safetensors.torch import save_file

from policies.backbone import ResNet18, SmallCNN, feature_map_shape, make_backbone


def test_resnet18_is_torchvisions_resnet18_without_fc():
    net = ResNet18(width=64, norm="batch")
    # torchvision resnet18: 11,689,512 parameters, of which fc holds 512*1000 + 1000
    assert sum(p.numel() for p in net.parameters()) == 11_689_512 - 513_000
    keys = set(net.state_dict())
    assert {"conv1.weight", "bn1.running_var", "layer1.0.conv2.weight", "layer2.0.downsample.0.weight",
            "layer4.1.bn2.bias"} <= keys


@pytest.mark.parametrize("dilate,stride", [(False, 32), (True, 16)])
def test_feature_map_strides(dilate, stride):
    net = ResNet18(width=8, norm="group", dilate_last=dilate)
    assert feature_map_shape(net, (96, 128)) == (64, 96 // stride, 128 // stride)
    assert feature_map_shape(SmallCNN(8), (96, 128)) == (32, 6, 8)


def _weights_file(tmp_path, width=16):
    src = ResNet18(width=width, norm="batch")
    sd = {k: torch.randn(v.shape) if v.is_floating_point() else v for k, v in src.state_dict().items()}
    sd["fc.weight"], sd["fc.bias"] = torch.randn(1000, 8 * width), torch.randn(1000)  # a classifier head is ignored
    path = tmp_path / "resnet18.safetensors"
    save_file(sd, str(path))
    return path, sd


def test_pretrained_weights_from_a_safetensors_file(tmp_path):
    path, sd = _weights_file(tmp_path)
    net = make_backbone("resnet18", 16, "frozen_bn", pretrained=str(path))
    torch.testing.assert_close(net.state_dict()["layer3.1.conv1.weight"], sd["layer3.1.conv1.weight"])
    torch.testing.assert_close(net.state_dict()["bn1.running_mean"], sd["bn1.running_mean"])
    with pytest.raises(ValueError, match="backbone_width=64"):
        make_backbone("resnet18", 8, "frozen_bn", pretrained=str(path))


def test_pretrained_weights_from_the_hub_only_when_asked(tmp_path, monkeypatch):
    import huggingface_hub

    path, sd = _weights_file(tmp_path)
    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, name: calls.append((repo, name)) or str(path))
    make_backbone("resnet18", 16, "frozen_bn")
    assert calls == []
    net = make_backbone("resnet18", 16, "frozen_bn", pretrained="someone/resnet18")
    assert calls == [("someone/resnet18", "model.safetensors")]
    torch.testing.assert_close(net.state_dict()["conv1.weight"], sd["conv1.weight"])


def test_pickled_weights_are_refused(tmp_path):
    bad = tmp_path / "resnet18.pth"
    bad.write_bytes(pickle.dumps({"conv1.weight": [1.0]}))
    with pytest.raises(ValueError, match="never pickles"):
        make_backbone("resnet18", 16, "frozen_bn", pretrained=str(bad))
