"""How fast is ``simulate`` on an architecture?  A pre-LN stack against GEMM and torch.

Run:  python benchmarks/network_simulate_speed.py            (width 1024, depth 50, batch 512)
      python benchmarks/network_simulate_speed.py --quick    (width 256, depth 10: a smoke run)

The network is the pre-LN residual stack h_{l+1} = h_l + W relu(LN(h_l)) (σ_w = 1, no
bias, LN without gain or ε) at float64.  Prints, measured in the same run:

1. NumPy's GEMM at the shape of one layer (batch × width @ width × width), on the same
   total work as the network's two products per block (forward a Wᵀ, backward δ W;
   4·batch·width²·depth flop — layer norm, relu, the weight draws and the statistics
   are overhead);
2. ``symgrad.simulate(net, …)`` called plainly and inside ``reuse_memory()`` (a loop of
   simulations reusing the previous call's arrays), as GFLOP/s of that useful work and
   as a share of GEMM.  GEMM and simulate are timed in alternating pairs and the median
   of the per-pair ratios is reported, so drifting machine load hits both alike;
3. torch autograd on the same network (when torch is importable): weights drawn with
   ``torch.randn`` inside the timed region (symgrad draws its own inside its time too),
   ``retain_grad`` on every h_l and z_l so that it returns the same per-layer norms
   (‖∂L/∂h_l‖², and the per-example weight-gradient norms ‖δ_b‖²‖a_b‖²); the median
   time ratio of paired runs, and the largest relative difference of the per-layer
   norms on one network whose weights torch re-uses from symgrad's seeds.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np

from symgrad import networks as nw
from symgrad.numeric import reuse_memory, simulate
from symgrad.numeric._rng import child, normal_matrix, root_seed
from symgrad.numeric.weights import draw_weights


def pre_ln(depth: int) -> nw.Block:
    return nw.repeat(nw.residual(nw.serial(nw.layernorm(), nw.activation("relu"),
                                           nw.dense(1))), depth)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def gemm_vs_simulate(width: int, depth: int, batch: int, repeats: int, reuse: bool
                     ) -> tuple[float, float, float]:
    """(best GEMM GFLOP/s, best simulate GFLOP/s, median per-pair share)."""
    rs = np.random.default_rng(0)
    a, w = rs.standard_normal((batch, width)), rs.standard_normal((width, width))
    out = np.empty((batch, width))
    flop = 4 * batch * width * width * depth
    net = pre_ln(depth)

    def gemms() -> None:
        for _ in range(2 * depth):
            np.matmul(a, w.T, out=out)

    def run() -> None:
        simulate(net, width=width, batch=batch, rng=0)

    with reuse_memory() if reuse else contextlib.nullcontext():
        gemms()
        run()
        pairs = [(flop / timed(gemms) / 1e9, flop / timed(run) / 1e9) for _ in range(repeats)]
    shares = sorted(s / g for g, s in pairs)
    return max(g for g, _ in pairs), max(s for _, s in pairs), shares[len(shares) // 2]


def torch_norms(torch, weights, x, g):
    """Per-layer ‖∂L/∂h_l‖² (batch means) and per-example weight-gradient norms."""
    h = x.requires_grad_(True)
    hs, pairs = [h], []
    for w in weights:
        ln = torch.nn.functional.layer_norm(h, (h.shape[1],), eps=0.0)
        a = torch.relu(ln)
        z = a @ w.T
        z.retain_grad()
        pairs.append((a, z))
        h = h + z
        h.retain_grad()
        hs.append(h)
    (h * g).sum().backward()
    grad_h = [float((t.grad**2).sum(1).mean()) / t.shape[1] for t in hs]
    grad_w = [float(((z.grad**2).sum(1) * (a.detach() ** 2).sum(1)).mean()) for a, z in pairs]
    return grad_h, grad_w


def torch_comparison(width: int, depth: int, batch: int, repeats: int) -> str:
    try:
        import torch
    except ImportError:
        return "torch: not installed (pip install torch to compare with autograd)"
    torch.set_default_dtype(torch.float64)
    net = pre_ln(depth)

    def theirs() -> None:
        gen = torch.Generator().manual_seed(0)
        weights = [torch.randn(width, width, generator=gen) / width**0.5 for _ in range(depth)]
        x = torch.randn(batch, width, generator=gen)
        g = torch.randn(batch, width, generator=gen)
        torch_norms(torch, weights, x, g)

    def ours() -> None:
        simulate(net, width=width, batch=batch, rng=0)

    theirs()
    ours()
    pairs = [(timed(theirs), timed(ours)) for _ in range(repeats)]
    ratios = sorted(t / o for t, o in pairs)
    flop = 4 * batch * width * width * depth
    # Number for number: torch on symgrad's own weights, inputs and upstream gradient.
    small = pre_ln(8)
    root = root_seed(3)
    n, b = 64, 16
    sim = simulate(small, width=n, batch=b, rng=root)
    weights = [torch.tensor(draw_weights("gaussian", n, n, sigma_w=1.0,
                                         seed=child(root, 2, i))) for i in range(8)]
    x = torch.tensor(normal_matrix(child(root, 0), b, n))
    g = torch.tensor(normal_matrix(child(root, 1), b, n))
    grad_h, grad_w = torch_norms(torch, weights, x, g)
    worst = max(float(np.max(np.abs(np.array(grad_h) / sim.grad_h_sq - 1))),
                float(np.max(np.abs(np.array(grad_w) / sim.grad_w_sq - 1))))
    return (f"torch {torch.__version__} autograd (CPU, float64), best"
            f" {flop / min(t for t, _ in pairs) / 1e9:.1f} GFLOP/s; symgrad is"
            f" {ratios[len(ratios) // 2]:.2f}x as fast (median of {repeats} paired runs)\n"
            f"one network re-run in torch on symgrad's weights: largest relative difference"
            f" of the per-layer norms {worst:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()
    width, depth, batch = (256, 10, 128) if args.quick else (1024, 50, 512)
    repeats = 3 if args.quick else 7
    print(f"pre-LN relu stack: width {width}, depth {depth}, batch {batch} (float64);"
          f" {repeats} paired repeats, median share")
    for reuse in (False, True):
        gemm, sim, share = gemm_vs_simulate(width, depth, batch, repeats, reuse)
        label = "inside reuse_memory()" if reuse else "one call at a time    "
        print(f"simulate, {label}: best {sim:6.1f} GFLOP/s, GEMM best {gemm:6.1f} GFLOP/s;"
              f" share of GEMM {share:5.1%} (target 60 %)")
    print(torch_comparison(width, depth, batch, repeats))


if __name__ == "__main__":
    main()
