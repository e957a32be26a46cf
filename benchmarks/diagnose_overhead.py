"""The time diagnose adds to one training step, beside the training step itself.

For the three models of the torch tests (a deep tanh MLP, a pre-LN residual MLP, a
BatchNorm MLP; float64 on the CPU), one SGD step (forward, loss, backward, update) and
``diagnose`` on the same batch are timed in alternating pairs; the table gives the
medians and their ratio, for ``diagnose(..., predict=False)`` (the measurement, the fit
and the verdict: one forward and backward pass with tensor hooks, read through torch.fx)
and for the full ``diagnose`` (plus symgrad's prediction and depth law for the
architecture).  The first call of each is reported apart (tracing, the activation's
derivation, the law).

Run: python benchmarks/diagnose_overhead.py [--quick] [--threads N]  (default: 1 thread)
"""

import os
import statistics
import sys
import time

import torch
from torch import nn

from symgrad.frameworks.torch import diagnose

F64 = torch.float64


class PreLN(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.ln, self.act = nn.LayerNorm(width, dtype=F64), nn.ReLU()
        self.lin = nn.Linear(width, width, dtype=F64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.lin(self.act(self.ln(x)))


def models(width: int, depth: int) -> dict[str, nn.Module]:
    tanh = []
    for _ in range(depth):
        lin = nn.Linear(width, width, dtype=F64)
        nn.init.xavier_normal_(lin.weight)
        tanh += [lin, nn.Tanh()]
    return {
        "tanh MLP": nn.Sequential(*tanh),
        "pre-LN residual": nn.Sequential(*[PreLN(width) for _ in range(depth)]),
        "BatchNorm MLP": nn.Sequential(*[m for _ in range(depth) for m in (
            nn.Linear(width, width, dtype=F64), nn.BatchNorm1d(width, dtype=F64), nn.ReLU())]),
    }


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    quick = "--quick" in sys.argv
    # One thread: on a shared machine two spinning torch threads stall every small op.
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
    torch.set_num_threads(threads)
    width, depth, batch, pairs = (64, 6, 32, 3) if quick else (256, 20, 128, 7)
    torch.manual_seed(0)
    x = torch.randn(batch, width, dtype=F64)
    y = torch.randn(batch, width, dtype=F64)
    load = os.getloadavg()[0]
    print(f"width {width}, depth {depth}, batch {batch}, float64, "
          f"{torch.get_num_threads()} torch thread(s), load average {load:.1f}; medians of"
          f" {pairs} alternating pairs\n")
    print("| model | training step | diagnose(predict=False) | ratio | diagnose | ratio |"
          " first diagnose |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, model in models(width, depth).items():
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)

        def step(model=model, opt=opt) -> None:
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()

        first = timed(lambda model=model: diagnose(model, x))
        steps, light, full = [], [], []
        for _ in range(pairs):
            steps.append(timed(step))
            light.append(timed(lambda model=model: diagnose(model, x, predict=False)))
            full.append(timed(lambda model=model: diagnose(model, x)))
        s, lt, f = (statistics.median(v) for v in (steps, light, full))
        print(f"| {name} | {s * 1e3:.1f} ms | {lt * 1e3:.1f} ms | {lt / s:.2f}× |"
              f" {f * 1e3:.1f} ms | {f / s:.1f}× | {first:.2f} s |")


if __name__ == "__main__":
    main()
