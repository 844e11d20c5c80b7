"""Runs INSIDE lerobot's virtual env (not ours): load datasets with LeRobotDataset and dump what it returns.

    python lerobot_probe.py REQUEST.json OUT      -> OUT.json (lengths, tasks, strings) and OUT.npz (arrays)
Images come back as HxWx3 uint8 (lerobot gives float CHW in [0, 1]). A "stats" entry runs lerobot's
get_feature_stats on the given arrays, to compare with ours; a "feature_stats" entry {name: {"dtype", "values"}}
runs compute_episode_stats (what lerobot's save_episode writes) on values of that dtype."""

import json
import sys

import numpy as np
from lerobot.datasets.compute_stats import compute_episode_stats, get_feature_stats
from lerobot.datasets.lerobot_dataset import LeRobotDataset


def main(req_path, out):
    with open(req_path) as f:
        requests = json.load(f)
    meta, arrays = [], {}
    for n, req in enumerate(requests):
        info = {}
        if req.get("root"):
            ds = LeRobotDataset(f"local/probe{n}", root=req["root"], video_backend="pyav",
                                delta_timestamps=req.get("delta"))
            info.update(len=len(ds), num_episodes=ds.num_episodes, fps=ds.fps, items={},
                        tasks=[str(t) for t in ds.meta.tasks.index])
            for idx in req.get("indices", []):
                item = ds[idx]
                strings = {}
                for key, v in item.items():
                    if isinstance(v, str):
                        strings[key] = v
                        continue
                    a = v.numpy()
                    if key in ds.meta.camera_keys:
                        a = np.round(np.moveaxis(a, -3, -1) * 255).astype(np.uint8)
                    arrays[f"{n}/{idx}/{key}"] = a
                info["items"][str(idx)] = strings
        for name, values in (req.get("stats") or {}).items():
            s = get_feature_stats(np.asarray(values, dtype=np.float32), axis=0, keepdims=False)
            for k, v in s.items():
                arrays[f"{n}/stats/{name}/{k}"] = np.asarray(v)
        for name, spec in (req.get("feature_stats") or {}).items():
            values = np.asarray(spec["values"], dtype=spec["dtype"])
            s = compute_episode_stats({name: values}, {name: {"dtype": spec["dtype"]}})[name]
            for k, v in s.items():
                arrays[f"{n}/feature_stats/{name}/{k}"] = np.asarray(v)
        meta.append(info)
    with open(out + ".json", "w") as f:
        json.dump(meta, f)
    np.savez(out + ".npz", **arrays)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
