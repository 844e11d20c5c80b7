"""`robotapp dataset <command>`: parsing and calls only. Wire it in robotapp/cli/main.py with
`register(sub)`; every command returns an exit code, and a DatasetError (a ValueError) becomes one
line on stderr with exit code 2 there."""

from __future__ import annotations

from robotapp.cli.argtypes import ArgumentParser, nonneg_int


def _check(args) -> int:
    from robotapp.dataset.check import run_check

    return run_check(args.path, quick=args.quick)


def _info(args) -> int:
    from robotapp.dataset.features import DEFAULT_FEATURES
    from robotapp.dataset.reader import DatasetReader
    from robotapp.dataset.trash import list_trash

    r = DatasetReader(args.path)
    for note in r.recovery_notes:
        print(f"recovery: {note}")
    print(f"{args.path}: {r.num_episodes} episodes, {r.num_frames} frames "
          f"({r.num_frames / r.fps if r.fps else 0:.1f} s) at {r.fps} fps, robot {r.robot_type}")
    for k, ft in r.features.items():
        if k not in DEFAULT_FEATURES:
            extra = ft.get("info", {}).get("video.codec", "") if ft["dtype"] == "video" else ""
            print(f"  {k}: {ft['dtype']} {list(ft['shape'])} {extra}".rstrip())
    print(f"  tasks: {', '.join(repr(t) for t in r.tasks) or '(none)'}")
    trash = list_trash(args.path)
    if trash:
        print(f"  trash: {len(trash)} episode(s) (robotapp dataset trash {args.path})")
    if args.episodes:
        for e in r.episodes:
            drops = r.extra(e.index).get("dropped_frames") or {}
            dropped = sum(drops.values()) if isinstance(drops, dict) else 0
            print(f"  episode {e.index}: {e.length} frames, tasks {e.tasks}" + (f", {dropped} dropped camera "
                                                                               f"frames" if dropped else ""))
    return 0


def _recover(args) -> int:
    from robotapp.dataset.fsutil import DatasetLock
    from robotapp.dataset.meta import load_info, load_meta
    from robotapp.dataset.recovery import recover

    load_info(args.path)
    with DatasetLock(args.path).acquire(what="recover it"):
        notes = recover(args.path)
    for note in notes:
        print(note)
    print(f"{args.path}: {len(load_meta(args.path).episodes)} episodes" + ("" if notes else ", nothing to recover"))
    return 0


def _delete(args) -> int:
    from robotapp.dataset.trash import delete_episodes

    ids = delete_episodes(args.path, args.episodes)
    for ep, tid in zip(args.episodes, ids, strict=True):
        print(f"episode {ep} moved to the trash as {tid}")
    print(f"later episodes were renumbered; undo with: robotapp dataset restore {args.path} {' '.join(ids)}")
    return 0


def _trash(args) -> int:
    from robotapp.dataset.trash import list_trash

    entries = list_trash(args.path)
    if not entries:
        print(f"the trash of {args.path} is empty")
    for e in entries:
        print(f"{e.id}: was episode {e.original_index}, {e.length} frames, tasks {e.tasks}, deleted {e.deleted_at}")
    return 0


def _restore(args) -> int:
    from robotapp.dataset.trash import restore

    new = restore(args.path, args.ids or None)
    print(f"restored {len(new)} episode(s) as episode(s) {', '.join(map(str, new))}")
    return 0


def _purge(args) -> int:
    from robotapp.dataset.trash import purge

    if not args.ids and not args.all:
        raise ValueError("purge: give trash ids, or --all to empty the trash")
    n = purge(args.path, None if args.all else args.ids)
    print(f"deleted {n} trashed episode(s) for good")
    return 0


def _trim(args) -> int:
    from robotapp.dataset.trim import trim_episode

    n = trim_episode(args.path, args.episode, start=args.start, end=args.end)
    print(f"episode {args.episode} now has {n} frames")
    return 0


def _merge(args) -> int:
    from robotapp.dataset.merge import merge_datasets

    meta = merge_datasets(args.sources, args.output)
    print(f"{args.output}: {len(meta.episodes)} episodes, {meta.total_frames} frames from {len(args.sources)} "
          f"datasets")
    return 0


def _push(args) -> int:
    from robotapp.dataset.hub import push

    url = push(args.path, args.repo_id, private=args.private, revision=args.revision, force=args.force)
    print(f"pushed {args.path} to {url}")
    return 0


def _pull(args) -> int:
    from robotapp.dataset.hub import pull

    meta = pull(args.repo_id, args.path, revision=args.revision)
    print(f"pulled {args.repo_id} into {args.path}: {len(meta.episodes)} episodes")
    return 0


def register(subparsers) -> None:
    """Register `dataset` and its commands on the main parser's subparsers."""
    ds = subparsers.add_parser("dataset", help="check, inspect and edit LeRobot datasets; push/pull to the Hub")
    sub = ds.add_subparsers(dest="dataset_command", metavar="<dataset command>")
    ds.set_defaults(func=lambda args: (ds.print_help(), 2)[1])

    p = sub.add_parser("check", help="verify info, episodes, data and videos against each other (exit 0 = clean)")
    p.add_argument("path")
    p.add_argument("--quick", action="store_true", help="count video packets instead of decoding every frame")
    p.set_defaults(func=_check)

    p = sub.add_parser("info", help="what a dataset holds")
    p.add_argument("path")
    p.add_argument("--episodes", action="store_true", help="one line per episode")
    p.set_defaults(func=_info)

    p = sub.add_parser("recover", help="finish or discard an episode interrupted by a crash")
    p.add_argument("path")
    p.set_defaults(func=_recover)

    p = sub.add_parser("delete", help="move episodes to the trash (restorable)")
    p.add_argument("path")
    p.add_argument("episodes", type=nonneg_int, nargs="+", metavar="EPISODE")
    p.set_defaults(func=_delete)

    p = sub.add_parser("trash", help="list trashed episodes")
    p.add_argument("path")
    p.set_defaults(func=_trash)

    p = sub.add_parser("restore", help="put trashed episodes back, at the end (all when no id is given)")
    p.add_argument("path")
    p.add_argument("ids", nargs="*", metavar="TRASH_ID")
    p.set_defaults(func=_restore)

    p = sub.add_parser("purge", help="delete trashed episodes for good")
    p.add_argument("path")
    p.add_argument("ids", nargs="*", metavar="TRASH_ID")
    p.add_argument("--all", action="store_true", help="empty the whole trash")
    p.set_defaults(func=_purge)

    p = sub.add_parser("trim", help="cut frames off the start and/or end of an episode")
    p.add_argument("path")
    p.add_argument("episode", type=nonneg_int)
    p.add_argument("--start", type=nonneg_int, default=0, metavar="FRAMES", help="frames to cut at the start")
    p.add_argument("--end", type=nonneg_int, default=0, metavar="FRAMES", help="frames to cut at the end")
    p.set_defaults(func=_trim)

    p = sub.add_parser("merge", help="merge datasets (same fps, features, robot) into a new one")
    p.add_argument("output")
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.set_defaults(func=_merge)

    p = sub.add_parser("push", help="upload to the Hugging Face Hub with a dataset card")
    p.add_argument("path")
    p.add_argument("repo_id", help="user/name on the Hub")
    p.add_argument("--private", action="store_true")
    p.add_argument("--revision", default=None, help="branch to push to (default main)")
    p.add_argument("--force", action="store_true", help="push even if `check` finds problems")
    p.set_defaults(func=_push)

    p = sub.add_parser("pull", help="download a dataset from the Hugging Face Hub")
    p.add_argument("repo_id")
    p.add_argument("path")
    p.add_argument("--revision", default=None)
    p.set_defaults(func=_pull)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m robotapp.cli.cmd_dataset ...`) with the same error handling as robotapp."""
    import sys

    parser = ArgumentParser(prog="robotapp")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["dataset", *(argv if argv is not None else sys.argv[1:])])
    try:
        return args.func(args)
    except (ValueError, LookupError, OSError, RuntimeError) as e:
        print(f"robotapp dataset: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
