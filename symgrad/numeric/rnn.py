"""… and after T time steps?  Vanilla RNNs and an LSTM cell, backpropagated through time.

Vanilla RNN (Elman 1990): h_0 = 0, z_t = W h_{t−1} + U x_t + b, h_t = φ(z_t),
t = 1..T, loss L = Σ_batch ⟨g, h_T⟩.  Backward:
∂L/∂h_{t−1} = (∂L/∂h_t ⊙ φ'(z_t)) W, so per item
‖∂L/∂h_t‖ ≤ (σ_max(W)·γ)^{T−t} ‖g‖ with γ = sup|φ'| (Pascanu, Mikolov and Bengio 2013).

LSTM (Hochreiter and Schmidhuber 1997, forget gate of Gers, Schmidhuber and Cummins
2000): gates [i, f, ĝ, o] = [σ, σ, tanh, σ](W h_{t−1} + U x_t + b),
c_t = f_t ⊙ c_{t−1} + i_t ⊙ ĝ_t, h_t = o_t ⊙ tanh(c_t).  The direct path gives
∂c_t/∂c_{t−1} = diag(f_t): the constant error carousel.

Per-step results are batch means of squared norms, indexed t = 0..T (t = 0 is the
initial state).

>>> sim = simulate_rnn("tanh", hidden=32, steps=20, batch=8, sigma_w=0.5, rng=0)
>>> bool(sim.grad_h_sq[0] < sim.grad_h_sq[-1] * 0.5 ** 40)
True
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import child, inner, normal_matrix, root_seed, seed_label
from symgrad.numeric.mlp import as_matrix
from symgrad.numeric.weights import Init, as_init, draw_weights
from symgrad.records import Provenances, Record, Simulated, Step, provenances
from symgrad.types import FloatArray, Seed

__all__ = ["LSTMSimulation", "RNNSimulation", "Readout", "simulate_lstm", "simulate_rnn"]

_INPUTS, _UPSTREAM, _RECURRENT, _INPUT_W, _BIAS = 0, 1, 2, 3, 4
_RNN_ACTIVATIONS = ("tanh", "sigmoid")


class Readout(enum.Enum):
    """Where the LSTM's upstream gradient g enters: L = Σ⟨g, h_T⟩ or Σ⟨g, c_T⟩."""

    HIDDEN = "hidden"
    CELL = "cell"


#: Per-step numbers are means over one network's batch.
_ONE_RUN = provenances(**dict.fromkeys(
    ("grad_h_sq", "grad_c_sq", "forget_mean"),
    Simulated(None, 1, "one network: means over its batch")))


@dataclass(frozen=True, eq=False)
class RNNSimulation(Record):
    """A vanilla RNN run: ``grad_h_sq[t]`` = batch-mean ‖∂L/∂h_t‖², t = 0..T.

    ``spectral_norm`` is σ_max(W); with ``record=True`` the parameters and data are kept.
    """

    activation: str
    hidden: int
    n_steps: int
    batch: int
    spectral_norm: float
    grad_h_sq: FloatArray
    seed: str
    recurrent: FloatArray | None = None
    input_weights: FloatArray | None = None
    bias: FloatArray | None = None
    inputs: FloatArray | None = None
    upstream: FloatArray | None = None
    steps: tuple[Step, ...] = ()
    provenance: Provenances = _ONE_RUN

    def summary(self) -> list[tuple[str, Any]]:
        return [("activation", self.activation), ("σ_max(W)", self.spectral_norm),
                ("‖∂L/∂h_0‖² / ‖∂L/∂h_T‖²", float(self.grad_h_sq[0] / self.grad_h_sq[-1]))]


@dataclass(frozen=True, eq=False)
class LSTMSimulation(Record):
    """An LSTM run: ``grad_h_sq[t]``, ``grad_c_sq[t]`` (batch-mean squared norms, t = 0..T)
    and ``forget_mean[t − 1]``, the mean forget gate at step t."""

    hidden: int
    n_steps: int
    batch: int
    readout: Readout
    grad_h_sq: FloatArray
    grad_c_sq: FloatArray
    forget_mean: FloatArray
    seed: str
    forget: FloatArray | None = None
    recurrent: FloatArray | None = None
    input_weights: FloatArray | None = None
    bias: FloatArray | None = None
    inputs: FloatArray | None = None
    upstream: FloatArray | None = None
    steps: tuple[Step, ...] = ()
    provenance: Provenances = _ONE_RUN

    def summary(self) -> list[tuple[str, Any]]:
        return [("readout", self.readout.value),
                ("‖∂L/∂c_0‖² / ‖∂L/∂c_T‖²", float(self.grad_c_sq[0] / self.grad_c_sq[-1]))]


def _common(hidden: Any, steps: Any, batch: Any, input_size: Any) -> tuple[int, int, int, int]:
    n = as_positive_int(hidden, "hidden")
    t = as_positive_int(steps, "steps")
    b = as_positive_int(batch, "batch")
    m = n if input_size is None else as_positive_int(input_size, "input_size")
    return n, t, b, m


def _flag(value: Any, name: str) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be True or False, got {describe(value)}")


# ---- vanilla RNN ----

def rnn_pass(
    phi: Activation, w: FloatArray, u: FloatArray, b: FloatArray, xs: FloatArray, g: FloatArray,
    *, nudge: tuple[int, FloatArray] | None = None, backward: bool = True,
) -> tuple[float, list[FloatArray]]:
    """Loss Σ⟨g, h_T⟩ and the list ∂L/∂h_t (t = 0..T) for inputs ``xs`` (T, batch, m).

    ``nudge=(t, v)`` adds v to h_t in the forward pass (finite-difference tests)."""
    steps, batch = xs.shape[0], xs.shape[1]
    h = np.zeros((batch, w.shape[0]))
    if nudge is not None and nudge[0] == 0:
        h = h + nudge[1]
    slopes = []
    drive = xs @ u.T  # all input contributions in one GEMM: (T, batch, n)
    drive += b
    for t in range(steps):
        z = h @ w.T
        z += drive[t]
        h = phi.numpy(z)
        if backward:
            slopes.append(phi.numpy_prime(z))
        if nudge is not None and nudge[0] == t + 1:
            h = h + nudge[1]
    loss = float(inner(g, h))
    grads: list[FloatArray] = []
    if backward:
        d = g
        grads.append(d)
        for t in range(steps - 1, -1, -1):
            d = (d * slopes[t]) @ w
            grads.append(d)
        grads.reverse()
    return loss, grads


def simulate_rnn(
    act: Activation | str,
    *,
    hidden: int,
    steps: int,
    batch: int,
    sigma_w: float,
    sigma_u: float = 1.0,
    sigma_b: float = 0.0,
    input_size: int | None = None,
    init: Init | str = Init.GAUSSIAN,
    recurrent: Any = None,
    upstream: Any = None,
    rng: Seed = None,
    record: bool = False,
) -> RNNSimulation:
    """Run a tanh or sigmoid RNN for ``steps`` steps and backpropagate through time.

    W (hidden × hidden) follows ``init`` with gain ``sigma_w`` unless ``recurrent`` gives
    it; U ~ N(0, σ_u²/input_size), b ~ N(0, σ_b²), inputs x_t ~ N(0, 1) entries,
    upstream g = ∂L/∂h_T ~ N(0, 1) entries unless given.
    """
    phi = as_activation(act)
    if phi.name not in _RNN_ACTIVATIONS:
        raise InvalidArgument(f"simulate_rnn runs tanh or sigmoid RNNs, got {phi.label}")
    n, steps, batch, m = _common(hidden, steps, batch, input_size)
    sigma_w = as_float(sigma_w, "sigma_w", lower=0.0)
    sigma_u = as_float(sigma_u, "sigma_u", lower=0.0, strict=False)
    sigma_b = as_float(sigma_b, "sigma_b", lower=0.0, strict=False)
    scheme = as_init(init)
    _flag(record, "record")
    root = root_seed(rng)
    w = (draw_weights(scheme, n, n, sigma_w=sigma_w, seed=child(root, _RECURRENT))
         if recurrent is None else as_matrix(recurrent, "recurrent", (n, n)))
    u = normal_matrix(child(root, _INPUT_W), n, m) * (sigma_u / np.sqrt(m))
    b = normal_matrix(child(root, _BIAS), 1, n).reshape(-1) * sigma_b
    xs = normal_matrix(child(root, _INPUTS), steps * batch, m).reshape(steps, batch, m)
    g = (normal_matrix(child(root, _UPSTREAM), batch, n) if upstream is None
         else as_matrix(upstream, "upstream", (batch, n)))
    _, grads = rnn_pass(phi, w, u, b, xs, g)
    sq = np.array([inner(d, d) / batch for d in grads])
    sq.flags.writeable = False
    kept = record
    return RNNSimulation(
        activation=phi.label, hidden=n, n_steps=steps, batch=batch,
        spectral_norm=float(np.linalg.norm(w, 2)), grad_h_sq=sq, seed=seed_label(root),
        recurrent=w if kept else None, input_weights=u if kept else None,
        bias=b if kept else None, inputs=xs if kept else None, upstream=g if kept else None,
    )


# ---- LSTM ----

_SIGMOID = activation("sigmoid")
_TANH = activation("tanh")


def lstm_pass(
    w: FloatArray, u: FloatArray, b: FloatArray, xs: FloatArray, g: FloatArray,
    readout: Readout, *, nudge: tuple[str, int, FloatArray] | None = None,
    backward: bool = True,
) -> tuple[float, list[FloatArray], list[FloatArray], FloatArray]:
    """Loss, ∂L/∂h_t and ∂L/∂c_t (t = 0..T) and the forget gates (T, batch, n).

    ``w`` is (4n, n), ``u`` (4n, m), ``b`` (4n,), gate blocks in the order i, f, ĝ, o.
    ``nudge=("h" | "c", t, v)`` adds v to h_t or c_t in the forward pass."""
    steps, batch = xs.shape[0], xs.shape[1]
    n = w.shape[1]
    h = np.zeros((batch, n))
    c = np.zeros((batch, n))

    def bump(kind: str, t: int, value: FloatArray) -> FloatArray:
        if nudge is not None and nudge[0] == kind and nudge[1] == t:
            return value + nudge[2]
        return value

    h, c = bump("h", 0, h), bump("c", 0, c)
    drive = xs @ u.T
    drive += b
    cache = []
    forget = np.empty((steps, batch, n))
    for t in range(steps):
        pre = h @ w.T
        pre += drive[t]
        i = _SIGMOID.numpy(pre[:, :n])
        f = _SIGMOID.numpy(pre[:, n:2 * n])
        gg = _TANH.numpy(pre[:, 2 * n:3 * n])
        o = _SIGMOID.numpy(pre[:, 3 * n:])
        forget[t] = f
        c_prev = c
        c = bump("c", t + 1, f * c_prev + i * gg)
        h = bump("h", t + 1, o * _TANH.numpy(c))
        if backward:
            cache.append((pre, i, f, gg, o, c_prev, c))
    loss = float(inner(g, h if readout is Readout.HIDDEN else c))
    dhs: list[FloatArray] = []
    dcs: list[FloatArray] = []
    if backward:
        zero = np.zeros_like(g)
        dh, dc_next = (g, zero) if readout is Readout.HIDDEN else (zero, g)
        for t in range(steps - 1, -1, -1):
            pre, i, f, gg, o, c_prev, c = cache[t]
            # h_t = o ⊙ tanh(c_t): the cell gradient gathers the carousel and the h path.
            dc = dc_next + dh * o * _TANH.numpy_prime(c)
            dhs.append(dh)
            dcs.append(dc)
            dpre = np.empty_like(pre)
            dpre[:, :n] = dc * gg * _SIGMOID.numpy_prime(pre[:, :n])
            dpre[:, n:2 * n] = dc * c_prev * _SIGMOID.numpy_prime(pre[:, n:2 * n])
            dpre[:, 2 * n:3 * n] = dc * i * _TANH.numpy_prime(pre[:, 2 * n:3 * n])
            dpre[:, 3 * n:] = dh * _TANH.numpy(c) * _SIGMOID.numpy_prime(pre[:, 3 * n:])
            dh = dpre @ w
            dc_next = dc * f  # ∂c_t/∂c_{t−1} = diag(f_t)
        dhs.append(dh)
        dcs.append(dc_next)
        dhs.reverse()
        dcs.reverse()
    return loss, dhs, dcs, forget


def simulate_lstm(
    *,
    hidden: int,
    steps: int,
    batch: int,
    sigma_w: float,
    sigma_u: float = 1.0,
    forget_bias: float = 1.0,
    input_size: int | None = None,
    readout: Readout | str = Readout.HIDDEN,
    recurrent: Any = None,
    upstream: Any = None,
    rng: Seed = None,
    record: bool = False,
) -> LSTMSimulation:
    """Run an LSTM cell for ``steps`` steps and backpropagate through time.

    W ~ N(0, σ_w²/hidden) (shape (4·hidden, hidden)) unless ``recurrent`` gives it,
    U ~ N(0, σ_u²/input_size), biases 0 except the forget gate's ``forget_bias``
    (Jozefowicz, Zaremba and Sutskever 2015 recommend 1).

    >>> sim = simulate_lstm(hidden=16, steps=10, batch=4, sigma_w=0.0 + 1e-300,
    ...                     readout="cell", rng=0)
    >>> sim.grad_c_sq.shape
    (11,)
    """
    n, steps, batch, m = _common(hidden, steps, batch, input_size)
    sigma_w = as_float(sigma_w, "sigma_w", lower=0.0, strict=False)
    sigma_u = as_float(sigma_u, "sigma_u", lower=0.0, strict=False)
    _flag(record, "record")
    forget_bias = as_float(forget_bias, "forget_bias")
    if isinstance(readout, str):
        try:
            readout = Readout(readout)
        except ValueError:
            raise InvalidArgument(
                f"readout must be 'hidden' or 'cell', got {describe(readout)}") from None
    if not isinstance(readout, Readout):
        raise InvalidArgument(f"readout must be a Readout, got {describe(readout)}")
    root = root_seed(rng)
    w = (normal_matrix(child(root, _RECURRENT), 4 * n, n) * (sigma_w / np.sqrt(n))
         if recurrent is None else as_matrix(recurrent, "recurrent", (4 * n, n)))
    u = normal_matrix(child(root, _INPUT_W), 4 * n, m) * (sigma_u / np.sqrt(m))
    b = np.zeros(4 * n)
    b[n:2 * n] = forget_bias
    xs = normal_matrix(child(root, _INPUTS), steps * batch, m).reshape(steps, batch, m)
    g = (normal_matrix(child(root, _UPSTREAM), batch, n) if upstream is None
         else as_matrix(upstream, "upstream", (batch, n)))
    _, dhs, dcs, forget = lstm_pass(w, u, b, xs, g, readout)
    gh = np.array([inner(d, d) / batch for d in dhs])
    gc = np.array([inner(d, d) / batch for d in dcs])
    fm = forget.mean(axis=(1, 2))
    for arr in (gh, gc, fm):
        arr.flags.writeable = False
    kept = record
    return LSTMSimulation(
        hidden=n, n_steps=steps, batch=batch, readout=readout, grad_h_sq=gh, grad_c_sq=gc,
        forget_mean=fm, seed=seed_label(root), forget=forget if kept else None,
        recurrent=w if kept else None, input_weights=u if kept else None,
        bias=b if kept else None, inputs=xs if kept else None, upstream=g if kept else None,
    )
