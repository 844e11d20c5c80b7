"""The trainer: `train(options, reader)` on a FrameSource (policies.frame_source; the app's DatasetReader), in
one process or in each of N under torch.distributed (DDP: gloo on CPU, nccl on GPU) - the same code. The app's
training worker (`python -m robotapp.cli.train_worker`, `torchrun --nproc_per_node=N -m robotapp.cli.train_worker`)
opens the dataset and calls it.

Several datasets train together (policies.mixing: they must agree on what the policy reads; each gets a share
of the sampled frames, equal by default). `opts.resume` continues the run in `out`; `opts.resume_from` fine-tunes:
a new run in `out` from another run's weights, config and normalisation stats (policies.run_folder).

Each step: a batch from the frame cache -> loss -> backward -> gradient clipping -> the paper's optimiser and
LR schedule -> EMA (Diffusion). Rank 0 logs to out/train_log.csv (and TensorBoard when installed), shows a
progress bar, calls `callback(record)` and writes checkpoints every `save_every` steps and at the end.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist

from .checkpoint import restore, save_checkpoint
from .config import make_config, split_features
from .data import BatchSampler
from .frame_keys import camera_name
from .frame_source import FrameSource
from .io import load_policy, make_policy
from .mixing import build_cache, check_compatible
from .optim import EMA, lr_factor, make_optimizer
from .policy_folder import check_features
from .run_folder import (
    fine_tune_batch_size,
    fine_tune_origin,
    fine_tune_overrides,
    fine_tune_start,
    latest_checkpoint,
    recorded_origin,
    refuse_other_robot,
    refuse_same_folder,
)
from .train_log import TrainLogger


@dataclass
class TrainOptions:
    dataset: str | None = None  # the (first) dataset: recorded, read by tools that name one
    datasets: list[str] | None = None  # several datasets trained together (None: `dataset` alone)
    # Each dataset's share of the sampled frames: "balanced" (equal shares whatever their sizes), "frames"
    # (proportional to their frames), or relative weights [1, 3] (policies.mixing).
    weights: str | list[float] = "balanced"
    policy: str = "act"
    preset: str = "cpu-small"
    steps: int = 1000
    out: str = "outputs/train"
    batch_size: int | None = None
    seed: int = 0
    save_every: int = 1000
    log_every: int = 10
    device: str = "auto"
    resume: bool = False  # continue the run in `out` from out/last
    # Fine-tune: start a new run in `out` from this run's last checkpoint (or this checkpoint folder): its weights,
    # config and normalisation stats; a fresh optimiser and LR schedule (policies.run_folder).
    resume_from: str | None = None
    cameras: list[str] | None = None
    episodes: list[int] | None = None
    overrides: dict = field(default_factory=dict)  # config fields, e.g. {"chunk_size": 50, "image_size": [64, 96]}
    num_threads: int | None = None
    progress: bool = True
    amp: bool = False  # bfloat16 autocast for the forward pass (CPUs with AVX512-BF16/AMX, recent GPUs)
    # Wall-clock budget for the whole run (frame cache included): training stops when it is spent, and the LR
    # schedule (Diffusion's cosine) is fitted to the steps the budget allows, as measured while training.
    time_budget_s: float | None = None
    # When that budget started (time.time()): a launcher's start, so that starting the processes counts. None:
    # when train() is called.
    budget_start: float | None = None

    @property
    def dataset_list(self) -> list[str]:
        return list(self.datasets) if self.datasets else [self.dataset] if self.dataset else []


@dataclass
class TrainResult:
    step: int
    checkpoint: Path | None
    loss: float
    samples_per_s: float
    elapsed_s: float
    stopped_early: bool = False  # should_stop(), Ctrl-C or SIGTERM: a checkpoint of the step reached was saved
    budget_spent: bool = False  # ended by the time budget (opts.time_budget_s)


_stop_requested = threading.Event()


def request_stop() -> None:
    """Ask a running train() to end after the current step, with a checkpoint (signal handlers call this)."""
    _stop_requested.set()


def pick_device(name: str = "auto") -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _setup_distributed(opts: TrainOptions) -> tuple[int, int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(opts.device)
    if device.type == "cuda":
        device = torch.device("cuda", local if world > 1 else (device.index or 0))
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    torch.set_num_threads(opts.num_threads or max(1, _cpu_count() // max(1, local_world)))
    return rank, world, local_world, device


def train(opts: TrainOptions, reader: FrameSource | Sequence[FrameSource],
          callback: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train a policy on `reader` (a FrameSource: robotapp's DatasetReader, or InMemoryDataset), or on several
    trained together (policies.mixing: they must agree; opts.weights gives each its share). The dataset paths in
    `opts` are only recorded. `callback` gets every logged record (rank 0); `should_stop()` -> True ends the run
    early with a checkpoint."""
    _stop_requested.clear()
    t_entry = _run_start(opts.budget_start)
    readers = list(reader) if isinstance(reader, (list, tuple)) else [reader]
    names = opts.dataset_list if len(opts.dataset_list) == len(readers) else [f"#{i + 1}" for i in range(len(readers))]
    out = Path(opts.out)
    resume_from = latest_checkpoint(out) if opts.resume else None
    if opts.resume and resume_from is None:
        raise ValueError(f"nothing to resume in {out} (no checkpoints/ there)")
    start = fine_tune_start(opts.resume_from) if opts.resume_from and resume_from is None else None
    if start is not None:
        refuse_same_folder(start, out)
    if resume_from is None and (out / "checkpoints").exists() and any((out / "checkpoints").iterdir()):
        raise ValueError(f"{out} already holds checkpoints: pass --resume to continue, or another --out")
    if len(readers) > 1:
        check_compatible(readers, names, opts.cameras)
    rank, world, local_world, device = _setup_distributed(opts)
    main_proc = rank == 0

    amp = opts.amp and _bf16_is_fast(device)
    if opts.amp and not amp and main_proc:
        print("--amp: this CPU has no bfloat16 units (AVX512-BF16 or AMX), where bfloat16 runs ~15x slower than "
              "float32: training in float32", file=sys.stderr, flush=True)
    torch.manual_seed(opts.seed)
    origin = recorded_origin(resume_from) if resume_from is not None else fine_tune_origin(start) if start else {}
    if resume_from is not None or start is not None:
        policy = load_policy(resume_from or start)
        config = policy.config
        for r, name in zip(readers, names, strict=True):
            check_features(config, r.features, source=_source(name, len(readers)))
        if start is not None:  # the run's global batch, split across this run's processes, unless told otherwise
            refuse_other_robot(start, {n: getattr(r, "robot_type", None) for r, n in zip(readers, names, strict=True)})
            config.batch_size = max(1, (fine_tune_batch_size(start) or config.batch_size) // world)
            for key, value in fine_tune_overrides(vars(config), opts.overrides).items():
                setattr(config, key, tuple(value) if isinstance(value, list) else value)
    else:
        inputs, outputs = split_features(readers[0].features, opts.cameras)  # bool/extra columns: never inputs
        config = make_config(opts.policy, opts.preset, features={**inputs, **outputs}, **opts.overrides)
        check_features(config, readers[0].features)
    if opts.batch_size:
        config.batch_size = int(opts.batch_size)
    cams = [camera_name(k) for k in config.image_keys]
    cache, shares = build_cache(readers, names, opts.weights, image_size=config.model_image_size if cams else None,
                                cameras=cams, episodes=opts.episodes, processes_per_machine=local_world,
                                progress=_cache_progress if main_proc and opts.progress else None)
    if main_proc and opts.progress:
        print(f"frame cache: {cache.nbytes / 1e9:.2f} GB ({cache.num_frames} frames, {len(cams)} camera(s) at "
              f"{'x'.join(map(str, config.model_image_size))})", file=sys.stderr, flush=True)
    if resume_from is None and start is None:
        policy = make_policy(config, cache.stats)  # a fine-tune keeps the stats its policy was trained with
    policy.to(device).train()
    optimizer = make_optimizer(policy, config)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    ema = EMA(policy, config.ema_power, config.ema_max_decay) if config.use_ema else None
    sampler = BatchSampler(cache, policy.delta_indices, config.batch_size, seed=opts.seed, rank=rank,
                           world_size=world, drop_n_last_frames=getattr(config, "drop_n_last_frames", 0),
                           augment_shift=config.augment_shift, device=device, weights=shares)
    step = 0
    if resume_from is not None:
        step = restore(resume_from, policy, optimizer, sampler, ema)
        if world > 1:  # each rank continues its own random stream
            torch.manual_seed(opts.seed + 1000 * rank + step)
    else:
        torch.manual_seed(opts.seed + 1000 * rank)
    model = policy
    if world > 1:
        _grads_in_parameter_layout(policy)
        model = torch.nn.parallel.DistributedDataParallel(
            policy, device_ids=[device.index] if device.type == "cuda" else None)

    log = TrainLogger(out, opts, world, device, enabled=main_proc, resume=resume_from is not None, start=step)
    meta = {"options": {**vars(opts), "policy": config.type}, "world_size": world, "dataset_frames": cache.num_frames,
            "batch_size": config.batch_size, "robot_type": getattr(readers[0], "robot_type", None),
            "datasets": [{"path": n, "frames": f, "share": s} for n, f, s in zip(names, _frames(cache), shares,
                                                                                  strict=True)], **origin}
    last_ckpt, loss_val, t0, stopped, spent = resume_from, float("nan"), time.perf_counter(), False, False
    try:
        budget = _Budget(opts.time_budget_s, t_entry, step, opts.steps)
        while step < opts.steps:
            if _should_stop(should_stop, world, device):
                stopped = True
                break
            if budget.spent(step, world, device):
                stopped = spent = True
                break
            factor = lr_factor(config, step, budget.horizon)
            log.total_steps = budget.horizon  # the progress shows the steps the time budget allows
            for g, base in zip(optimizer.param_groups, base_lrs, strict=True):
                g["lr"] = base * factor
            batch = sampler.next_batch()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss, info = model(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip_norm)
            optimizer.step()
            if ema is not None:
                ema.update(policy)
            step += 1
            loss_val = log.step(step, loss.detach(), info, float(grad_norm), optimizer.param_groups[0]["lr"],
                                sampler.epoch, config.batch_size * world, callback)
            if main_proc and opts.save_every and step % opts.save_every == 0 and step < opts.steps:
                last_ckpt = save_checkpoint(out, step, policy, optimizer, sampler, ema, meta)
            if world > 1 and opts.save_every and step % opts.save_every == 0:
                dist.barrier()
    except KeyboardInterrupt:
        stopped = True
        if main_proc:
            print(f"\ninterrupted at step {step}: saving a checkpoint", file=sys.stderr, flush=True)
    finally:
        if main_proc and step > 0 and (last_ckpt is None or last_ckpt.name != f"{step:06d}"):
            last_ckpt = save_checkpoint(out, step, policy, optimizer, sampler, ema, meta)
        log.close()
        if world > 1:
            dist.barrier()
    elapsed = time.perf_counter() - t0
    return TrainResult(step=step, checkpoint=last_ckpt, loss=loss_val, elapsed_s=elapsed,
                       samples_per_s=log.total_samples / max(elapsed, 1e-9), stopped_early=stopped,
                       budget_spent=spent)


def _source(name: str, n: int) -> str:
    return f"dataset {name}" if n > 1 else "dataset"


def _frames(cache) -> list[int]:
    sizes = cache.episode_to - cache.episode_from
    if cache.episode_source is None:
        return [int(sizes.sum())]
    return [int(sizes[cache.episode_source == i].sum()) for i in range(cache.num_sources)]


def _grads_in_parameter_layout(policy: torch.nn.Module) -> None:
    """DDP copies each gradient into a bucket view with its parameter's strides, and warns ("Grad strides do not
    match bucket view strides") when they differ. A 1x1 convolution's weight gradient comes back from the
    convolution's backward with channels-last strides in its size-1 dimensions ([256, 128, 1, 1]: strides
    (128, 1, 128, 128) against the weight's (128, 1, 1, 1)): the same elements in the same order, only the
    strides of the size-1 dimensions differ. A hook gives such a gradient its parameter's strides, a free view."""
    for p in policy.parameters():
        if p.requires_grad and 1 in p.shape:
            p.register_hook(lambda g, p=p: _with_strides_of(g, p))


def _with_strides_of(grad: torch.Tensor, param: torch.Tensor) -> torch.Tensor:
    if grad.stride() == param.stride():
        return grad
    same_where_it_counts = all(n == 1 or a == b for n, a, b in zip(grad.shape, grad.stride(), param.stride(),
                                                                  strict=True))
    if same_where_it_counts:  # strides of size-1 dimensions address nothing: a view
        return grad.as_strided(grad.shape, param.stride(), grad.storage_offset())
    return torch.empty_strided(param.shape, param.stride(), dtype=grad.dtype, device=grad.device).copy_(grad)


def _bf16_is_fast(device: torch.device) -> bool:
    """bfloat16 autocast pays on GPUs and on CPUs with bfloat16 units; elsewhere it is emulated and slow."""
    if device.type != "cpu":
        return True
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _run_start(started: float | None) -> float:
    """perf_counter() at the start of the run: now, or at `started` (time.time(), e.g. when a launcher started
    the processes)."""
    now = time.perf_counter()
    return now - max(0.0, time.time() - started) if started is not None else now


def _should_stop(should_stop: Callable[[], bool] | None, world: int, device: torch.device) -> bool:
    stop = _stop_requested.is_set() or (should_stop is not None and bool(should_stop()))
    if world > 1:  # every rank stops at the same step, or DDP would wait forever on the one that left
        flag = torch.tensor([float(stop)], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        stop = bool(flag.item())
    return stop


class _Budget:
    """A wall-clock budget: spent or not (all ranks agree), and the step the schedule should end at — the
    steps the remaining time allows at the rate measured so far (never beyond opts.steps)."""

    WARMUP = 20  # steps before the rate is trusted (the first ones are slow: allocation, caches)

    def __init__(self, seconds: float | None, t_entry: float, start_step: int, max_steps: int):
        self.seconds, self.t_entry, self.horizon = seconds, t_entry, max_steps
        self._start, self._t_start, self._max = start_step, None, max_steps

    def spent(self, step: int, world: int, device: torch.device) -> bool:
        if self.seconds is None:
            return False
        now = time.perf_counter()
        if step - self._start == self.WARMUP // 2:
            self._t_start, self._s0 = now, step
        elif self._t_start is not None and step - self._s0 >= self.WARMUP:
            per_step = (now - self._t_start) / (step - self._s0)
            left = max(0.0, self.seconds - (now - self.t_entry))
            self.horizon = min(self._max, step + int(left / per_step))
        over = now - self.t_entry >= self.seconds
        if world > 1:  # all ranks stop at the same step and anneal the LR to the same (the nearest) horizon
            flags = torch.tensor([float(over), -float(self.horizon)], device=device)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
            over, self.horizon = bool(flags[0].item()), int(-flags[1].item())
        return over


def _cache_progress(done: int, total: int) -> None:
    if done == 1 or done == total or done % max(1, total // 10) == 0:
        print(f"decoding videos into the frame cache: {done}/{total} episodes", file=sys.stderr, flush=True)
