# Two entry points (see README): `make run` and `make test`. Both create .venv and install what is missing.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the local CPU wheel. An unpinned torch would pull GBs of CUDA wheels.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	MUJOCO_GL=$${MUJOCO_GL:-egl} $(VENV)/bin/robotapp $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 MUJOCO_GL=egl $(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/bus.py
	MUJOCO_GL=egl $(PY) bench/virtual.py

# The whole loop on the virtual rig: 50 demonstrations -> ACT (cpu-small) -> 50 evaluation episodes.
demo: $(STAMP)
	MUJOCO_GL=egl $(VENV)/bin/robotapp demo --out outputs/demo $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
