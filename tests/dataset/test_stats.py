"""Stats math: vectors as lerobot (histogram quantiles), exact image histograms, aggregation = stats of the
concatenation."""

import numpy as np

from robotapp.dataset import stats as st


def test_vector_stats_shapes_and_values():
    rng = np.random.default_rng(0)
    x = rng.normal(5, 2, (500, 4)).astype(np.float32)
    s = st.vector_stats(x)
    assert set(s) == set(st.STAT_KEYS)
    np.testing.assert_allclose(s["mean"], x.astype(np.float64).mean(0))
    np.testing.assert_allclose(s["std"], x.astype(np.float64).std(0))
    np.testing.assert_array_equal(s["min"], x.min(0))
    assert s["count"].tolist() == [500] and s["q50"].shape == (4,)
    width = (x.max(0) - x.min(0)) / st.NUM_BINS
    xs = np.sort(x, axis=0)
    for q, key in zip(st.QUANTILES, st.QKEYS, strict=True):  # between the order statistics around q * n
        k = q * len(x)
        lo, hi = xs[max(int(np.floor(k)) - 1, 0)], xs[min(int(np.ceil(k)), len(x) - 1)]
        assert np.all((s[key] >= lo - width) & (s[key] <= hi + width)), key
    scalar = st.vector_stats(np.arange(10, dtype=np.int64))
    assert scalar["mean"].shape == (1,) and scalar["min"].tolist() == [0]
    one = st.vector_stats(np.ones((1, 3), np.float32))
    np.testing.assert_array_equal(one["q99"], one["mean"])


def test_image_stats_are_exact_over_downsampled_frames():
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (6, 480, 640, 3), dtype=np.uint8)
    s = st.image_stats(frames)
    small = frames[:, ::4, ::4].reshape(-1, 3).astype(np.float64) / 255  # lerobot strides 640 px by 4
    assert s["mean"].shape == (3, 1, 1) and s["count"].tolist() == [6]
    np.testing.assert_allclose(s["mean"].ravel(), small.mean(0))
    np.testing.assert_allclose(s["std"].ravel(), small.std(0))
    np.testing.assert_allclose(s["max"].ravel(), small.max(0))
    np.testing.assert_allclose(s["q50"].ravel(), np.quantile(small, 0.5, axis=0, method="inverted_cdf"),
                               atol=1 / 255)
    assert st.downsample_for_stats(np.zeros((240, 320, 3), np.uint8)).shape == (120, 160, 3)
    assert st.downsample_for_stats(np.zeros((64, 80, 3), np.uint8)).shape == (64, 80, 3)


def test_aggregate_equals_stats_of_everything():
    rng = np.random.default_rng(2)
    parts = [rng.normal(i, 1 + i, (50 + 30 * i, 3)) for i in range(4)]
    agg = st.aggregate([{"a": st.vector_stats(p)} for p in parts])["a"]
    whole = np.concatenate(parts)
    np.testing.assert_allclose(agg["mean"], whole.mean(0))
    np.testing.assert_allclose(agg["std"], whole.std(0))
    np.testing.assert_allclose(agg["min"], whole.min(0))
    assert agg["count"].tolist() == [len(whole)]
    imgs = [st.image_stats(rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)) for _ in range(3)]
    agg_img = st.aggregate([{"cam": s} for s in imgs])["cam"]
    assert agg_img["mean"].shape == (3, 1, 1) and agg_img["count"].tolist() == [9]


def test_flatten_round_trip_keeps_integer_min_max():
    s = {"index": st.vector_stats(np.arange(5, dtype=np.int64)), "cam": st.image_stats([np.zeros((4, 4, 3),
                                                                                                 np.uint8)])}
    row = st.flatten(s, {"index": "int64", "cam": "video"})
    assert row["stats/index/min"] == [0] and isinstance(row["stats/index/max"][0], int)
    back = st.unflatten(row)
    np.testing.assert_array_equal(back["cam"]["mean"], s["cam"]["mean"])
