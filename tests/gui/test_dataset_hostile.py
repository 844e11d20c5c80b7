"""The Dataset page opens hostile datasets (tests/dataset/hostile.py) as it opens any: a one-line error that names
the file and field, no reader left open on it, nothing changed in or beside the folder, and no retry loop."""

from tests.dataset.hostile import CASES, build, make_base, snapshot

from .conftest import make_window

TIMEOUT_MS = 30_000


def test_dataset_page_refuses_every_hostile_dataset(qtbot, tmp_path):
    bases = make_base(tmp_path / "clean"), make_base(tmp_path / "with-trash", with_trash=True)
    w = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    page = w.dataset_page
    w.tabs.setCurrentWidget(page)
    opened = []
    page.ctx.watcher.run = _counting(page.ctx.watcher.run, opened)
    try:
        for n, case in enumerate(c for c in CASES if c.gui):
            world = tmp_path / f"world{n}"
            ds = build(case, world, *bases)
            before = snapshot(world)
            jobs = len(opened)
            page.path.setText(str(ds))
            page.open_button.click()
            qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)
            text = page.message.text()
            assert "\n" not in text and all(s in text for s in case.needles), f"{case.name}: {text!r}"
            assert page.reader is None, case.name
            assert len(opened) - jobs <= 1, f"{case.name}: the page tried to open it {len(opened) - jobs} times"
            assert snapshot(world) == before, case.name
    finally:
        w.close()


def _counting(run, calls):
    def wrapped(fn, done, failed):
        calls.append(fn)
        return run(fn, done, failed)
    return wrapped
