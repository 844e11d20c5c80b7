"""Tiny synthetic episodes for the policy tests: a bright square wanders over a dark image and the action is a
smooth function of its position, so the image carries what the policy must predict."""

from __future__ import annotations

import numpy as np

from policies.data import InMemoryDataset
from policies.frame_keys import ACTION_KEY, STATE_KEY, camera_name, image_key, is_image_key

CAMS = ("front", "wrist")


def make_episodes(n_episodes: int = 3, length: int = 24, hw: tuple[int, int] = (24, 32), seed: int = 0,
                  cams=CAMS) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    h, w = hw
    eps = []
    for _ in range(n_episodes):
        t = np.arange(length)
        x0, y0 = rng.uniform(0.2, 0.8, 2)
        xs = np.clip(x0 + 0.2 * np.sin(t / 5 + rng.uniform(0, 6)), 0.05, 0.95)
        ys = np.clip(y0 + 0.2 * np.cos(t / 7 + rng.uniform(0, 6)), 0.05, 0.95)
        state = np.stack([xs * 90, ys * 90, 10 * np.sin(t / 9), 5 + t * 0.1, -20 + xs * 5, 50 + 40 * ys], 1)
        action = np.roll(state, -1, axis=0)
        action[-1] = state[-1]
        ep = {STATE_KEY: state.astype(np.float32), ACTION_KEY: action.astype(np.float32)}
        for ci, cam in enumerate(cams):
            imgs = np.full((length, h, w, 3), 20, dtype=np.uint8)
            for i in range(length):
                cy, cx = int(ys[i] * (h - 4)), int(xs[i] * (w - 4))
                imgs[i, cy:cy + 4, cx:cx + 4] = (230, 40 + 60 * ci, 40)
            ep[image_key(cam)] = imgs
        eps.append(ep)
    return eps


def make_dataset(**kw) -> InMemoryDataset:
    return InMemoryDataset(make_episodes(**kw), fps=30)


TINY_ACT = dict(image_size=(16, 24), vision_backbone="small_cnn", backbone_width=8, dim_model=32, n_heads=4,
                dim_feedforward=64, n_encoder_layers=1, n_decoder_layers=1, n_vae_encoder_layers=1, latent_dim=8,
                chunk_size=8, n_action_steps=4, dropout=0.0, use_vae=True, augment_shift=0, batch_size=8)
TINY_DIFFUSION = dict(image_size=(16, 24), crop_shape=(14, 22), vision_backbone="small_cnn", backbone_width=8,
                      down_dims=(16, 32), diffusion_step_embed_dim=16, n_groups=4, spatial_softmax_num_keypoints=8,
                      horizon=8, n_action_steps=4, n_obs_steps=2, drop_n_last_frames=3, num_inference_steps=5,
                      scheduler_warmup_steps=5, batch_size=8)


def with_intervention(episodes: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """The episodes with the per-frame "intervention" flag of a corrections dataset (a person took over for the
    middle third of each episode), bool [T, 1]."""
    out = []
    for ep in episodes:
        n = len(ep[ACTION_KEY])
        flag = np.zeros((n, 1), dtype=bool)
        flag[n // 3: 2 * n // 3] = True
        out.append({**ep, "intervention": flag})
    return out


def write_dataset(root, episodes: list[dict[str, np.ndarray]], fps: int = 30, codec: str = "h264",
                  robot_type: str = "koch_follower"):
    """Record `episodes` into a LeRobot v3.0 dataset at root with robotapp.dataset's writer (an "intervention"
    column in the episodes becomes the dataset's bool feature)."""
    from robotapp.dataset import DatasetWriter, build_features

    first = episodes[0]
    cams = [(camera_name(k), *first[k].shape[1:3]) for k in first if is_image_key(k)]
    joints = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
    features = build_features(joints, cams)
    if "intervention" in first:
        from robotapp.dataset.features import INTERVENTION_FEATURE, INTERVENTION_KEY

        features[INTERVENTION_KEY] = dict(INTERVENTION_FEATURE)
    w = DatasetWriter.create(root, fps=fps, features=features, robot_type=robot_type, codec=codec, fsync=False)
    try:
        for ep in episodes:
            for i in range(len(ep[ACTION_KEY])):
                obs = {k: v[i] for k, v in ep.items() if k != ACTION_KEY}
                w.add_frame(obs, ep[ACTION_KEY][i], "move")
            w.save_episode().wait()
    finally:
        w.close()
    return root


def train_tiny_run(root, steps: int = 2, save_every: int = 2):
    """A barely trained tiny ACT run at root/run on a 2-episode dataset at root/ds (one 120x160 camera, the size
    the virtual rig renders for it): what the evaluation tests run on the virtual rig. Returns the run folder."""
    from policies.train import TrainOptions, train
    from robotapp.dataset import DatasetReader

    write_dataset(root / "ds", make_episodes(2, length=20, hw=(120, 160), cams=("front",)))
    opts = TrainOptions(dataset=str(root / "ds"), policy="act", steps=steps, save_every=save_every,
                        out=str(root / "run"), overrides=dict(TINY_ACT), progress=False, device="cpu")
    with DatasetReader(root / "ds") as reader:
        train(opts, reader)
    return root / "run"
