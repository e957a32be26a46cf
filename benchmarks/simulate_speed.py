"""How fast is ``simulate``, and how much memory does it take?

Run:  python benchmarks/simulate_speed.py            (full sizes, a few minutes)
      python benchmarks/simulate_speed.py --quick    (smaller sizes, a smoke run)

Prints, side by side and measured in the same run:

1. NumPy's own float64 GEMM at the shape of one layer (batch × width @ width × width),
   GFLOP/s, best of several repeats;
2. ``simulate`` at width 1024, depth 50, batch 512 — GFLOP/s counting the useful GEMM
   work only (forward z = a Wᵀ and backward δ W per layer: 4·batch·width²·depth flop;
   weight drawing, φ, φ' and the statistics are overhead), and its share of GEMM;
   with the weights kept between passes (the default below 512 MiB) — called plainly,
   and inside ``reuse_memory()`` (a loop of simulations writing into the previous
   call's arrays instead of fresh memory) — and with the weights re-drawn;
   GEMM and simulate are timed in alternating pairs and the median ratio is reported,
   so drifting machine load does not bias the comparison;
3. the same per-layer norms with torch autograd on CPU (when torch is importable; its
   weights drawn with ``torch.randn`` inside the timed region, as symgrad's are), the
   ratio, and a number-for-number comparison on one recorded network;
4. where the time goes: each part of one layer timed on one thread, and the share of
   GEMM that simulate could reach if no core were ever idle (the ceiling);
5. peak memory of ``simulate`` at width 4096, depth 100, batch 256, in a fresh process
   (peak RSS from /proc/self/status VmHWM, and ``tracemalloc``'s peak of NumPy
   allocations; run first, before this process grows).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time

import numpy as np

import symgrad.numeric.mlp as mlp
from symgrad.numeric import reuse_memory, simulate


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def paired_rates(width: int, depth: int, batch: int, repeats: int, keep: bool,
                 reuse: bool = False) -> tuple[float, float, float]:
    """(best GEMM GFLOP/s, best simulate GFLOP/s, median of the per-pair ratios).

    Each repeat times NumPy's GEMM on the same total work as ``simulate``
    (2·depth products of one layer's shape) immediately before ``simulate`` itself, so
    a change in machine load between the two hits both sides of a pair alike.
    """
    rs = np.random.default_rng(0)
    a = rs.standard_normal((batch, width))
    w = rs.standard_normal((width, width))
    out = np.empty((batch, width))
    flop = 4 * batch * width * width * depth
    saved = mlp._KEEP_WEIGHTS_BYTES
    mlp._KEEP_WEIGHTS_BYTES = saved if keep else -1

    def gemms() -> None:
        for _ in range(2 * depth):
            np.matmul(a, w.T, out=out)

    def run() -> None:
        simulate("tanh", width=width, depth=depth, sigma_w=1.0, batch=batch, rng=0)

    try:
        # reuse_memory: every call after the first writes into the previous call's arrays.
        with reuse_memory() if reuse else contextlib.nullcontext():
            gemms()
            run()
            pairs = []
            for _ in range(repeats):
                g = flop / best_of(gemms, 1) / 1e9
                s = flop / best_of(run, 1) / 1e9
                pairs.append((g, s))
    finally:
        mlp._KEEP_WEIGHTS_BYTES = saved
    ratios = sorted(s / g for g, s in pairs)
    return max(g for g, _ in pairs), max(s for _, s in pairs), ratios[len(ratios) // 2]


def breakdown(width: int, batch: int, repeats: int) -> str:
    """CPU time of one layer's parts (forward and backward), each on one thread, in ms.

    simulate runs these on every core; with the cores never idle it would reach
    (two GEMMs) / (everything) of GEMM's rate: the ceiling printed here.
    """
    from threadpoolctl import threadpool_limits

    from symgrad import activation

    phi = activation("tanh")
    rs = np.random.default_rng(0)
    z = rs.standard_normal((batch, width))
    w = rs.standard_normal((width, width))
    out, slope, work = np.empty_like(z), np.empty_like(z), np.empty_like(z)
    mask = np.empty(z.shape, dtype=bool)
    gen = np.random.Generator(np.random.SFC64(1))
    drawn = np.empty((width, width))

    def draw() -> None:  # what each block of a weight matrix costs: draw, then scale
        gen.standard_normal(out=drawn)
        np.multiply(drawn, 0.03, out=drawn)

    def forward_stats() -> None:  # row sums of z, z², φ', φ'², and the saturated count
        z.sum(axis=1), np.einsum("ij,ij->i", z, z), slope.sum(axis=1)
        np.einsum("ij,ij->i", slope, slope)
        np.count_nonzero(np.less(np.abs(slope, out=work), 1e-3, out=mask))

    def backward_elementwise() -> None:  # ‖g‖² rows, δ = g ⊙ φ', ‖δ‖² rows
        np.einsum("ij,ij->i", z, z)
        np.multiply(z, slope, out=work)
        np.einsum("ij,ij->i", work, work)

    parts = {
        "GEMM": lambda: np.matmul(z, w.T, out=out),
        "draw W": draw,
        "φ and φ'": lambda: phi.numpy_into(z, out, slope, work=work, mask=mask),
        "statistics": forward_stats,
        "backward elementwise": backward_elementwise,
    }
    with threadpool_limits(1):
        times = {name: 1e3 * best_of(fn, repeats) for name, fn in parts.items()}
    gemm = 2 * times["GEMM"]
    total = gemm + sum(ms for name, ms in times.items() if name != "GEMM")
    shown = ", ".join(f"{name} {ms:.1f}" for name, ms in times.items())
    return (f"one layer on one thread, ms: {shown} (GEMM twice: forward and backward);"
            f" ceiling with no idle core = two GEMMs / everything = {gemm / total:.1%}"
            " (page faults of the kept arrays not counted)")


def torch_comparison(width: int, depth: int, batch: int, repeats: int) -> str:
    try:
        import torch
    except ImportError:
        return "torch: not installed (pip install torch to compare with autograd)"
    torch.set_default_dtype(torch.float64)

    def norms(weights, x, g):
        # Gradients flow to the inputs only (like simulate, no weight gradients).
        a = x.requires_grad_(True)
        zs, acts = [], []
        for w in weights:
            z = a @ w.T
            z.retain_grad()
            a = torch.tanh(z)
            a.retain_grad()
            zs.append(z)
            acts.append(a)
        (a * g).sum().backward()
        return ([float((z.grad**2).sum(1).mean()) for z in zs],
                [float((h.grad**2).sum(1).mean()) for h in acts])

    def run() -> None:
        gen = torch.Generator().manual_seed(0)
        weights = [torch.randn(width, width, generator=gen) / width**0.5 for _ in range(depth)]
        x = torch.randn(batch, width, generator=gen)
        g = torch.randn(batch, width, generator=gen)
        norms(weights, x, g)

    def ours() -> None:
        simulate("tanh", width=width, depth=depth, sigma_w=1.0, batch=batch, rng=0)

    run()
    ours()
    # Alternate the two so that drifting load hits both alike; median time ratio.
    pairs = [(best_of(run, 1), best_of(ours, 1)) for _ in range(repeats)]
    flop = 4 * batch * width * width * depth
    torch_rate = flop / min(t for t, _ in pairs) / 1e9
    speedups = sorted(t / o for t, o in pairs)
    speedup = speedups[len(speedups) // 2]
    # Number for number on one recorded network.
    sim = simulate("tanh", width=64, depth=8, sigma_w=1.0, batch=16, rng=1, record=True)
    dz, da = norms([torch.tensor(w) for w in sim.weights], torch.tensor(sim.inputs),
                   torch.tensor(sim.upstream))
    worst = max(float(np.max(np.abs(np.array(dz) / sim.grad_z_sq - 1))),
                float(np.max(np.abs(np.array(da) / sim.grad_a_sq - 1))))
    return (f"torch {torch.__version__} autograd (CPU, float64), best: {torch_rate:.1f} GFLOP/s;"
            f" symgrad is {speedup:.2f}x as fast (median of {repeats} paired runs)\n"
            f"recorded network re-run in torch: max relative difference of the per-layer"
            f" norms {worst:.1e}")


_MEMORY_CHILD = """
import json, resource, sys, tracemalloc
from symgrad.numeric import reuse_memory, simulate


def high_water_kib():
    # VmHWM starts afresh at exec; ru_maxrss would carry over the parent's peak.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


width, depth, batch = map(int, sys.argv[1:4])
before = high_water_kib()
tracemalloc.start()
sim = simulate("tanh", width=width, depth=depth, sigma_w=1.0, batch=batch, rng=0)
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"peak_rss_kib": high_water_kib(), "rss_before_kib": before,
                  "traced_peak": traced}))
"""


def memory(width: int, depth: int, batch: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(width), str(depth),
                          str(batch)], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()
    width, depth, batch = (256, 10, 128) if args.quick else (1024, 50, 512)
    mem_size = (1024, 20, 64) if args.quick else (4096, 100, 256)
    repeats = 3 if args.quick else 5

    mem = memory(*mem_size)
    gemm, kept, kept_ratio = paired_rates(width, depth, batch, repeats, keep=True)
    gemm3, reused, reused_ratio = paired_rates(width, depth, batch, repeats, keep=True,
                                               reuse=True)
    gemm2, redrawn, redrawn_ratio = paired_rates(width, depth, batch, repeats, keep=False)
    print(f"shape: width {width}, depth {depth}, batch {batch} (float64);"
          f" {repeats} paired repeats, median ratio")
    print(f"NumPy GEMM ({batch}x{width} @ {width}x{width}), best:"
          f"  {max(gemm, gemm2, gemm3):7.1f} GFLOP/s")
    print(f"simulate, weights kept between passes, best: {kept:7.1f} GFLOP/s;"
          f" {kept_ratio:5.1%} of GEMM")
    print(f"  the same inside reuse_memory(), best:      {reused:7.1f} GFLOP/s;"
          f" {reused_ratio:5.1%} of GEMM")
    print(f"simulate, weights re-drawn in backward, best:{redrawn:7.1f} GFLOP/s;"
          f" {redrawn_ratio:5.1%} of GEMM")
    print(breakdown(width, batch, 2 * repeats))
    print(torch_comparison(width, depth, batch, repeats))
    gib = 2**30
    print(f"memory at width {mem_size[0]}, depth {mem_size[1]}, batch {mem_size[2]}:"
          f" peak RSS {mem['peak_rss_kib'] * 1024 / gib:.2f} GiB"
          f" (interpreter and imports {mem['rss_before_kib'] * 1024 / gib:.2f} GiB),"
          f" NumPy peak (tracemalloc) {mem['traced_peak'] / gib:.2f} GiB; limit 2 GiB")


if __name__ == "__main__":
    main()
