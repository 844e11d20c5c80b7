"""The trainer's log: out/train_log.csv (+ TensorBoard when installed) records every `log_every` steps, averaged
over the interval across processes, and a progress bar or plain progress lines (rank 0 writes)."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist


class TrainLogger:
    """CSV (+ TensorBoard) records every `log_every` steps, averaged over the interval; a progress bar."""

    def __init__(self, out: Path, opts, world: int, device: torch.device, enabled: bool, resume: bool,
                 start: int):
        self.enabled, self.every, self.total_steps, self.world = enabled, max(1, opts.log_every), opts.steps, world
        self.device = device
        self.total_samples, self._acc, self._n, self._infos = 0, 0.0, 0, {}
        self._t_last, self._t0, self._start = time.perf_counter(), time.perf_counter(), start
        self._file = self._csv = self._tb = self._bar = None
        if not enabled:
            return
        out.mkdir(parents=True, exist_ok=True)
        path = out / "train_log.csv"
        self._file = open(path, "a" if resume and path.exists() else "w", newline="")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        self._header: list[str] | None = None if self._file.tell() == 0 else []
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(out / "tensorboard"))
        except Exception:  # tensorboard not installed
            self._tb = None
        if opts.progress and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]:.4f}  {task.fields[its]:.2f} it/s"),
                                 TimeRemainingColumn(), transient=False)
            self._task = self._bar.add_task("train", total=opts.steps, completed=start, loss=float("nan"), its=0.0)
            self._bar.start()
        self._plain = opts.progress and self._bar is None

    def step(self, step: int, loss: torch.Tensor, info: dict, grad_norm: float, lr: float, epoch: int,
             samples_per_step: int, callback) -> float:
        self.total_samples += samples_per_step
        self._acc += float(loss)
        self._n += 1
        for k, v in info.items():
            self._infos[k] = self._infos.get(k, 0.0) + v
        if step % self.every and step != self.total_steps:
            return float(loss)
        mean = torch.tensor([self._acc, *self._infos.values()], dtype=torch.float64) / self._n
        if self.world > 1:  # nccl reduces device tensors only; MPS has no float64
            on_dev = mean.to(self.device, torch.float32)
            dist.all_reduce(on_dev)
            mean = on_dev.cpu().double() / self.world
        now = time.perf_counter()
        dt = now - self._t_last
        rec = {"step": step, "epoch": epoch, "loss": float(mean[0]),
               **{k: float(v) for k, v in zip(self._infos, mean[1:], strict=True)},
               "grad_norm": grad_norm, "lr": lr, "samples_per_s": self._n * samples_per_step / dt,
               "step_ms": 1000 * dt / self._n, "elapsed_s": now - self._t0}
        steps_done = self._n
        self._acc, self._n, self._infos, self._t_last = 0.0, 0, {}, now
        if not self.enabled:
            return rec["loss"]
        if self._header is None:
            self._header = list(rec)
            self._csv.writerow(self._header)
        self._csv.writerow([f"{rec[k]:.6g}" if isinstance(rec[k], float) else rec[k] for k in rec])
        self._file.flush()
        if self._tb is not None:
            for k, v in rec.items():
                if k not in ("step", "elapsed_s"):
                    self._tb.add_scalar(f"train/{k}", v, step)
        if self._bar is not None:
            self._bar.update(self._task, completed=step, total=self.total_steps, loss=rec["loss"], its=steps_done / dt)
        elif self._plain:
            print(f"step {step}/{self.total_steps}  loss {rec['loss']:.4f}  lr {lr:.2e}  "
                  f"{rec['samples_per_s']:.1f} samples/s  {steps_done / dt:.2f} it/s", file=sys.stderr, flush=True)
        if callback is not None:
            callback(rec)
        return rec["loss"]

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        if self._tb is not None:
            self._tb.close()
        if self._file is not None:
            self._file.close()

