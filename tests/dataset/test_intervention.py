"""Must show: the per-frame "intervention" flag (dtype bool, shape [1]) is written as a plain boolean column,
read back with the same values ([n] bool arrays), has lerobot's stats, survives a crash while staged and every
edit (delete, trim, restore, merge), and a hostile flag (bad shape, a column of numbers claimed bool, or the
reverse) is refused with one line naming the file and the field."""

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from robotapp.dataset import DatasetError, DatasetReader, DatasetWriter
from robotapp.dataset.check import check_dataset
from robotapp.dataset.features import INTERVENTION_FEATURE, INTERVENTION_KEY, normalize_features
from robotapp.dataset.merge import merge_datasets
from robotapp.dataset.publish import RECORD, STAGED_DATA, StagedEpisode, record_json, staged_data_bytes
from robotapp.dataset.trash import delete_episodes, restore
from robotapp.dataset.trim import trim_episode
from tests.dataset import synth

KEY = INTERVENTION_KEY
DATA = "data/chunk-000/file-000.parquet"


def flags(ep: int, n: int) -> np.ndarray:
    return np.array([synth.intervention(ep, i, n)[0] for i in range(n)])


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return synth.make_dataset(tmp_path_factory.mktemp("flag") / "base", 3, cams=("front",), h=32, w=48,
                              codec="h264", flag=True)


@pytest.fixture
def ds(base, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(base, root)
    return root


def test_contract():
    assert KEY == "intervention"
    assert INTERVENTION_FEATURE == {"dtype": "bool", "shape": [1], "names": None}  # as lerobot writes next.done
    feats = normalize_features({**synth.features(cams=()), KEY: INTERVENTION_FEATURE})
    assert feats[KEY] == INTERVENTION_FEATURE


def test_round_trip(base):
    r = DatasetReader(base)
    assert r.features[KEY] == INTERVENTION_FEATURE
    for ep in range(3):
        n = synth.length(ep)
        got = r.episode_data(ep)[KEY]
        assert got.dtype == np.bool_ and got.shape == (n,)
        np.testing.assert_array_equal(got, flags(ep, n))
    item = r.get_item(r.episodes[0].dataset_from_index + 3, {KEY: [-0.1, 0.0, 0.1]})
    np.testing.assert_array_equal(item[KEY], [True, True, True])  # frames 2, 3, 4 of episode 0
    assert r.get_item(0)[KEY].dtype == np.bool_ and not r.get_item(0)[KEY]
    table = pq.read_table(base / DATA)
    assert table.schema.field(KEY).type == pa.bool_()
    hf = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"][KEY]
    assert hf == {"dtype": "bool", "_type": "Value"}
    assert check_dataset(base) == []


def test_stats_are_lerobots(base):
    """min/max booleans, mean the fraction of True frames, as lerobot's compute_episode_stats has them."""
    r = DatasetReader(base)
    n0 = synth.length(0)
    s = r.episode_stats(0)[KEY]
    assert s["min"].tolist() == [False] and s["max"].tolist() == [True] and s["count"].tolist() == [n0]
    np.testing.assert_allclose(s["mean"], [5 / n0])
    np.testing.assert_allclose(s["std"], [flags(0, n0).std()])
    assert r.episode_stats(1)[KEY]["max"].tolist() == [False]
    all_flags = np.concatenate([flags(e, synth.length(e)) for e in range(3)])
    np.testing.assert_allclose(r.stats[KEY]["mean"], [all_flags.mean()])
    assert r.stats[KEY]["count"].tolist() == [len(all_flags)]
    rows = pq.read_table(base / "meta/episodes/chunk-000/file-000.parquet")
    assert rows.schema.field(f"stats/{KEY}/min").type == pa.list_(pa.bool_())
    assert json.loads((base / "meta/stats.json").read_text())[KEY]["max"] == [True]


def test_add_frame_wants_a_bool(tmp_path):
    with DatasetWriter.create(tmp_path / "ds", fps=10, features=synth.features(cams=(), flag=True),
                              robot_type="koch") as w:
        obs = {"observation.state": synth.state(0, 0)}
        with pytest.raises(DatasetError, match="'intervention' is float64, expected bool"):
            w.add_frame({**obs, KEY: np.array([1.0])}, synth.action(0, 0), "t")
        with pytest.raises(DatasetError, match=r"'intervention' has shape \(2,\)"):
            w.add_frame({**obs, KEY: np.array([True, False])}, synth.action(0, 0), "t")
        with pytest.raises(DatasetError, match="missing 'intervention'"):
            w.add_frame(obs, synth.action(0, 0), "t")
        assert w.add_frame({**obs, KEY: np.array([True])}, synth.action(0, 0), "t") == 0


def test_staged_episode_recovered_with_its_flags(tmp_path):
    """A recorder killed after staging an episode: the next open publishes it, flags included."""
    root = tmp_path / "ds"
    DatasetWriter.create(root, fps=10, features=synth.features(cams=(), flag=True), robot_type="koch").close()
    n, token = 12, "000000-abcdef12"
    stage = root / ".robotapp/staging" / token
    stage.mkdir(parents=True)
    vectors = {"action": np.stack([synth.action(0, i) for i in range(n)]),
               "observation.state": np.stack([synth.state(0, i) for i in range(n)]),
               KEY: flags(0, n).reshape(n, 1)}
    (stage / STAGED_DATA).write_bytes(staged_data_bytes(vectors, np.zeros(n, np.int32)))
    staged = StagedEpisode(stage, token, n, ["t"], np.zeros(n, np.int64), vectors)
    (stage / RECORD).write_text(json.dumps(record_json(staged)))
    r = DatasetReader(root)
    assert r.num_episodes == 1 and any("recovered" in note for note in r.recovery_notes)
    np.testing.assert_array_equal(r.episode_data(0)[KEY], flags(0, n))


def test_edits_keep_the_flags(ds, tmp_path):
    delete_episodes(ds, [1])  # episodes 0, 2 remain
    trim_episode(ds, 1, start=1, end=1)  # episode 2 loses its first and last frame
    restore(ds)  # episode 1 comes back at the end
    assert check_dataset(ds) == []
    r = DatasetReader(ds)
    n2 = synth.length(2)
    np.testing.assert_array_equal(r.episode_data(0)[KEY], flags(0, synth.length(0)))
    np.testing.assert_array_equal(r.episode_data(1)[KEY], flags(2, n2)[1:-1])
    np.testing.assert_array_equal(r.episode_data(2)[KEY], flags(1, synth.length(1)))
    np.testing.assert_allclose(r.episode_stats(1)[KEY]["mean"], [flags(2, n2)[1:-1].mean()])
    merged = tmp_path / "merged"
    merge_datasets([ds, ds], merged)
    assert check_dataset(merged) == []
    m = DatasetReader(merged)
    for ep in range(3):
        np.testing.assert_array_equal(m.episode_data(ep + 3)[KEY], r.episode_data(ep)[KEY])


def test_merge_refuses_a_dataset_without_the_flag(base, tmp_path):
    plain = synth.make_dataset(tmp_path / "plain", 1, cams=("front",), h=32, w=48, codec="h264")
    with pytest.raises(DatasetError, match="intervention"):
        merge_datasets([base, plain], tmp_path / "merged")


# -- hostile -------------------------------------------------------------------------------------------------
def edit_info(root, fn) -> None:
    path = root / "meta/info.json"
    info = json.loads(path.read_text())
    fn(info["features"])
    path.write_text(json.dumps(info))


def recast_column(root, key: str, typ: pa.DataType) -> None:
    table = pq.read_table(root / DATA)
    i = table.column_names.index(key)
    pq.write_table(table.set_column(i, key, table.column(key).cast(typ)), root / DATA)


def one_line(err: pytest.ExceptionInfo, *needles: str) -> str:
    msg = str(err.value)
    assert "\n" not in msg and all(n in msg for n in needles), msg
    return msg


@pytest.mark.parametrize("shape", [[2], [1, 1]])
def test_flag_with_a_bad_shape_is_refused(ds, shape):
    edit_info(ds, lambda f: f[KEY].update(shape=shape))
    with pytest.raises(DatasetError) as err:
        DatasetReader(ds)
    one_line(err, "meta/info.json", f"'{KEY}'", "shape")
    problems = check_dataset(ds)
    assert [p.kind for p in problems] == ["features-invalid"] and KEY in str(problems[0])


def test_bool_action_is_refused():
    with pytest.raises(DatasetError, match="'action'.*bool"):
        normalize_features({"action": INTERVENTION_FEATURE})


def test_numbers_claimed_bool_are_refused(ds):
    recast_column(ds, KEY, pa.float32())
    r = DatasetReader(ds)
    with pytest.raises(DatasetError) as err:
        r.episode_data(0)
    one_line(err, DATA, f"'{KEY}'", "bool", "float")
    assert any(p.kind == "data-columns" and KEY in str(p) and "bool" in str(p) for p in check_dataset(ds))


def test_flags_claimed_numbers_are_refused(ds):
    edit_info(ds, lambda f: f[KEY].update(dtype="float32"))
    with pytest.raises(DatasetError) as err:
        DatasetReader(ds).episode_data(0)
    one_line(err, DATA, f"'{KEY}'", "float32", "bool")


def test_a_float_column_claimed_bool_is_refused(ds):
    """info.json turning the state into flags: its shape is refused first, and a 1-wide one by its values."""
    edit_info(ds, lambda f: f["observation.state"].update(dtype="bool", shape=[1], names=None))
    with pytest.raises(DatasetError) as err:
        DatasetReader(ds).episode_data(0)
    one_line(err, DATA, "'observation.state'", "bool")
