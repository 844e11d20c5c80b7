"""Must show: an evaluation's dataset (with the per-frame "intervention" feature) shows where a person took over
from the policy: the episode table's "taken over" column (spans and seconds, the times on hover), one shaded
band per run of taken-over frames on the joint plot at those frames (said in the legend, on hover and beside
the scrubber), and nothing for an episode the policy drove alone. Written with the real writer (tests/dataset/
synth.py: episode 0 taken over at frames 2-4 and 8-9, episode 1 never, episode 2 at its first 3 and last 2)."""

import pytest

from robotapp.gui.common import table_texts
from robotapp.gui.dataset_rows import TAKEN_OVER, TAKEN_OVER_WORDS, intervention_spans
from tests.dataset import synth

from .conftest import make_window
from .test_dataset_page import TIMEOUT_MS, open_ds


@pytest.fixture
def page(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "gui.ini", open_rig=False)
    w.tabs.setCurrentWidget(w.dataset_page)
    yield w.dataset_page
    w.close()


def show_episode(qtbot, page, ep: int):
    page.table.selectRow(ep)
    qtbot.waitUntil(lambda: page.player.episode is not None and page.player.episode["episode"] == ep,
                    timeout=TIMEOUT_MS)
    return page.player


def legend_texts(player) -> list[str]:
    return [label.text for _, label in player.legend.items]


def test_spans_of_flags():
    assert intervention_spans([False, True, True, False, True]) == [(1, 3), (4, 5)]
    assert intervention_spans([[True], [True]]) == [(0, 2)]
    assert intervention_spans([False, False]) == [] and intervention_spans([]) == []


def test_taken_over_frames_are_shaded(qtbot, page, tmp_path):
    root = synth.make_dataset(tmp_path / "ds", 3, cams=("front",), h=32, w=48, codec="h264", flag=True)
    open_ds(qtbot, page, root)
    assert page.message.text().endswith("; 2 taken over by a person")
    assert not page.table.isColumnHidden(TAKEN_OVER)
    assert table_texts(page.table, TAKEN_OVER) == ["2 spans, 0.5 s", "", "2 spans, 0.5 s"]
    assert page.table.item(0, TAKEN_OVER).toolTip() == (
        f"interventions: 2 spans, 0.5 s — {TAKEN_OVER_WORDS} at 0.20–0.50 s, 0.80–1.00 s")
    assert page.table.item(1, TAKEN_OVER).toolTip().startswith("interventions: none")

    player = show_episode(qtbot, page, 0)
    regions = player.taken_over_regions
    assert [r.getRegion() for r in regions] == [(1.5, 4.5), (7.5, 9.5)]  # frames 2-4 and 8-9, edge to edge
    assert all(r.scene() is player.plot.scene() and r.isVisible() for r in regions)
    assert regions[0].toolTip() == f"{TAKEN_OVER_WORDS}: frames 3–5 (0.20–0.50 s)"
    assert legend_texts(player).count(TAKEN_OVER_WORDS) == 1
    player.slider.setValue(3)
    assert player.position.text().endswith(TAKEN_OVER_WORDS)
    player.slider.setValue(5)
    assert TAKEN_OVER_WORDS not in player.position.text()

    player = show_episode(qtbot, page, 1)  # the policy drove every frame
    assert player.taken_over_regions == [] and TAKEN_OVER_WORDS not in legend_texts(player)
    assert all(r.scene() is None for r in regions)  # the previous episode's bands are gone

    n = synth.length(2)
    player = show_episode(qtbot, page, 2)
    assert [r.getRegion() for r in player.taken_over_regions] == [(-0.5, 2.5), (n - 2.5, n - 0.5)]


def test_a_dataset_without_the_feature_shows_nothing_new(qtbot, page, tmp_path):
    root = synth.make_dataset(tmp_path / "ds", 1, cams=("front",), h=32, w=48, codec="h264")
    open_ds(qtbot, page, root)
    assert "taken over" not in page.message.text() and page.table.isColumnHidden(TAKEN_OVER)
    player = show_episode(qtbot, page, 0)
    assert player.taken_over_regions == [] and TAKEN_OVER_WORDS not in legend_texts(player)
    player.slider.setValue(3)
    assert TAKEN_OVER_WORDS not in player.position.text()
