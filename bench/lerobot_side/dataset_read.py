"""lerobot's side of P6 (run by the lerobot venv's python): random access through LeRobotDataset on a dataset our
writer recorded.

    $LEROBOT_PYTHON bench/lerobot_side/dataset_read.py --root DIR --indices idx.json --out result.json

idx.json: the list of global frame indices to read (the same list our reader gets). Each dataset[i] returns the
frame with every camera's image decoded (video_backend="pyav": torchcodec has no CPU build for this torch).
Writes {"open_s", "read_s", "cpu_s" (process CPU time of the reads), "frames", "image_shapes"}. Imports only lerobot."""

from __future__ import annotations

import argparse
import json
import time

from lerobot.datasets.lerobot_dataset import LeRobotDataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--indices", required=True)
    ap.add_argument("--backend", default="pyav")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.indices) as f:
        indices = json.load(f)
    t0 = time.perf_counter()
    ds = LeRobotDataset("bench/local", root=args.root, video_backend=args.backend)
    item = ds[0]  # first access loads the data files
    open_s = time.perf_counter() - t0
    shapes = {k: list(v.shape) for k, v in item.items() if k in ds.meta.video_keys}
    t0, c0 = time.perf_counter(), time.process_time()
    for i in indices:
        ds[int(i)]
    read_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    with open(args.out, "w") as f:
        json.dump({"open_s": open_s, "read_s": read_s, "cpu_s": cpu_s, "frames": len(indices),
                   "image_shapes": shapes}, f)


if __name__ == "__main__":
    main()
