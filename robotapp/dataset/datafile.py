"""Frame tables (data/chunk-*/file-*.parquet): numpy columns <-> parquet bytes, as lerobot writes them.

Vectors are fixed_size_list<float32>[n], per-frame flags (dtype "bool", shape [1]) plain boolean columns, the
bookkeeping columns are float32 timestamp and int64 indexes, and the schema carries the 'huggingface' metadata that `datasets` writes, so lerobot reads the file unchanged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotapp.dataset.errors import DatasetError

_PA = {"float32": pa.float32(), "float64": pa.float64(), "int64": pa.int64(), "int32": pa.int32(),
       "bool": pa.bool_()}


def frame_columns(features: Mapping[str, Mapping]) -> list[str]:
    """Columns of the frame table, in lerobot's order (user vectors, then the bookkeeping columns)."""
    from robotapp.dataset.features import DEFAULT_FEATURES

    user = [k for k, ft in features.items() if ft["dtype"] != "video" and k not in DEFAULT_FEATURES]
    return user + list(DEFAULT_FEATURES)


def _hf_feature(ft: Mapping) -> dict:
    if list(ft["shape"]) == [1]:
        return {"dtype": ft["dtype"], "_type": "Value"}
    return {"feature": {"dtype": ft["dtype"], "_type": "Value"}, "length": int(ft["shape"][0]), "_type": "List"}


def data_table(arrays: Mapping[str, np.ndarray], features: Mapping[str, Mapping]) -> pa.Table:
    cols, fields = [], []
    for key in frame_columns(features):
        ft = features[key]
        typ = _PA[ft["dtype"]]
        a = np.asarray(arrays[key])
        if list(ft["shape"]) == [1]:
            arr = pa.array(a.reshape(-1).astype(typ.to_pandas_dtype()), type=typ)
        else:
            n = int(ft["shape"][0])
            flat = pa.array(np.ascontiguousarray(a, dtype=typ.to_pandas_dtype()).reshape(-1), type=typ)
            arr = pa.FixedSizeListArray.from_arrays(flat, n)
        cols.append(arr)
        fields.append(pa.field(key, arr.type))
    hf = {"info": {"features": {k: _hf_feature(features[k]) for k in frame_columns(features)}}}
    schema = pa.schema(fields, metadata={b"huggingface": json.dumps(hf).encode()})
    return pa.Table.from_arrays(cols, schema=schema)


def table_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()


def column_to_numpy(col: pa.ChunkedArray | pa.Array, ft: Mapping) -> np.ndarray:
    """A column as numpy in its feature's dtype: [N] for shape [1], [N, D] for vectors. A ValueError in plain
    words when the stored values are not what the feature says (numbers are never read as flags, or back)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    dtype = np.dtype(ft["dtype"])
    is_list = pa.types.is_fixed_size_list(arr.type) or pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)
    value_type = arr.type.value_type if is_list else arr.type
    if pa.types.is_boolean(value_type) != (dtype == np.bool_):
        raise ValueError(f"info.json says dtype {ft['dtype']}, the column holds {value_type}")
    if is_list:
        n = int(ft["shape"][0])
        values = arr.flatten().to_numpy(zero_copy_only=False)
        return values.astype(dtype, copy=False).reshape(len(arr), n)
    if dtype == np.bool_ and arr.null_count:
        raise ValueError(f"{arr.null_count} frames have no value")
    return arr.to_numpy(zero_copy_only=False).astype(dtype, copy=False)


def read_data(path: Path, features: Mapping[str, Mapping]) -> dict[str, np.ndarray]:
    """All frame columns of one data file as numpy arrays; a clear error if the file or a column is bad."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as e:
        raise DatasetError(f"data file {path} cannot be read ({e})") from None
    out = {}
    for key in frame_columns(features):
        if key not in table.column_names:
            raise DatasetError(f"data file {path} has no column '{key}'")
        try:
            out[key] = column_to_numpy(table.column(key), features[key])
        except (ValueError, pa.ArrowException) as e:
            raise DatasetError(f"data file {path}: column '{key}' does not match its feature ({e})") from None
    return out
