"""Save/load: identical actions after a round trip, the folder format, refusals with one-line messages,
the Hub (offline, against a local stand-in)."""

import json
import pickle
import shutil

import numpy as np
import pytest
import torch

from policies import CheckpointError, Policy, load_policy, make_config, make_policy
from policies.act import ACTPolicy
from policies.data import FrameCache
from policies.diffusion import DiffusionPolicy
from policies.policy_folder import convert_lerobot_state_dict
from tests.policies.helpers import TINY_ACT, TINY_DIFFUSION, make_dataset


@pytest.fixture(scope="module")
def ds():
    return make_dataset(n_episodes=2, length=16)


def _policy(ds, kind):
    cfg = make_config(kind, features=ds.features, **(TINY_ACT if kind == "act" else TINY_DIFFUSION))
    torch.manual_seed(0)
    return make_policy(cfg, FrameCache.build(ds, image_size=cfg.image_size).stats)


def _rollout(policy, ds, n=10, seed=0):
    torch.manual_seed(seed)
    policy.reset()
    ep = ds._eps[1]
    return np.stack([policy.select_action({k: v[i] for k, v in ep.items() if k != "action"}) for i in range(n)])


@pytest.fixture(scope="module")
def saved(ds, tmp_path_factory):
    folder = tmp_path_factory.mktemp("policy") / "act"
    policy = _policy(ds, "act")
    policy.save(folder)
    return folder, policy


@pytest.mark.parametrize("kind", ["act", "diffusion"])
def test_save_then_load_gives_identical_actions(ds, tmp_path, kind):
    policy = _policy(ds, kind).eval()
    policy.save(tmp_path / kind)
    assert sorted(p.name for p in (tmp_path / kind).iterdir()) == ["config.json", "model.safetensors",
                                                                   "normalizer.safetensors"]
    loaded = load_policy(str(tmp_path / kind))
    assert type(loaded) is type(policy) and loaded.config == policy.config and not loaded.training
    np.testing.assert_array_equal(_rollout(policy, ds), _rollout(loaded, ds))


def test_from_pretrained_on_a_policy_class_loads_that_kind_only(saved):
    folder, policy = saved
    loaded = ACTPolicy.from_pretrained(str(folder))
    assert type(loaded) is ACTPolicy and loaded.config == policy.config
    with pytest.raises(ValueError, match="holds a act policy, not diffusion"):
        DiffusionPolicy.from_pretrained(str(folder))
    with pytest.raises(TypeError, match="load_policy"):
        Policy.from_pretrained(str(folder))


def _one_line(excinfo, *parts):
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for p in parts:
        assert p in msg, msg


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors", "normalizer.safetensors"])
def test_a_missing_file_is_refused(saved, tmp_path, missing):
    folder = shutil.copytree(saved[0], tmp_path / "p")
    (folder / missing).unlink()
    with pytest.raises(CheckpointError) as e:
        load_policy(folder)
    _one_line(e, "incomplete", f"missing {missing}")


def test_a_pickle_is_refused(saved, tmp_path):
    folder = shutil.copytree(saved[0], tmp_path / "p")
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(CheckpointError) as e:
        load_policy(folder)
    _one_line(e, "pytorch_model.bin is a pickle", "never pickle")
    (folder / "pytorch_model.bin").unlink()
    (folder / "model.safetensors").write_bytes(pickle.dumps({"x": 1}, protocol=4))
    with pytest.raises(CheckpointError) as e:
        load_policy(folder)
    _one_line(e, "model.safetensors", "pickle")


def test_corrupt_files_are_refused(saved, tmp_path):
    folder = shutil.copytree(saved[0], tmp_path / "p")
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as e:
        load_policy(folder)
    _one_line(e, "model.safetensors")
    shutil.copy(saved[0] / "model.safetensors", folder / "model.safetensors")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError) as e:
        load_policy(folder)
    _one_line(e, "config.json is not valid JSON")


def test_weights_that_do_not_match_the_config_are_refused(saved, tmp_path):
    folder = shutil.copytree(saved[0], tmp_path / "p")
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "dim_model": 64}))
    with pytest.raises(CheckpointError) as e:
        load_policy(folder)
    _one_line(e, "model.safetensors does not match its config.json", "has shape")
    (folder / "config.json").write_text(json.dumps({**cfg, "type": "diffusion"}))
    with pytest.raises(CheckpointError) as e:
        load_policy(folder)
    _one_line(e, "config.json")


def test_features_that_do_not_match_the_dataset_or_rig_are_refused(saved, ds):
    folder = saved[0]
    assert load_policy(folder, features=ds.features) is not None
    no_wrist = {k: v for k, v in ds.features.items() if k != "observation.images.wrist"}
    with pytest.raises(CheckpointError) as e:
        load_policy(folder, features=no_wrist, features_source="rig")
    _one_line(e, "needs observation.images.wrist", "the rig does not have", "cameras: front")
    seven = {**ds.features, "observation.state": {"dtype": "float32", "shape": [7]}}
    with pytest.raises(CheckpointError) as e:
        load_policy(folder, features=seven)
    _one_line(e, "observation.state has shape [7] in the dataset", "trained with [6]")
    square = {**ds.features, "observation.images.front": {"dtype": "video", "shape": [32, 32, 3]}}
    with pytest.raises(CheckpointError) as e:
        load_policy(folder, features=square)
    _one_line(e, "observation.images.front is 32x32", "24x32")
    bigger = {**ds.features, "observation.images.front": {"dtype": "video", "shape": [48, 64, 3]}}
    load_policy(folder, features=bigger)  # same aspect ratio: the policy resizes


def test_loading_never_fetches_the_pretrained_backbone_again(saved, tmp_path, monkeypatch):
    import huggingface_hub

    folder = shutil.copytree(saved[0], tmp_path / "p")
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "pretrained_backbone_weights": "someone/resnet18"}))
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: pytest.fail("downloaded weights"))
    policy = load_policy(folder)
    assert policy.config.pretrained_backbone_weights == "someone/resnet18"


def test_not_a_folder(tmp_path):
    with pytest.raises(CheckpointError) as e:
        load_policy(tmp_path / "nope")
    _one_line(e, "does not exist")
    (tmp_path / "f.json").write_text("{}")
    with pytest.raises(CheckpointError) as e:
        load_policy(tmp_path / "f.json")
    _one_line(e, "is a file")


def test_hub_download_and_push_offline(saved, ds, monkeypatch, tmp_path):
    import huggingface_hub

    folder, policy = saved
    asked = {}

    def fake_snapshot_download(repo_id, revision=None, allow_patterns=None):
        asked.update(repo_id=repo_id, allow_patterns=allow_patterns)
        return str(folder)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    loaded = load_policy("someone/koch-act")
    assert asked["repo_id"] == "someone/koch-act" and "*.safetensors" in asked["allow_patterns"]
    assert not any(p.endswith((".bin", ".pt", ".pth")) for p in asked["allow_patterns"])
    np.testing.assert_array_equal(_rollout(policy.eval(), ds, 3), _rollout(loaded, ds, 3))

    uploads = []

    class FakeApi:
        def create_repo(self, repo_id, private=False, exist_ok=False):
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, repo_id, folder_path, commit_message, allow_patterns):
            uploads.append((repo_id, sorted(p.name for p in __import__("pathlib").Path(folder_path).iterdir())))

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert policy.push_to_hub("me/act") == "https://huggingface.co/me/act"
    assert uploads == [("me/act", ["config.json", "model.safetensors", "normalizer.safetensors"])]

    def offline(**kw):
        raise OSError("offline")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(CheckpointError) as e:
        load_policy("someone/else")
    _one_line(e, "cannot download policy 'someone/else'", "offline")


def test_lerobot_state_dict_names_convert():
    sd = {"diffusion.rgb_encoder.backbone.0.weight": 0, "diffusion.rgb_encoder.backbone.4.1.conv1.weight": 1,
          "model.backbone.layer1.0.conv1.weight": 2, "diffusion.unet.down_modules.0.0.conv1.block.0.weight": 3}
    assert set(convert_lerobot_state_dict(sd)) == {
        "diffusion.rgb_encoder.backbone.conv1.weight", "diffusion.rgb_encoder.backbone.layer1.1.conv1.weight",
        "model.backbone.layer1.0.conv1.weight", "diffusion.unet.down_modules.0.0.conv1.block.0.weight"}
