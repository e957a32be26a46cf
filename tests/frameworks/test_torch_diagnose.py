"""diagnose, to_torch and init_ against independent computations (marker ``torch``).

The three models of the issue are built in PyTorch here: a deep tanh MLP (Xavier-normal
weights, zero biases), a pre-LN residual MLP and a BatchNorm MLP (PyTorch's default
initialisation).  Two oracles:

* exact: every measured number equals a plain autograd computation written in the test
  (retain_grad on each layer's output, ``.grad`` of each parameter; float64, 1e-10);
* statistical: over K independent networks the mean of measured/predicted
  E[(∂L/∂h)²] at each stage is 1 within z·SE + (L/N + L/B)·1, z = 4.5: SE from the K
  networks' spread (the sampling error at finite width and batch), plus the first-order
  allowance for what ``predict`` leaves out at width N and batch B, O(1/N) and O(1/B) per
  layer compounded over the L stages between the stage and the top (the batch term only
  where BatchNorm couples the examples).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from symgrad import networks as nw
from symgrad.errors import InvalidArgument
from symgrad.frameworks import Trend
from symgrad.frameworks.torch import diagnose, init_, to_torch
from symgrad.networks.advice import recommend_init

pytestmark = pytest.mark.torch
F64 = torch.float64


class PreLN(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(width, dtype=F64)
        self.act = nn.ReLU()
        self.lin = nn.Linear(width, width, dtype=F64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.lin(self.act(self.ln(x)))


def tanh_mlp(width: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(depth):
        lin = nn.Linear(width, width, dtype=F64)
        nn.init.xavier_normal_(lin.weight)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.Tanh()]
    return nn.Sequential(*layers)


def pre_ln_mlp(width: int, depth: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width, width, dtype=F64), *[PreLN(width) for _ in range(depth)],
                         nn.LayerNorm(width, dtype=F64), nn.Linear(width, width, dtype=F64))


def bn_mlp(width: int, depth: int) -> nn.Sequential:
    return nn.Sequential(*[m for _ in range(depth) for m in (
        nn.Linear(width, width, dtype=F64), nn.BatchNorm1d(width, dtype=F64), nn.ReLU())])


MODELS = {"tanh": tanh_mlp, "pre_ln": pre_ln_mlp, "batchnorm": bn_mlp}


# ---- exact: the measurement is autograd's ----

def _reference(model: nn.Module, x: torch.Tensor, g: torch.Tensor) -> dict[str, dict[str, float]]:
    """Every leaf module's output (and every residual sum) with retain_grad, by hand."""
    outs: dict[str, torch.Tensor] = {}
    inputs: dict[str, torch.Tensor] = {}

    def run(mod: nn.Module, prefix: str, h: torch.Tensor) -> torch.Tensor:
        if isinstance(mod, nn.Sequential):
            for name, child in mod.named_children():
                h = run(child, f"{prefix}{name}", h)
            return h
        if isinstance(mod, PreLN):
            branch = run(mod.lin, f"{prefix}.lin",
                         run(mod.act, f"{prefix}.act", run(mod.ln, f"{prefix}.ln", h)))
            out = h + branch
            out.retain_grad()
            outs[f"{prefix}.add"] = out
            return out
        inputs[prefix] = h.detach()
        out = mod(h)
        out.retain_grad()
        outs[prefix] = out
        return out

    model.zero_grad(set_to_none=True)
    y = run(model, "", x)
    (g * y).sum().backward()
    ref = {}
    for name, t in outs.items():
        row = {"act": float((t.detach() ** 2).mean()), "grad": float((t.grad ** 2).mean())}
        mod = dict(model.named_modules()).get(name)
        if isinstance(mod, nn.Linear):
            row["w"] = float((mod.weight.grad ** 2).sum())
            row["b"] = float((mod.bias.grad ** 2).sum())
            row["per"] = float(((t.grad ** 2).sum(1) * (inputs[name] ** 2).sum(1)).mean())
        ref[name] = row
    model.zero_grad(set_to_none=True)
    return ref


@pytest.mark.parametrize("kind", MODELS)
def test_measured_norms_equal_an_autograd_computation(kind: str) -> None:
    torch.manual_seed(1)
    model = MODELS[kind](16, 4)
    x = torch.randn(12, 16, dtype=F64)
    g = torch.randn(12, 16, dtype=F64, generator=torch.Generator().manual_seed(7))
    running = {k: v.clone() for k, v in model.state_dict().items()}
    d = diagnose(model, x, rng=7)  # documented: g = randn(shape, Generator().manual_seed(rng))
    # diagnose leaves the model as it was: no .grad, the same running statistics
    assert all(p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():
        assert torch.equal(v, running[k]), k
    ref = _reference(model, x, g)
    assert set(ref) <= set(d.layers)
    for name, row in ref.items():
        got = d.layer(name)
        assert got.activation_sq == pytest.approx(row["act"], rel=1e-10), name
        assert got.grad_output_sq == pytest.approx(row["grad"], rel=1e-10), name
        if "w" in row:
            assert got.grad_weight_sq == pytest.approx(row["w"], rel=1e-10), name
            assert got.grad_bias_sq == pytest.approx(row["b"], rel=1e-10), name
            assert got.grad_weight_sq_per_example == pytest.approx(row["per"], rel=1e-10), name


def test_a_given_loss_and_targets_are_used() -> None:
    torch.manual_seed(2)
    model = tanh_mlp(8, 3)
    x, t = torch.randn(10, 8, dtype=F64), torch.randn(10, 8, dtype=F64)
    d = diagnose(model, x, loss=nn.MSELoss(), targets=t)
    out = model(x)
    out.retain_grad()
    nn.MSELoss()(out, t).backward()
    assert d.layer("5").grad_output_sq == pytest.approx(float((out.grad ** 2).mean()), rel=1e-10)
    assert d.loss == "MSELoss"


# ---- statistical: the prediction ----

K, WIDTH, DEPTH, BATCH, Z = 6, 128, 10, 64, 4.5


@pytest.mark.parametrize("kind", MODELS)
def test_prediction_within_the_sampling_tolerance(kind: str) -> None:
    ratios = []
    for seed in range(K):
        torch.manual_seed(100 + seed)
        model = MODELS[kind](WIDTH, DEPTH)
        d = diagnose(model, torch.randn(BATCH, WIDTH, dtype=F64), rng=seed)
        assert d.predicted is not None and not d.unrecognised, d.note
        stages = [r for r in d.measured if r.block is not None][:-1]
        ratios.append([r.grad_output_sq / r.predicted_grad_output_sq for r in stages])
    r = np.array(ratios)
    mean, se = r.mean(0), r.std(0, ddof=1) / math.sqrt(K)
    top = r.shape[1]
    batch_term = 1.0 / BATCH if kind == "batchnorm" else 0.0
    for i in range(top):
        between = top - i
        tol = Z * se[i] + between * (1.0 / WIDTH + batch_term)
        assert abs(mean[i] - 1) <= tol, (kind, i, mean[i], se[i], tol)


@pytest.mark.parametrize("kind,width,depth,trend", [
    ("tanh", 256, 20, Trend.VANISHING), ("pre_ln", 128, 12, Trend.HEALTHY),
    ("batchnorm", 128, 12, Trend.EXPLODING)])
def test_the_three_models_verdicts(kind: str, width: int, depth: int, trend: Trend) -> None:
    torch.manual_seed(0)
    d = diagnose(MODELS[kind](width, depth), torch.randn(128, width, dtype=F64))
    assert d.verdict.trend is trend, d.verdict.text
    assert d.fit is not None and d.fit.lower <= d.fit.factor <= d.fit.upper
    assert d.fit.predicted_factor is not None
    data = json.loads(json.dumps(d.as_dict()))
    assert data["verdict"]["trend"] == trend.value and len(data["measured"]) == len(d.layers)
    assert data["predicted"]["network"] == d.architecture


# ---- recognition ----

ACTIVATIONS = [
    (nn.ReLU(), "relu"), (nn.LeakyReLU(0.2), "leaky_relu(alpha=1/5)"), (nn.ELU(0.5), None),
    (nn.SELU(), "selu"), (nn.GELU(), "gelu"), (nn.GELU(approximate="tanh"), "gelu_tanh"),
    (nn.SiLU(), "silu"), (nn.Mish(), "mish"), (nn.Softplus(beta=2.0), "softplus(beta=2)"),
    (nn.Sigmoid(), "sigmoid"), (nn.Tanh(), "tanh"), (nn.Hardtanh(), "hard_tanh"),
    (nn.Hardsigmoid(), "hard_sigmoid"), (nn.Softsign(), "softsign"),
]


@pytest.mark.parametrize("module,label", ACTIVATIONS, ids=[type(m).__name__ + (label or "")
                                                           for m, label in ACTIVATIONS])
def test_each_activation_module_is_the_symgrad_activation(module: nn.Module, label) -> None:
    from symgrad.frameworks._torch_graph import activation_block

    block, reason = activation_block(module)
    assert block is not None, reason
    if label is not None:
        assert block.act.label == label
    grid = np.linspace(-6, 6, 1201)
    torch_values = module(torch.tensor(grid, dtype=F64)).detach().numpy()
    # torch's SELU constants are 1.0507…, 1.6732… to float64: 1e-12 relative apart
    assert np.allclose(block.act.numpy(grid), torch_values, rtol=1e-9, atol=1e-12)


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class TwoPaths(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) * self.b(x)


UNRECOGNISED = [
    (nn.Sequential(nn.Linear(4, 4), nn.ReLU6(), nn.Linear(4, 4)), "1 (ReLU6)"),
    (nn.Sequential(nn.Linear(4, 4), Swish(), nn.Linear(4, 4)), "1.mul (mul, in 1 (Swish))"),
    (nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 4)), "1 (Dropout)"),
    (nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4).eval(), nn.Linear(4, 4)), "1 (BatchNorm1d)"),
    (nn.Sequential(nn.Linear(4, 4), nn.ELU(), nn.Conv1d(1, 1, 1)), None),
    (TwoPaths(), "mul"),
]


@pytest.mark.parametrize("model,name", UNRECOGNISED, ids=range(len(UNRECOGNISED)))
def test_unrecognised_modules_are_named_never_skipped(model: nn.Module, name: str | None) -> None:
    model = model.double()
    x = torch.randn(8, 4, dtype=F64)
    if name is None:  # a Conv1d on a (batch, 4) tensor cannot even run
        with pytest.raises(RuntimeError):
            diagnose(model, x)
        return
    d = diagnose(model, x)
    assert d.predicted is None and any(u.startswith(name) for u in d.unrecognised), d.unrecognised
    assert "nothing predicted" in d.note


def test_an_affine_layernorm_that_was_trained_is_not_modelled() -> None:
    model = pre_ln_mlp(8, 2)
    with torch.no_grad():
        model[1].ln.weight.mul_(2)
    d = diagnose(model, torch.randn(8, 8, dtype=F64))
    assert any(u.startswith("1.ln (LayerNorm)") for u in d.unrecognised)


# ---- to_torch and init_ ----

def test_to_torch_builds_the_architecture_with_its_initialisation() -> None:
    net = nw.serial(nw.dense(2, init="he_normal"), nw.repeat(nw.residual(
        nw.serial(nw.layernorm(eps=sympy.Rational(1, 10**5)), nw.activation("gelu"),
                  nw.dense(1, sympy.Rational(1, 10))), scale=1 / sympy.sqrt(nw.L)), 4))
    model = to_torch(net, width=256, rng=3)
    assert len(model) == 5 and type(model[1]).__name__ == "Residual"
    assert model[1].scale == pytest.approx(1 / math.sqrt(5))
    w = model[0].weight.detach().numpy()
    # he_normal with gain 2: Var = 2·2²/256; the sample variance of 65536 draws has
    # relative SE √(2/65536)
    assert abs(w.var() / (8 / 256) - 1) <= 4.5 * math.sqrt(2 / w.size)
    bias = model[1].branch[2].bias.detach().numpy()
    assert abs(bias.var() / 0.01 - 1) <= 4.5 * math.sqrt(2 / bias.size)
    d = diagnose(model, torch.randn(32, 256, dtype=F64))
    assert d.predicted is not None and "gelu" in d.architecture and not d.unrecognised


def test_init_applies_the_advice_for_the_models_architecture() -> None:
    model = tanh_mlp(128, 12)
    advice = init_(model, rng=0)
    expected = recommend_init("tanh", depth=12, net=lambda sw, sb=0.0: nw.repeat(
        nw.serial(nw.dense(sw, sb), nw.activation("tanh")), 12))
    assert advice.sigma_w == expected.sigma_w
    w = torch.cat([m.weight.detach().flatten() for m in model if isinstance(m, nn.Linear)]).numpy()
    var = advice.sigma_w ** 2 / 128
    assert abs(w.var() / var - 1) <= 4.5 * math.sqrt(2 / w.size)
    d = diagnose(model, torch.randn(64, 128, dtype=F64))
    assert d.verdict.trend is Trend.HEALTHY, d.verdict.text


BAD = [
    (lambda: diagnose("not a model", torch.zeros(4, 2)), "torch.nn.Module"),
    (lambda: diagnose(nn.Linear(2, 2), torch.zeros(4)), "shape (batch, features)"),
    (lambda: diagnose(nn.Linear(2, 2), torch.zeros(4, 2, dtype=torch.int64)), "floating"),
    (lambda: diagnose(nn.Linear(2, 2), torch.zeros(1, 2)), "at least 2"),
    (lambda: diagnose(nn.Linear(2, 2), torch.zeros(4, 2), loss=3), "callable"),
    (lambda: diagnose(nn.Linear(2, 2), torch.zeros(4, 2), targets=torch.zeros(4, 2)), "targets"),
    (lambda: diagnose(nn.Linear(2, 2), torch.zeros(4, 2), loss=lambda y: y), "scalar"),
    (lambda: diagnose(nn.Linear(2, 2), torch.zeros(4, 2), rng=-1), "rng"),
    (lambda: diagnose(nn.Linear(2, 2).requires_grad_(False), torch.zeros(4, 2)), "trainable"),
    (lambda: to_torch("net", width=4), "architecture"),
    (lambda: to_torch(nw.dense(1), width=0), "width"),
    (lambda: to_torch(nw.dense(1), width=10**5), "8192"),
    (lambda: to_torch(nw.activation("erf"), width=4), "no PyTorch module"),
    (lambda: init_(nn.Sequential(nn.Linear(4, 4), nn.ReLU6())), "unrecognised"),
]


@pytest.mark.parametrize("call,message", BAD, ids=[m for _, m in BAD])
def test_invalid_arguments_are_refused(call, message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        call()
