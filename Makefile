# Two entry points (see README): `make run` and `make test`. Both create .venv and install what is missing.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench bench-lerobot-venv demo clean

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

# Benchmarks side by side with lerobot -> docs/benchmarks.md (bench/suite.py; BENCH_ARGS=--quick for a trial).
# lerobot runs in its own virtual environment, never in ours: LEROBOT_PYTHON picks one, else .bench/lerobot-venv,
# created on first use (needs the package registry; without it the page says "lerobot not available").
LEROBOT_VENV   ?= .bench/lerobot-venv
LEROBOT_PYTHON ?= $(LEROBOT_VENV)/bin/python

bench: $(STAMP)
	@test -x $(LEROBOT_PYTHON) || test "$(LEROBOT_PYTHON)" != "$(LEROBOT_VENV)/bin/python" \
		|| $(MAKE) --no-print-directory bench-lerobot-venv || echo "bench: could not create $(LEROBOT_VENV)"
	LEROBOT_PYTHON=$(LEROBOT_PYTHON) MUJOCO_GL=egl $(PY) bench/suite.py --command "make bench $(BENCH_ARGS)" $(BENCH_ARGS)

bench-lerobot-venv:
	bash bench/lerobot_side/make_venv.sh $(LEROBOT_VENV)
	printf '*\n' > .bench/.gitignore

# The whole loop on the virtual rig: 50 demonstrations -> 30 min of ACT cpu-small training (ARGS="--policy diffusion"
# for Diffusion) -> 50 evaluation episodes on unseen scenes.
demo: $(STAMP)
	MUJOCO_GL=egl $(VENV)/bin/robotapp demo --out outputs/demo $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
