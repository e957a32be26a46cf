"""Does the first layer of a deep sigmoid net move?  Small MLPs trained with plain SGD.

The task is generated from the seed: n points x ~ N(0, I_d) labelled
y = 1[‖x_{1..k}‖² > its sample median] — a sphere in the first k = min(d, 4) coordinates, so
the classes are balanced and not linearly separable.  The network sees x + ``shift``·1
(``shift`` = 0: centred inputs; the labels do not change).  The network is ``depth`` hidden
layers z_l = W_l a_{l−1} + b_l, a_l = φ(z_l) and a linear readout s = w_out·a_depth + b_out,
trained on the mean binary cross-entropy with logits
ℓ = softplus(s) − y·s (∂ℓ/∂s = σ(s) − y) by minibatch SGD, backward by hand.

The same ``rng`` gives the same data, the same initial weights (for equal widths) and
the same minibatch order, whatever the activation: :func:`compare` trains two
configurations on exactly that footing and shows the classic picture of Glorot and
Bengio (2010): the sigmoid loss plateaus and its first layers barely move.

>>> run = train("relu", depth=2, width=16, epochs=3, rng=0)
>>> run.loss.shape, run.update_norm.shape
((4,), (3, 3))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import child, generator, normal_matrix, root_seed, seed_label
from symgrad.numeric.weights import Init, as_init, draw_weights
from symgrad.records import NO_NUMBERS, Provenances, Record, Simulated, Step, provenances
from symgrad.types import FloatArray, Seed

__all__ = ["Comparison", "Training", "compare", "loss_and_gradients", "make_task", "train"]

_DATA, _WEIGHTS, _ORDER, _READOUT = 0, 1, 2, 3
_SIGMOID = activation("sigmoid")


#: One seeded SGD run: losses and norms of that run.
_ONE_RUN = provenances(**dict.fromkeys(
    ("loss", "accuracy", "update_norm", "relative_update", "grad_norm"),
    Simulated(None, 1, "one seeded SGD run")))


@dataclass(frozen=True, eq=False)
class Training(Record):
    """One SGD run.

    ``loss[e]`` and ``accuracy[e]``: full-training-set mean loss and accuracy after e
    epochs (e = 0 is the initial network).  ``update_norm[e, l]``: ‖W_l(after epoch e+1)
    − W_l(before)‖_F for the hidden layers l = 1..depth and, last, the readout;
    ``relative_update[e, l]`` divides it by ‖W_l‖_F at initialisation.
    ``grad_norm[l]``: ‖∂L/∂W_l‖_F at initialisation on the whole training set.
    ``shift``: the constant added to every input coordinate (0 for centred inputs).
    """

    activation: str
    depth: int
    width: int
    init: Init
    sigma_w: float
    lr: float
    epochs: int
    batch_size: int
    samples: int
    features: int
    seed: str
    loss: FloatArray
    accuracy: FloatArray
    update_norm: FloatArray
    relative_update: FloatArray
    grad_norm: FloatArray
    steps: tuple[Step, ...] = ()
    provenance: Provenances = _ONE_RUN
    shift: float = 0.0

    def total_update(self) -> FloatArray:
        """Σ over epochs of ``relative_update`` per layer (how far each layer travelled)."""
        out: FloatArray = self.relative_update.sum(axis=0)
        return out

    def smoothed_loss(self, last: int = 10) -> tuple[float, float, float, float]:
        """The training loss over the ``last`` epochs (all epochs when fewer were run):
        (mean, standard deviation, min, max).  One epoch's loss is as noisy as the SGD
        steps before it; the mean over several epochs is the headline a plateau or a
        converged run is judged by.

        >>> run = train("relu", depth=2, width=8, epochs=4, rng=0)
        >>> mean, sd, lo, hi = run.smoothed_loss(3)
        >>> bool(lo <= mean <= hi) and mean == float(np.mean(run.loss[-3:]))
        True
        """
        last = as_positive_int(last, "last")
        tail = self.loss[-min(last, self.epochs):]
        return (float(np.mean(tail)), float(np.std(tail)), float(np.min(tail)),
                float(np.max(tail)))

    def summary(self) -> list[tuple[str, Any]]:
        moved = self.total_update()
        return [
            ("activation", self.activation),
            ("loss: first → last epoch",
             f"{self.loss[0]:.4f} → {self.loss[-1]:.4f}"),
            ("accuracy after training", sympy.Float(self.accuracy[-1], 4)),
            ("relative movement, layer 1", sympy.Float(moved[0], 4)),
            ("relative movement, last hidden layer", sympy.Float(moved[self.depth - 1], 4)),
        ]


@dataclass(frozen=True, eq=False)
class Comparison(Record):
    """Two runs on the same data, initial weights and minibatch order."""

    first: Training
    second: Training
    steps: tuple[Step, ...] = ()
    #: The numbers live in ``first`` and ``second``, each with its own provenance.
    provenance: Provenances = NO_NUMBERS

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = []
        for run in (self.first, self.second):
            moved = run.total_update()
            rows.append((f"{run.activation}: loss {run.loss[0]:.4f} → {run.loss[-1]:.4f}",
                         f"layer-1 movement {moved[0]:.3g}, layer-{run.depth} {moved[-2]:.3g}"))
        return rows


def make_task(samples: int, features: int, seed: np.random.SeedSequence
              ) -> tuple[FloatArray, FloatArray]:
    """Inputs (samples, features) and 0/1 labels of the seeded sphere task."""
    x = normal_matrix(seed, samples, features)
    k = min(features, 4)
    radius2 = np.einsum("ij,ij->i", x[:, :k], x[:, :k])
    # The sample median: the two classes are balanced exactly (up to ties, which have
    # probability 0).
    median = float(np.median(radius2))
    return x, (radius2 > median).astype(np.float64)


def loss_and_gradients(
    phi: Activation, weights: list[FloatArray], biases: list[FloatArray],
    x: FloatArray, y: FloatArray,
) -> tuple[float, list[FloatArray], list[FloatArray], FloatArray]:
    """Mean cross-entropy, ∂L/∂W_l, ∂L/∂b_l (readout last) and the logits.

    The last entry of ``weights`` is the readout (shape (1, width))."""
    acts = [x]
    slopes = []
    a = x
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        z = a @ w.T
        z += b
        slopes.append(phi.numpy_prime(z))
        a = phi.numpy(z)
        acts.append(a)
    s = (a @ weights[-1].T).reshape(-1) + biases[-1][0]
    # softplus(s) − y s, evaluated without overflow: max(s, 0) + log1p(e^{−|s|}) − y s.
    loss = float(np.mean(np.maximum(s, 0.0) + np.log1p(np.exp(-np.abs(s))) - y * s))
    n = x.shape[0]
    ds = ((_SIGMOID.numpy(s) - y) / n)[:, None]
    grads_w = [ds.T @ acts[-1]]
    grads_b = [ds.sum(axis=0)]
    d = ds @ weights[-1]
    for layer in range(len(weights) - 2, -1, -1):
        dz = d * slopes[layer]
        grads_w.append(dz.T @ acts[layer])
        grads_b.append(dz.sum(axis=0))
        d = dz @ weights[layer]
    grads_w.reverse()
    grads_b.reverse()
    return loss, grads_w, grads_b, s


#: The largest learning rate accepted (larger ones overflow float64 in the first step).
_MAX_LR = 1e4
#: The largest input shift accepted (a constant input far beyond the data's scale).
_MAX_SHIFT = 1e3

def train(
    act: Activation | str,
    *,
    depth: int = 5,
    width: int = 32,
    epochs: int = 30,
    lr: float = 0.5,
    batch_size: int = 32,
    samples: int = 512,
    features: int = 8,
    init: Init | str = Init.GAUSSIAN,
    sigma_w: float = 1.0,
    shift: float = 0.0,
    rng: Seed = None,
) -> Training:
    """Train a ``depth``-hidden-layer MLP with plain SGD on the seeded sphere task.

    Hidden weights follow ``init`` with gain ``sigma_w``; the readout is N(0, 1/width);
    biases start at 0.  Every epoch visits the ``samples`` points once in a seeded order.
    The network sees the inputs plus ``shift`` in every coordinate (``|shift|`` ≤ 1000);
    the data, the labels, the initial weights and the order do not depend on it.
    """
    phi = as_activation(act)
    depth = as_positive_int(depth, "depth")
    width = as_positive_int(width, "width")
    epochs = as_positive_int(epochs, "epochs")
    lr = as_float(lr, "lr", lower=0.0)
    if lr > _MAX_LR:
        raise InvalidArgument(f"lr must be in (0, {_MAX_LR:g}], got {lr:g}")
    samples = as_positive_int(samples, "samples", minimum=2)
    batch_size = as_positive_int(batch_size, "batch_size")
    if batch_size > samples:
        raise InvalidArgument(f"batch_size must be <= samples = {samples}, got {batch_size}")
    features = as_positive_int(features, "features")
    scheme = as_init(init)
    sigma_w = as_float(sigma_w, "sigma_w", lower=0.0)
    shift = as_float(shift, "shift")
    if abs(shift) > _MAX_SHIFT:
        raise InvalidArgument(f"shift must be in [-{_MAX_SHIFT:g}, {_MAX_SHIFT:g}], got {shift:g}")
    root = root_seed(rng)
    x, y = make_task(samples, features, child(root, _DATA))
    x = x + shift
    sizes = (features,) + (width,) * depth
    weights = [draw_weights(scheme, sizes[k + 1], sizes[k], sigma_w=sigma_w,
                            seed=child(root, _WEIGHTS, k)) for k in range(depth)]
    weights.append(normal_matrix(child(root, _READOUT), 1, width) / math.sqrt(width))
    biases = [np.zeros(n) for n in sizes[1:]] + [np.zeros(1)]
    initial_norm = np.array([np.linalg.norm(w) for w in weights])
    order_rng = generator(child(root, _ORDER))

    loss = np.empty(epochs + 1)
    accuracy = np.empty(epochs + 1)
    update = np.empty((epochs, depth + 1))
    first_loss, first_grads, _, logits = loss_and_gradients(phi, weights, biases, x, y)
    grad_norm = np.array([np.linalg.norm(g) for g in first_grads])
    loss[0] = first_loss
    accuracy[0] = np.mean((logits > 0) == (y > 0.5))
    for epoch in range(epochs):
        start = [w.copy() for w in weights]
        perm = order_rng.permutation(samples)
        for lo in range(0, samples - batch_size + 1, batch_size):
            rows = perm[lo:lo + batch_size]
            _, gw, gb, _ = loss_and_gradients(phi, weights, biases, x[rows], y[rows])
            for w, b, dw, db in zip(weights, biases, gw, gb, strict=True):
                w -= lr * dw
                b -= lr * db
        update[epoch] = [np.linalg.norm(w - w0) for w, w0 in zip(weights, start, strict=True)]
        loss[epoch + 1], _, _, logits = loss_and_gradients(phi, weights, biases, x, y)
        if not np.isfinite(loss[epoch + 1]):
            raise InvalidArgument(
                f"training diverged: the loss is not finite after epoch {epoch + 1} "
                f"(lr = {lr:g}, σ_w = {sigma_w:g}); use a smaller learning rate")
        accuracy[epoch + 1] = np.mean((logits > 0) == (y > 0.5))
    relative = update / initial_norm
    for arr in (loss, accuracy, update, relative, grad_norm):
        arr.flags.writeable = False
    return Training(
        activation=phi.label, depth=depth, width=width, init=scheme, sigma_w=sigma_w, lr=lr,
        epochs=epochs, batch_size=batch_size, samples=samples, features=features,
        seed=seed_label(root), loss=loss, accuracy=accuracy, update_norm=update,
        relative_update=relative, grad_norm=grad_norm, shift=shift,
    )


def compare(
    first: Activation | str | Mapping[str, Any],
    second: Activation | str | Mapping[str, Any],
    *,
    rng: Seed = 0,
    **shared: Any,
) -> Comparison:
    """Train two configurations on the same data, initial weights and minibatch order.

    Each configuration is an activation (or its name) or a mapping of :func:`train`
    arguments (with ``act``); ``shared`` arguments apply to both; ``rng`` is one seed
    used by both runs (a ``Generator`` is turned into one seed first).  Budget: two
    :func:`train` runs, seconds at the default sizes (time grows with epochs × samples ×
    width² × depth).

    >>> cmp = compare("sigmoid", "relu", depth=5, width=16, epochs=2, rng=1)
    >>> cmp.first.activation, cmp.second.activation
    ('sigmoid', 'relu')
    """
    root = root_seed(rng)
    if "act" in shared:
        raise InvalidArgument("give the activation inside each configuration, not as act=")
    runs = []
    for config in (first, second):
        if isinstance(config, Mapping):
            options = dict(shared)
            options.update(config)
            if "act" not in options:
                raise InvalidArgument(
                    f"a configuration mapping needs 'act', got {describe(config)}")
            act = options.pop("act")
        else:
            act, options = config, dict(shared)
        if "rng" in options:
            raise InvalidArgument("compare passes one rng to both runs; do not set it per run")
        runs.append(train(act, rng=root, **options))
    return Comparison(first=runs[0], second=runs[1])
