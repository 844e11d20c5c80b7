"""The Policy interface shared by ACT and Diffusion: reset(), select_action(observation) -> action, save(dir),
from_pretrained(dir or hub id), push_to_hub(repo_id); forward(batch) -> (loss, info) for training.

Observations are frames (keys in policies.frame_keys): STATE_KEY (float [S]) and image_key(<cam>) per camera
(uint8 RGB [H, W, 3] as the camera gives it; the policy resizes with the same
function the frame cache used). A leading batch dimension is optional. Actions come back unnormalised, as a
numpy array [A] (or [B, A] for a batched observation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from .backbone import resize_images
from .config import PolicyConfig
from .frame_keys import ACTION_KEY, IMAGES_KEY, STATE_KEY, is_image_key
from .images import resize_uint8, to_chw
from .normalize import Normalizer
from .policy_folder import load_folder, save_policy
from .policy_folder import push_to_hub as push_policy_to_hub


class Policy(nn.Module):
    name: ClassVar[str] = ""
    config_class: ClassVar[type[PolicyConfig]] = PolicyConfig

    def __init__(self, config: PolicyConfig, stats: Mapping[str, Mapping[str, Any]] | None = None):
        super().__init__()
        config.validate()
        self.config = config
        self.normalizer = Normalizer({**config.input_features, **config.output_features},
                                     config.normalization_mapping, stats)

    # --- to implement ---------------------------------------------------------------------------------------
    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def _select_action(self, batch: dict[str, Tensor] | None) -> Tensor:
        """Prepared (not yet normalised) batch (B items) -> unnormalised action [B, A]."""
        raise NotImplementedError

    def trainable_param_groups(self) -> list[dict]:
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    INFERENCE_FIELDS: ClassVar[tuple[str, ...]] = ()

    def configure_inference(self, **changes) -> Policy:
        """Change how a trained policy acts without retraining (e.g. ACT's n_action_steps or temporal
        ensembling, Diffusion's sampler and step count). Other fields are refused: they change the network."""
        bad = [k for k in changes if k not in self.INFERENCE_FIELDS]
        if bad:
            raise ValueError(f"{', '.join(bad)} cannot change after training (inference settings: "
                             f"{', '.join(self.INFERENCE_FIELDS)})")
        self.config = self.config.replace(**changes)
        self._apply_inference_config()
        self.reset()
        return self

    def _apply_inference_config(self) -> None:
        pass

    # --- shared ---------------------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def delta_indices(self) -> dict[str, list[int] | None]:
        """Frame offsets the data pipeline gathers per feature (None: the current frame only)."""
        obs = self.config.observation_delta_indices
        d: dict[str, list[int] | None] = {ACTION_KEY: self.config.action_delta_indices}
        for key in self.config.input_features:
            d[key] = obs
        return d

    def normalize_inputs(self, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """State normalised; images (uint8 [B, (T,) 3, h, w] per camera) normalised and stacked into
        IMAGES_KEY [B, (T,) n_cam, 3, h, w]."""
        out = {k: v for k, v in batch.items() if not is_image_key(k)}
        if STATE_KEY in batch:
            out[STATE_KEY] = self.normalizer.normalize(STATE_KEY, batch[STATE_KEY].float())
        keys = self.config.image_keys
        if keys:
            size = self.config.model_image_size
            imgs = [resize_images(self.normalizer.normalize_image(k, batch[k]), size) for k in keys]
            out[IMAGES_KEY] = torch.stack(imgs, dim=-4)
        return out

    def prepare_observation(self, observation: Mapping[str, Any]) -> tuple[dict[str, Tensor], bool]:
        """Camera-shaped observation -> batched tensors on the policy's device (images resized, uint8, CHW).
        Returns (batch, was_batched)."""
        device = self.device
        missing = [k for k in self.config.input_features if k not in observation]
        if missing:
            raise KeyError(f"observation lacks {', '.join(missing)} (the policy was trained with "
                           f"{', '.join(self.config.input_features)})")
        state = observation.get(STATE_KEY)
        batched = state is not None and np.ndim(state) == 2
        batch: dict[str, Tensor] = {}
        if state is not None:
            s = torch.as_tensor(np.asarray(state, dtype=np.float32) if not isinstance(state, Tensor) else state)
            batch[STATE_KEY] = (s if batched else s[None]).to(device, torch.float32)
        size = self.config.model_image_size
        for key in self.config.image_keys:
            img = observation[key]
            if isinstance(img, Tensor) and img.shape[-1] != 3:  # already CHW
                t = img.to(device)
                t = t if t.ndim == 4 else t[None]
                if t.dtype != torch.uint8:
                    t = resize_images(t.float(), size)
            else:
                arr = img.cpu().numpy() if isinstance(img, Tensor) else np.asarray(img)
                if arr.ndim == 3 and not batched:
                    arr = arr[None]
                t = torch.from_numpy(to_chw(resize_uint8(arr, size))).to(device)
            batch[key] = t
        return batch, batched

    @torch.inference_mode()
    def select_action(self, observation: Mapping[str, Any]) -> np.ndarray:
        """One action (unnormalised, float32) for this observation; call reset() at each episode start."""
        if self.training:
            self.eval()
        if self.needs_observation():
            batch, self._batched = self.prepare_observation(observation)
        else:  # the next action is already queued: skip image preprocessing
            batch = None
        action = self._select_action(batch)
        out = action.detach().to("cpu", torch.float32).numpy()
        return out if self._batched else out[0]

    def needs_observation(self) -> bool:
        """False when the next action is already known (a queued chunk) and the observation can be skipped."""
        return True

    # --- persistence (policies.policy_folder does the work) ------------------------------------------------
    def save(self, path) -> None:
        save_policy(self, path)

    save_pretrained = save

    @classmethod
    def from_pretrained(cls, path_or_repo: str, device: str | torch.device = "cpu", **kw) -> Policy:
        """A saved policy of this class (ACTPolicy.from_pretrained(...)); policies.load_policy loads either kind."""
        if not cls.name:
            raise TypeError("Policy.from_pretrained needs a policy class (ACTPolicy, DiffusionPolicy): "
                            "policies.load_policy(path) loads a policy of either kind")

        def make(config: PolicyConfig) -> Policy:
            if config.type != cls.name:
                raise ValueError(f"{path_or_repo} holds a {config.type} policy, not {cls.name}")
            return cls(config)

        return load_folder(path_or_repo, make, device=device, **kw)

    load = from_pretrained

    def push_to_hub(self, repo_id: str, private: bool = False, commit_message: str = "Upload policy") -> str:
        return push_policy_to_hub(self, repo_id, private=private, commit_message=commit_message)
