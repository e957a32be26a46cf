"""The engine of :func:`~symgrad.numeric.networks.simulate_network`: one forward and one
hand-written backward pass through any block structure, as row blocks on symgrad's threads.

The batch is cut into a few contiguous row blocks, *lanes*, one per core
(:func:`~symgrad.numeric._parallel.row_blocks`).  Every row of a network without batch
normalisation is independent of the others, so a lane runs a whole top-level block on its
rows in one task — layer norm, φ, the GEMM, the residual sum — while the next weight
matrices are drawn on the same threads (two ahead, :func:`~symgrad.numeric._rng.prefetched`).
Batch normalisation mixes rows, so a network with one runs as a single lane.

Memory: each lane takes, once per call, one arena for what the backward pass needs (φ'
and x̂ per layer), a few workspaces its layers hand to each other, and its scratch, all
through :mod:`symgrad.numeric.memory` (so ``with reuse_memory():`` hands them to the next
call).  Weights kept between the passes share one arena too; above 512 MiB they are
re-drawn from their seeds in the backward pass instead.

Statistics are summed per row into full-batch arrays and then over the rows in one fixed
order, so they do not depend on how the batch was cut.

Rules, forward (x̂ kept, φ' kept) and backward (g = ∂L/∂output):

=============  ====================================  ===============================
block          forward                               backward
=============  ====================================  ===============================
dense          z = a Wᵀ + b (row norms of a kept)    ∂L/∂a = g W
activation     φ(z), φ'(z) kept                      g ⊙ φ'(z)
layernorm      x̂ = (x − μ)s per row                  s(g − ḡ − x̂·mean(g ⊙ x̂))
batchnorm      the same per column                   the same per column
residual       h + s·branch(h)                       g + branch'(s·g)
=============  ====================================  ===============================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from symgrad.networks.blocks import (
    Activate,
    BatchNorm,
    Block,
    Dense,
    L,
    LayerNorm,
    Repeat,
    Residual,
    Serial,
)
from symgrad.numeric import memory, norms
from symgrad.types import FloatArray

__all__ = ["Lane", "count", "kept_arrays", "kept_vectors", "workspaces"]


def count(block: Block, kind: type) -> int:
    """How many ``kind`` layers ``block`` runs (through repeats)."""
    if isinstance(block, Repeat):
        return block.depth * count(block.block, kind)
    return int(isinstance(block, kind)) + sum(count(p, kind) for p in block.parts())


def kept_arrays(block: Block) -> int:
    """Arrays of a lane's shape the backward pass needs: φ' and x̂ per layer."""
    return count(block, Activate) + count(block, LayerNorm) + count(block, BatchNorm)


def kept_vectors(block: Block) -> int:
    """Per-row (or per-column) scales the norms keep."""
    return count(block, LayerNorm) + count(block, BatchNorm)


def _live(block: Block, backward: bool) -> int:
    """Workspaces alive at once inside ``block`` (its input not counted)."""
    if isinstance(block, Dense | Activate):
        return 1
    if isinstance(block, LayerNorm | BatchNorm):
        return int(backward)
    if isinstance(block, Residual):
        return _live(block.branch, backward) + 1 + int(backward)
    inner = block.parts()
    return max(_live(p, backward) for p in inner) + 1


def workspaces(block: Block) -> int:
    """Workspaces a lane needs for ``block`` (forward or backward, plus its current
    input and one spare)."""
    return max(_live(block, False), _live(block, True)) + 2


class Lane:
    """Rows ``lo:hi`` of the batch: their tape, kept arrays and workspaces."""

    def __init__(self, shared: Any, lo: int, hi: int, width: int, kept: int, vectors: int,
                 spaces: int) -> None:
        self.shared, self.lo, self.hi = shared, lo, hi
        rows = hi - lo
        self.rows, self.width = rows, width
        size, per_vector = rows * width, max(rows, width)
        # One allocation for everything large: kept arrays, workspaces, float scratch,
        # then the bool scratch (8 per float) and the kept vectors.
        self.arena = memory.take(size * (kept + spaces + 1) + -(-size // 8)
                                 + per_vector * vectors + 1)
        at = 0
        self.kept = self.arena[: size * kept].reshape(kept, rows, width) if kept else None
        at += size * kept
        self.free = [self.arena[at + i * size: at + (i + 1) * size].reshape(rows, width)
                     for i in range(spaces)]
        at += size * spaces
        self.work = self.arena[at: at + size].reshape(rows, width)
        at += size
        self.mask = self.arena[at: at + -(-size // 8)].view(bool)[:size].reshape(rows, width)
        at += -(-size // 8)
        self.vectors = self.arena[at: at + per_vector * vectors]
        self.n_kept = self.n_vec = 0
        self.dense = 0
        self.tape: list[Any] = []

    def release(self) -> None:
        """Hand the arena back (reused inside ``reuse_memory``)."""
        self.kept = self.work = self.mask = self.vectors = None  # type: ignore[assignment]
        self.free.clear()
        self.tape.clear()
        memory.give(self.arena)

    # ---- storage ----

    def get(self) -> FloatArray:
        if self.free:
            return self.free.pop()
        return np.empty((self.rows, self.width))  # pragma: no cover - workspaces() bounds it

    def put(self, arr: FloatArray) -> None:
        self.free.append(arr)

    def keep(self) -> FloatArray:
        out: FloatArray = self.kept[self.n_kept]  # type: ignore[index]
        self.n_kept += 1
        return out

    def keep_vector(self, n: int) -> FloatArray:
        out = self.vectors[self.n_vec: self.n_vec + n]
        self.n_vec += n
        return out

    def param(self, expr: Any) -> float:
        got: float = self.shared.params.get(id(expr))
        if got is None:
            got = float(expr.subs(L, self.shared.depth)) if hasattr(expr, "subs") else float(expr)
            self.shared.params[id(expr)] = got
        return got

    # ---- forward: (output, owned?) ----

    def fwd(self, b: Block, h: FloatArray) -> tuple[FloatArray, bool]:
        sh, lo, hi = self.shared, self.lo, self.hi
        if isinstance(b, Dense):
            i = self.dense
            self.dense += 1
            sh.a_rows[i, lo:hi] = np.einsum("ij,ij->i", h, h)
            z = self.get()
            np.matmul(h, sh.weights[i].T, out=z)
            bias = sh.biases.get(i)
            if bias is not None:
                z += bias
            sh.z_rows[i, lo:hi] = np.einsum("ij,ij->i", z, z)
            self.tape.append(i)
            return z, True
        if isinstance(b, Activate):
            out, slope = self.get(), self.keep()
            b.act.numpy_into(h, out, slope, work=self.work, mask=self.mask)
            self.tape.append(slope)
            return out, True
        if isinstance(b, LayerNorm | BatchNorm):
            xhat = self.keep()
            if isinstance(b, LayerNorm):
                s = norms.layernorm_forward(h, self.param(b.eps), xhat)
                kept_s = self.keep_vector(self.rows)
            else:
                s = norms.batchnorm_forward(h, self.param(b.eps), xhat)
                kept_s = self.keep_vector(self.width)
            kept_s[:] = s
            self.tape.append((xhat, kept_s))
            return xhat, False
        if isinstance(b, Residual):
            scale = self.param(b.scale)
            r, owned = self.fwd(b.branch, h)
            if not owned:
                out = self.get()
                np.multiply(r, scale, out=out)
                r = out
            elif scale != 1.0:
                r *= scale
            r += h
            self.tape.append(scale)
            return r, True
        cur, owned = h, False
        for layer in _layers(b):
            nxt, nxt_owned = self.fwd(layer, cur)
            if owned:
                self.put(cur)
            cur, owned = nxt, nxt_owned
        return cur, owned

    # ---- backward: (∂L/∂input, owned?) ----

    def bwd(self, b: Block, g: FloatArray) -> tuple[FloatArray, bool]:
        sh, lo, hi = self.shared, self.lo, self.hi
        if isinstance(b, Dense):
            i = self.tape.pop()
            sh.d_rows[i, lo:hi] = np.einsum("ij,ij->i", g, g)
            back = self.get()
            np.matmul(g, sh.weights[i], out=back)
            return back, True
        if isinstance(b, Activate):
            slope = self.tape.pop()
            out = self.get()
            np.multiply(g, slope, out=out)
            return out, True
        if isinstance(b, LayerNorm | BatchNorm):
            xhat, s = self.tape.pop()
            out = self.get()
            backward = (norms.layernorm_backward if isinstance(b, LayerNorm)
                        else norms.batchnorm_backward)
            backward(g, xhat, s, out, work=self.work)
            return out, True
        if isinstance(b, Residual):
            scale = self.tape.pop()
            if scale == 1.0:
                r, owned = self.bwd(b.branch, g)
            else:
                tmp = self.get()
                np.multiply(g, scale, out=tmp)
                r, owned = self.bwd(b.branch, tmp)
                self.put(tmp)
            if owned:
                r += g
                return r, True
            out = self.get()  # pragma: no cover - every backward rule returns a workspace
            np.add(r, g, out=out)
            return out, True
        cur, owned = g, False
        for layer in reversed(tuple(_layers(b))):
            nxt, nxt_owned = self.bwd(layer, cur)
            if owned:
                self.put(cur)
            cur, owned = nxt, nxt_owned
        return cur, owned


def _layers(b: Block) -> Iterator[Block]:
    if isinstance(b, Repeat):
        for _ in range(b.depth):
            yield b.block
    elif isinstance(b, Serial):
        yield from b.layers
    else:  # pragma: no cover - every other block has its own rule
        raise TypeError(f"no rule for {type(b).__name__}")


Task = Callable[[int, int, int], None]
