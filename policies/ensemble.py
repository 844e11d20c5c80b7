"""Action queue and ACT's temporal ensembling (Algorithm 2 of the ACT paper).

Temporal ensembling queries the policy every step. Each predicted chunk overlaps the chunks predicted on the
previous steps; the action for "now" is the weighted mean of every prediction made for now, with weight
w_i = exp(-coeff * i) where i = 0 is the oldest prediction (coeff 0.01 as in ACT; >0 favours older, <0 newer).
The mean is kept online, so each step costs O(chunk) whatever the history.
"""

from __future__ import annotations

from collections import deque

import torch
from torch import Tensor


class TemporalEnsembler:
    def __init__(self, coeff: float, chunk_size: int):
        self.chunk_size = chunk_size
        self.weights = torch.exp(-coeff * torch.arange(chunk_size, dtype=torch.float64))
        self.cumsum = torch.cumsum(self.weights, 0)
        self.reset()

    def reset(self) -> None:
        self.avg: Tensor | None = None  # [B, L, A] running weighted means for the next L steps
        self.count: Tensor | None = None  # [L] how many predictions each of them holds

    def update(self, chunk: Tensor) -> Tensor:
        """chunk [B, chunk_size, A] predicted now -> the ensembled action for now [B, A]."""
        chunk = chunk.to(torch.float64)
        if self.avg is None:
            self.avg = chunk.clone()
            self.count = torch.ones(self.chunk_size, dtype=torch.long)
        else:
            n = self.count  # predictions already averaged for steps now .. now+L-1
            w_old = self.cumsum[n - 1].view(1, -1, 1)
            w_new = self.weights[n].view(1, -1, 1)
            self.avg = (self.avg * w_old + chunk[:, : n.numel()] * w_new) / (w_old + w_new)
            self.count = torch.clamp(n + 1, max=self.chunk_size)
            # The chunk's last step has no earlier prediction: it starts its own average.
            self.avg = torch.cat([self.avg, chunk[:, n.numel():]], dim=1)
            self.count = torch.cat([self.count, torch.ones(chunk.shape[1] - n.numel(), dtype=torch.long)])
        action = self.avg[:, 0]
        self.avg, self.count = self.avg[:, 1:], self.count[1:]
        return action.to(torch.float32)


class ActionQueue:
    """Run a chunk open loop: predict n steps, hand them out one at a time, predict again when empty."""

    def __init__(self, n_action_steps: int):
        self.n = n_action_steps
        self._q: deque[Tensor] = deque()

    def reset(self) -> None:
        self._q.clear()

    def __len__(self) -> int:
        return len(self._q)

    def extend(self, chunk: Tensor) -> None:
        """chunk [B, T, A]: queue its first n steps."""
        self._q.extend(chunk[:, : self.n].transpose(0, 1))

    def pop(self) -> Tensor:
        return self._q.popleft()
