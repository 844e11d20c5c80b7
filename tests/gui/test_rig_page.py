from robotapp.gui.app import MainWindow
from robotapp.runtime.monitor import VirtualFollower


def test_rig_page_shows_the_follower_motors_live(qtbot):
    follower = VirtualFollower()
    window = MainWindow(follower)
    qtbot.addWidget(window)
    table = window.rig_page.table
    qtbot.waitUntil(lambda: follower.monitor.snapshot().polls >= 2, timeout=5000)
    window.rig_page.refresh()
    assert table.rowCount() == 6
    assert [table.item(r, 0).text() for r in range(6)][:2] == ["shoulder_pan", "shoulder_lift"]
    assert table.item(0, 3).text() == "2048" and table.item(0, 5).text() == "12.0"  # XL430: 12 V supply
    follower.chain.unplug(3)
    qtbot.waitUntil(lambda: "elbow_flex (id 3)" in follower.monitor.snapshot().error, timeout=5000)
    window.rig_page.refresh()
    assert "elbow_flex (id 3)" in window.rig_page.problem.text()
    window.close()
