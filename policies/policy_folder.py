"""Policy folders: config.json + model.safetensors + normalizer.safetensors (json and safetensors only, never
pickle). save_policy / load_folder (a folder or a Hub repo id, into a policy that `make` builds from its
config) / push_to_hub, and check_features against a dataset or a rig. Anything wrong is refused with a
one-line CheckpointError that names the file or feature.

This module knows no policy class (policies.io maps a config's type to its class), so that base.Policy's
save / from_pretrained / push_to_hub can use it without an import circle.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from .config import config_from_dict
from .frame_keys import camera_name, is_image_key

CONFIG_FILE, MODEL_FILE, NORMALIZER_FILE = "config.json", "model.safetensors", "normalizer.safetensors"
REQUIRED = (CONFIG_FILE, MODEL_FILE, NORMALIZER_FILE)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".npy", ".npz", ".joblib")
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A policy folder that cannot (or must not) be loaded."""


# --- save --------------------------------------------------------------------------------------------------
def save_policy(policy, path: str | os.PathLike, extra_config: Mapping | None = None) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    cfg = policy.config.to_dict()
    cfg["robotapp_format"] = FORMAT_VERSION
    if extra_config:
        cfg.update(extra_config)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in policy.state_dict().items()}
    _atomic(path / MODEL_FILE, lambda p: save_file(tensors, p, metadata={"format": "pt"}))
    _atomic(path / NORMALIZER_FILE,
            lambda p: save_file(policy.normalizer.state_tensors(), p,
                                metadata={"normalization_mapping": json.dumps(policy.config.normalization_mapping)}))
    _atomic(path / CONFIG_FILE, lambda p: Path(p).write_text(json.dumps(cfg, indent=2) + "\n"))
    return path


def _atomic(dest: Path, write) -> None:
    tmp = dest.with_name(dest.name + ".tmp")
    write(str(tmp))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # safetensors writes 0600; a policy folder is meant to be shared
    os.replace(tmp, dest)


# --- load --------------------------------------------------------------------------------------------------
def resolve(path_or_repo: str | os.PathLike, revision: str | None = None) -> Path:
    """A local folder as is; otherwise a Hub repo id, downloaded (json/safetensors files only)."""
    p = Path(path_or_repo).expanduser()
    if p.is_dir():
        return p
    if p.exists():
        raise CheckpointError(f"{p} is a file: give the policy folder (with {', '.join(REQUIRED)})")
    s = str(path_or_repo)
    if s.count("/") == 1 and not s.startswith((".", "/", "~")) and not os.path.exists(s.split("/")[0]):
        import huggingface_hub

        try:
            local = huggingface_hub.snapshot_download(repo_id=s, revision=revision,
                                                      allow_patterns=["*.json", "*.safetensors", "*.md"])
        except Exception as e:
            raise CheckpointError(f"cannot download policy {s!r} from the Hub: {type(e).__name__}: "
                                  f"{str(e).splitlines()[0] if str(e) else ''}") from e
        return Path(local)
    raise CheckpointError(f"policy folder {p} does not exist")


def check_folder(path: Path) -> None:
    pickles = sorted(f.name for f in path.iterdir() if f.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise CheckpointError(f"refusing {path}: {pickles[0]} is a pickle-format file; robotapp loads only "
                              f"{', '.join(REQUIRED)} (never pickle)")
    for name in REQUIRED:
        if not (path / name).is_file():
            raise CheckpointError(f"policy folder {path} is incomplete: missing {name}")
    for name in (MODEL_FILE, NORMALIZER_FILE):
        _check_safetensors(path / name)


def _check_safetensors(file: Path) -> None:
    with open(file, "rb") as f:
        head = f.read(9)
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise CheckpointError(f"refusing {file}: it is a pickle/torch.save file renamed .safetensors, not safetensors")
    if len(head) < 9 or head[8:9] != b"{" or int.from_bytes(head[:8], "little") > file.stat().st_size:
        raise CheckpointError(f"{file} is not a valid safetensors file (truncated or corrupt)")


def read_config(path: Path):
    try:
        d = json.loads((path / CONFIG_FILE).read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path / CONFIG_FILE} is not valid JSON ({e.msg} at line {e.lineno})") from e
    if not isinstance(d, dict):
        raise CheckpointError(f"{path / CONFIG_FILE} is not a JSON object")
    d.pop("robotapp_format", None)
    try:
        return config_from_dict(d, strict=True)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path / CONFIG_FILE}: {e}") from e


def load_folder(path_or_repo: str | os.PathLike, make: Callable, device: str | torch.device = "cpu",
                features: Mapping | None = None, features_source: str = "dataset", revision: str | None = None):
    """Load a policy folder (or Hub repo id) into `make(config)` on `device`, in eval mode. With `features` (a
    dataset's or a rig's), refuse a policy whose inputs/outputs they do not provide."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = resolve(path_or_repo, revision)
    check_folder(path)
    config = read_config(path)
    if features is not None:
        check_features(config, features, features_source)
    # the weights come from model.safetensors: never fetch the pretrained backbone again
    policy = make(config.replace(pretrained_backbone_weights=None))
    policy.config = config
    loaded = {}
    for name in (MODEL_FILE, NORMALIZER_FILE):
        try:
            loaded[name] = load_file(str(path / name))
        except (SafetensorError, OSError, RuntimeError) as e:
            raise CheckpointError(f"{path / name} is not a readable safetensors file ({e})") from e
    state, norm = loaded[MODEL_FILE], loaded[NORMALIZER_FILE]
    _load_state(policy, state, path / MODEL_FILE)
    try:
        policy.normalizer.load_state_tensors(norm)
    except ValueError as e:
        raise CheckpointError(f"{path / NORMALIZER_FILE}: {e}") from e
    return policy.to(device).eval()




def _load_state(policy, state: Mapping[str, torch.Tensor], file: Path) -> None:
    own = policy.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        what = (f"lacks {missing[0]}" if missing else f"has an unexpected tensor {unexpected[0]}")
        raise CheckpointError(f"{file} does not match its config.json: it {what} "
                              f"({len(missing)} missing, {len(unexpected)} unexpected)")
    for k, v in own.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise CheckpointError(f"{file} does not match its config.json: {k} has shape {tuple(state[k].shape)}, "
                                  f"expected {tuple(v.shape)}")
    policy.load_state_dict(state)


_LEROBOT_SEQ_BACKBONE = {"0": "conv1", "1": "bn1", "4": "layer1", "5": "layer2", "6": "layer3", "7": "layer4"}


def convert_lerobot_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Key names of a lerobot ACT/Diffusion model.safetensors -> ours (ACT's are already the same; Diffusion's
    backbone is an nn.Sequential there, so "rgb_encoder.backbone.4.0..." becomes "...backbone.layer1.0...")."""
    out = {}
    for k, v in state.items():
        parts = k.split(".")
        if "backbone" in parts:
            i = parts.index("backbone") + 1
            if i < len(parts) and parts[i] in _LEROBOT_SEQ_BACKBONE:
                parts[i] = _LEROBOT_SEQ_BACKBONE[parts[i]]
        out[".".join(parts)] = v
    return out


def check_features(config, features: Mapping[str, Mapping], source: str = "dataset") -> None:
    """Refuse when `features` (dataset- or rig-shaped: images [h, w, 3]) lack what the policy reads or
    writes, or give it in another shape."""
    have_cams = sorted(camera_name(k) for k in features if is_image_key(k))
    for key, feat in {**config.input_features, **config.output_features}.items():
        if key not in features:
            extra = f" (it has cameras: {', '.join(have_cams) or 'none'})" if is_image_key(key) else ""
            raise CheckpointError(f"the policy needs {key}, which the {source} does not have{extra}")
        shape = list(features[key]["shape"])
        want = list(feat["shape"])
        if feat["type"] == "VISUAL":
            h, w = (shape[0], shape[1]) if shape[-1] == 3 else (shape[1], shape[2])
            th, tw = want[1], want[2]
            if abs(h / w - th / tw) > 0.02:
                raise CheckpointError(f"{key} is {h}x{w} in the {source} but the policy was trained on {th}x{tw} "
                                      f"images (another aspect ratio)")
        elif shape != want:
            raise CheckpointError(f"{key} has shape {shape} in the {source} but the policy was trained with {want}")
        names, want_names = features[key].get("names"), feat.get("names")
        if names and want_names and feat["type"] != "VISUAL" and list(names) != list(want_names):
            raise CheckpointError(f"{key} names differ: the {source} has {list(names)}, the policy {list(want_names)}")


# --- Hub ---------------------------------------------------------------------------------------------------
def push_to_hub(policy_or_path, repo_id: str, private: bool = False, commit_message: str = "Upload policy") -> str:
    """Upload a policy (object or saved folder) to the Hub; returns the repo URL."""
    import huggingface_hub

    api = huggingface_hub.HfApi()
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(policy_or_path, (str, os.PathLike)):
            folder = Path(policy_or_path)
            check_folder(folder)
        else:
            folder = save_policy(policy_or_path, Path(tmp) / "policy")
        url = api.create_repo(repo_id=repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=commit_message,
                          allow_patterns=[*REQUIRED, "README.md"])
    return str(url)
