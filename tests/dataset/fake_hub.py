"""A local stand-in for the HfApi calls hub.py makes: repos are folders, commits copy files, tags snapshot a
branch, snapshot_download copies a revision into local_dir. Pattern filtering is huggingface_hub's own."""

from __future__ import annotations

import shutil
from pathlib import Path

from huggingface_hub.errors import RevisionNotFoundError
from huggingface_hub.utils import filter_repo_objects


class FakeHubApi:
    def __init__(self, store: Path):
        self.store = Path(store)
        self.calls: list[str] = []
        self.private: dict[str, bool] = {}

    def _rev(self, repo_id: str, revision: str | None) -> Path:
        return self.store / repo_id / (revision or "main")

    def create_repo(self, repo_id, *, repo_type=None, private=None, exist_ok=False, token=None):
        self.calls.append("create_repo")
        assert repo_type == "dataset"
        path = self._rev(repo_id, None)
        if path.exists() and not exist_ok:
            raise FileExistsError(repo_id)
        path.mkdir(parents=True, exist_ok=True)
        self.private[repo_id] = bool(private)
        return f"https://huggingface.co/datasets/{repo_id}"

    def create_branch(self, repo_id, *, branch, repo_type=None, exist_ok=False, revision=None, token=None):
        self.calls.append("create_branch")
        dest = self._rev(repo_id, branch)
        if not dest.exists():
            shutil.copytree(self._rev(repo_id, revision), dest)

    def upload_folder(self, *, repo_id, folder_path, repo_type=None, revision=None, ignore_patterns=None,
                      allow_patterns=None, commit_message=None, token=None, path_in_repo=None):
        self.calls.append("upload_folder")
        assert repo_type == "dataset"
        dest = self._rev(repo_id, revision)
        if not dest.exists():
            raise RevisionNotFoundError(f"{repo_id}@{revision}")
        root = Path(folder_path)
        files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
        for rel in filter_repo_objects(files, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, dest / rel)

    def upload_file(self, *, path_or_fileobj, path_in_repo, repo_id, repo_type=None, revision=None,
                    commit_message=None, token=None):
        self.calls.append("upload_file")
        dest = self._rev(repo_id, revision) / path_in_repo
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path_or_fileobj if isinstance(path_or_fileobj, bytes) else Path(path_or_fileobj).read_bytes())

    def delete_tag(self, repo_id, *, tag, repo_type=None, token=None):
        self.calls.append("delete_tag")
        path = self.store / repo_id / f"tag-{tag}"
        if not path.exists():
            raise RevisionNotFoundError(tag)
        shutil.rmtree(path)

    def create_tag(self, repo_id, *, tag, revision=None, repo_type=None, token=None, tag_message=None):
        self.calls.append("create_tag")
        shutil.copytree(self._rev(repo_id, revision), self.store / repo_id / f"tag-{tag}")

    def snapshot_download(self, repo_id, *, repo_type=None, revision=None, local_dir=None, token=None,
                          allow_patterns=None, ignore_patterns=None):
        self.calls.append("snapshot_download")
        src = self._rev(repo_id, revision)
        if revision and not src.exists():
            src = self.store / repo_id / f"tag-{revision}"
        if not src.exists():
            raise RevisionNotFoundError(f"{repo_id}@{revision}")
        # every entry, symlinks kept as links (a hostile repo or download tool could deliver them)
        entries = [p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() or p.is_symlink()]
        for rel in filter_repo_objects(entries, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns):
            dest = Path(local_dir) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if (src / rel).is_symlink():
                dest.unlink(missing_ok=True)
                dest.symlink_to((src / rel).readlink())
            else:
                shutil.copyfile(src / rel, dest)
        return str(local_dir)

    def files(self, repo_id, revision=None) -> list[str]:
        root = self._rev(repo_id, revision)
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
