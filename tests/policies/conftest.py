"""Policy tests run torch on one thread: their models are tiny, and on a shared 2-core machine a second
OpenMP thread that waits for a busy core makes small ops many times slower (measured: 13x)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
