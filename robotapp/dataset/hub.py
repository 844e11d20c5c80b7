"""Pushing a dataset to the Hugging Face Hub and pulling one, with huggingface_hub's HfApi.

Push: the dataset is checked first (a corrupt dataset is not published unless forced), held locked so no
recording changes it meanwhile, uploaded without our private .robotapp/ folder, given a dataset card (README.md:
robot, fps, features, episodes, tasks, and the YAML header the Hub and lerobot expect) and tagged with the
codebase version "v3.0", which lerobot looks for when it downloads. Pull: a snapshot into a local folder,
then the same check. Every call goes through the `api` object, so tests pass a local stand-in."""

from __future__ import annotations

import contextlib
from pathlib import Path

from robotapp.dataset import layout
from robotapp.dataset.check import check_dataset
from robotapp.dataset.edit import edit_session
from robotapp.dataset.errors import DatasetError
from robotapp.dataset.features import DEFAULT_FEATURES
from robotapp.dataset.meta import Meta, load_meta

IGNORE = [f"{layout.PRIVATE}/*", "*.tmp-*", "*/.*.tmp-*"]


def _api(api, token):
    if api is not None:
        return api
    from huggingface_hub import HfApi

    return HfApi(token=token)


def dataset_card(meta: Meta, repo_id: str, *, license: str = "apache-2.0") -> str:
    feats = meta.features
    rows = []
    for k, ft in feats.items():
        if k in DEFAULT_FEATURES:
            continue
        names = ft.get("names")
        detail = ", ".join(names) if ft["dtype"] != "video" and names else \
            f"{ft['shape'][1]}x{ft['shape'][0]} video ({ft.get('info', {}).get('video.codec', 'av1')})"
        rows.append(f"| `{k}` | {ft['dtype']} | {list(ft['shape'])} | {detail} |")
    tasks = "\n".join(f"- {t}" for t in meta.tasks) or "- (none)"
    header = "\n".join([
        "---", f"license: {license}", "task_categories:", "- robotics", "tags:", "- LeRobot", "- robotapp",
        f"- {meta.robot_type or 'robot'}", "configs:", "- config_name: default", "  data_files: data/*/*.parquet",
        "---"])
    return f"""{header}

# {repo_id}

Recorded with robotapp in the [LeRobot](https://github.com/huggingface/lerobot) v3.0 dataset format.

- **Robot type:** {meta.robot_type}
- **FPS:** {meta.fps}
- **Episodes:** {len(meta.episodes)}
- **Frames:** {meta.total_frames}
- **Cameras:** {", ".join(meta.video_keys) or "none"}

## Features

| feature | dtype | shape | names |
|---|---|---|---|
{chr(10).join(rows)}

## Tasks

{tasks}

## Load it

```python
from lerobot.datasets.lerobot_dataset import LeRobotDataset
ds = LeRobotDataset("{repo_id}")
```
"""


def push(root: str | Path, repo_id: str, *, private: bool = False, token: str | None = None,
         revision: str | None = None, api=None, force: bool = False, license: str = "apache-2.0") -> str:
    """Upload the dataset; returns the dataset's Hub URL (or the api's answer for it)."""
    root = Path(root)
    with edit_session(root, "push it") as meta:
        problems = check_dataset(root, quick=True)
        if problems and not force:
            raise DatasetError(f"not pushing {root}: {problems[0]} ({len(problems)} problem(s); run "
                               f"`robotapp dataset check {root}`)")
        if not meta.episodes:
            raise DatasetError(f"not pushing {root}: it has no episodes")
        hub = _api(api, token)
        url = hub.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if revision:
            hub.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
        hub.upload_folder(repo_id=repo_id, folder_path=str(root), repo_type="dataset", revision=revision,
                          ignore_patterns=IGNORE, commit_message=f"Upload {len(meta.episodes)} episodes")
        hub.upload_file(path_or_fileobj=dataset_card(meta, repo_id, license=license).encode(),
                        path_in_repo="README.md", repo_id=repo_id, repo_type="dataset", revision=revision,
                        commit_message="Dataset card")
        with contextlib.suppress(Exception):  # no such tag yet
            hub.delete_tag(repo_id, tag=layout.CODEBASE_VERSION, repo_type="dataset")
        hub.create_tag(repo_id, tag=layout.CODEBASE_VERSION, revision=revision, repo_type="dataset")
        return str(url)


def pull(repo_id: str, root: str | Path, *, revision: str | None = None, token: str | None = None,
         api=None) -> Meta:
    """Download a dataset into root (an empty or missing folder, or an earlier pull of the same dataset)."""
    root = Path(root)
    if root.exists() and any(root.iterdir()) and not (root / layout.INFO).is_file():
        raise DatasetError(f"cannot pull into {root}: the folder is not empty and is not a dataset")
    hub = _api(api, token)
    try:
        # our private folder (lock, journals, staging, trash) never comes from elsewhere
        hub.snapshot_download(repo_id, repo_type="dataset", revision=revision, local_dir=str(root),
                              ignore_patterns=IGNORE)
    except Exception as e:  # noqa: BLE001 - huggingface_hub raises many kinds; the user needs one line
        raise DatasetError(f"cannot download {repo_id} from the Hub ({type(e).__name__}: {e})") from None
    if not (root / layout.INFO).is_file():
        raise DatasetError(f"{repo_id} is not a LeRobot dataset (no meta/info.json)")
    layout.check_links(root)  # what came from the Hub is untrusted: it must not lead elsewhere on this disk
    return load_meta(root)
