"""The ``symgrad`` command line: every sub-command's arguments, and nothing else.

Building the parser imports only :mod:`argparse`, so ``symgrad --help`` is instant; the
sub-command that runs is imported afterwards (``symgrad.cli.<name>.run``).
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

__all__ = ["COMMANDS", "MEANFIELD_MODES", "build_parser"]

#: The sub-commands, in the order ``--help`` lists them (each is ``symgrad.cli.<name>``).
COMMANDS = ("list", "activation", "chain", "claims", "report", "crosscheck", "meanfield", "gain",
            "predict", "spectrum")
#: ``symgrad meanfield --mode`` choices: the values of :class:`symgrad.meanfield.MeanFieldMode`.
MEANFIELD_MODES = ("auto", "exact", "fast", "precise")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_activation_arguments(parser: argparse.ArgumentParser) -> None:
    """NAME and repeatable ``--param KEY=VALUE``."""
    parser.add_argument("name", metavar="NAME", help="activation name (see `symgrad list`)")
    parser.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                        help="activation parameter (repeatable), e.g. alpha=0.2")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symgrad",
        description="The vanishing and exploding gradient problem, made exact.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        _ADD[name](sub)
    return parser


_LIST_EPILOG = """\
examples:
  symgrad list
  symgrad list --json
"""

def _list(sub: Any) -> None:
    parser = sub.add_parser(
        "list",
        help="list the registered activations",
        description="List every registered activation with its parameters and reference.",
        epilog=_LIST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="list")

_ACTIVATION_EPILOG = """\
examples:
  symgrad activation sigmoid
  symgrad activation tanh --eps 0.1 --eps 0.001
  symgrad activation leaky_relu --param alpha=0.2 --json
"""

def _activation(sub: Any) -> None:
    parser = sub.add_parser(
        "activation",
        help="φ, φ', sup |φ'| and saturation thresholds of one activation",
        description="Print φ, φ', the supremum of |φ'| with where it is reached, and the "
        "saturation thresholds {z : |φ'(z)| < ε} for each --eps (default 0.1, 0.01, 0.001).",
        epilog=_ACTIVATION_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_activation_arguments(parser)
    parser.add_argument("--eps", metavar="E", action="append", default=[],
                        help="saturation tolerance ε > 0 (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="activation")

_CHAIN_EPILOG = """\
examples:
  symgrad chain sigmoid --depth 4 --weight 0.1            the classic worked example
  symgrad chain sigmoid --depth 4 --weight 0.1,0.2,0.3,0.4 --lr 0.5
  symgrad chain sigmoid --depth 1000000 --weight 0.9 --rows 6
  symgrad chain relu --depth 50 --weight 0.5 --residual --json
  symgrad chain leaky_relu --param alpha=0.2 --depth 5 --weight -1
"""

def _chain(sub: Any) -> None:
    parser = sub.add_parser(
        "chain",
        help="trace a scalar chain forward and backward, exactly",
        description="Trace a_k = φ(w_k a_{k−1} + b_k) (or, with --residual, "
        "y_k = y_{k−1} + w_k φ(y_{k−1} + b_k)) forward and backward in mpmath and print "
        "z_k, a_k, φ'(z_k), ∂L/∂a_k, ∂L/∂z_k, ∂L/∂w_k per layer.",
        epilog=_CHAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help="activation name (see `symgrad list`)")
    parser.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                        help="activation parameter (repeatable), e.g. alpha=0.2")
    parser.add_argument("--depth", metavar="D", required=True, type=int, help="number of layers")
    parser.add_argument("--weight", metavar="W", required=True,
                        help="weight: one number, or one per layer separated by commas")
    parser.add_argument("--bias", metavar="B", default="0",
                        help="bias: one number or one per layer (default 0)")
    parser.add_argument("--x", metavar="X", default="1", help="input a_0 (default 1)")
    parser.add_argument("--upstream", metavar="G", default="1",
                        help="∂L/∂a_depth arriving at the top (default 1)")
    parser.add_argument("--lr", metavar="LR", default=None,
                        help="learning rate: adds the update −lr·∂L/∂w_k")
    parser.add_argument("--residual", action="store_true", help="trace the residual chain")
    parser.add_argument("--dps", metavar="N", type=int, default=30,
                        help="significant digits (default 30)")
    parser.add_argument("--rows", metavar="N", type=int, default=20,
                        help="rows shown; the middle is elided past N (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="chain")

_CLAIMS_EPILOG = """\
example:
  $ cat claims.toml
  [[claim]]
  id = "sigmoid-below-0.1-beyond-2"
  text = "The sigmoid gradient is below 0.1 beyond |z| = 2."
  kind = "slope_below_beyond"
  activation = "sigmoid"
  beyond = 2
  bound = "1/10"
  $ symgrad claims claims.toml --json

kinds: slope_max, slope_at, slope_below_beyond, weight_bound, chain_gradient,
chain_ratio, init_variance (see `python -c "import symgrad.claims; help(symgrad.claims)"`).
exit status: 0 every claim holds, 1 some claim fails, 2 some claim could not be checked.
"""

def _claims(sub: Any) -> None:
    parser = sub.add_parser(
        "claims",
        help="check quantitative claims about gradients from a TOML file",
        description="Check each [[claim]] in FILE against symgrad's derivations: "
        "verdict (holds/fails), computed value, and a witness z for a failed universal claim.",
        epilog=_CLAIMS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="TOML file with [[claim]] tables")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {id, verdict, value, witness, ...}")
    parser.set_defaults(command="claims")

_REPORT_EPILOG = """\
examples:
  symgrad report                         regenerate proofs/ (atomically)
  symgrad report --check                 exit 1 and print a diff if proofs/ is stale
  symgrad report -j 1                    the same, in this process alone
  symgrad report --only sigmoid-bound --out /tmp/proofs
  symgrad report --list
  symgrad report --plugin mymodule --activation bent --out my-reports
                                         your own activation's report (mymodule
                                         registers it with register_activation)
"""

def _report(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="regenerate the derivation reports in proofs/",
        description="Regenerate every derivation report (Markdown + LaTeX + SVG) "
        "deterministically; with --check, write nothing and fail on drift.",
        epilog=_REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", metavar="DIR", default="proofs",
                        help="output directory (default: proofs)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; print a unified diff and exit 1 if DIR is stale")
    parser.add_argument("--only", metavar="NAME", action="append",
                        help="only this report (repeatable); see --list")
    parser.add_argument("--jobs", "-j", metavar="N", type=int, default=None,
                        help="build the reports on N worker processes (same output; "
                             "default: the CPUs this process may use)")
    parser.add_argument("--list", action="store_true", help="list the report names and exit")
    parser.add_argument("--plugin", metavar="MODULE", action="append",
                        help="import MODULE (or call MODULE:FUNCTION) first: the activations"
                             " it registers get reports like the catalogue's (repeatable)")
    parser.add_argument("--activation", metavar="NAME", action="append",
                        help="build this registered activation's report (repeatable); with"
                             " no --only, only these")
    parser.add_argument("--no-entry-points", action="store_true",
                        help="do not load the activations installed packages declare in the"
                             " 'symgrad.activations' entry-point group")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(command="report")

_CROSSCHECK_EPILOG = """\
examples:
  symgrad crosscheck
  symgrad crosscheck --check he_vs_xavier --check lstm_carousel --seed 3
  symgrad crosscheck --list
  symgrad crosscheck --json

exit status: 0 when every row is within its tolerance, 1 when one is not, 2 on bad input.
"""

def _crosscheck(sub: Any) -> None:
    parser = sub.add_parser(
        "crosscheck",
        help="check closed forms against simulated networks",
        description="Compare symgrad's closed forms with NumPy simulations; statistical rows"
                    " use z·SE tolerances, exact rows float64 rounding bounds.",
        epilog=_CROSSCHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--check", action="append", metavar="NAME",
                        help="run only this check (repeatable; see --list)")
    parser.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    parser.add_argument("-z", type=float, default=4.5, help="z of the z·SE tolerance")
    parser.add_argument("--list", action="store_true", help="list the check names and exit")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="crosscheck")

_MEANFIELD_EPILOG = """\
examples:
  symgrad meanfield tanh --sigma-w 1.5 --sigma-b 0.05
  symgrad meanfield relu --sigma-w 1.2 --sigma-b 0.1 --json
  symgrad meanfield tanh --sigma-w 10 --sigma-b 0.5 --mode precise
"""

def _meanfield(sub: Any) -> None:
    parser = sub.add_parser(
        "meanfield",
        help="mean-field q*, χ₁, c*, depth scales and phase of a wide network",
        description="Solve the mean-field variance and correlation maps of a wide random "
        "network (W_ij ~ N(0, σ_w²/n), b_i ~ N(0, σ_b²)): q*, χ₁, c*, χ_c*, ξ_c, ξ_∇ and "
        "the phase (Poole et al. 2016; Schoenholz et al. 2017).",
        epilog=_MEANFIELD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_activation_arguments(parser)
    parser.add_argument("--sigma-w", metavar="W", required=True, help="weight scale σ_w > 0")
    parser.add_argument("--sigma-b", metavar="B", required=True, help="bias scale σ_b ≥ 0")
    parser.add_argument("--mode", choices=MEANFIELD_MODES, default="auto",
                        help="exact closed forms (auto where they exist), fast quadrature or "
                        "mpmath precise")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="meanfield")

_GAIN_EPILOG = """\
examples:
  symgrad gain tanh
  symgrad gain leaky_relu --param alpha=0.2 --json
"""

def _gain(sub: Any) -> None:
    parser = sub.add_parser(
        "gain",
        help="weight gain of an activation by second moment and by criticality",
        description="The gain g (Var(w) = g²/fan_in) that preserves the forward second "
        "moment, 1/√E[φ(Z)²], and the one that makes χ₁ = 1 at σ_b = 0 (mean field).",
        epilog=_GAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_activation_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="gain")


_PREDICT_EPILOG = """\
examples:
  symgrad predict --arch "repeat(residual(serial(dense(1.0), activation(relu)), scale=0.5), 50)"
  symgrad predict --arch "pre_ln(relu, 40)"                 J^(40,0) = 21 exactly
  symgrad predict --arch "mlp(tanh, 20, init=xavier_normal)" --json
  symgrad predict --arch "fixup(relu, 100, m=3, last=0.5)" --rows 6

SPEC is parsed, never evaluated: calls dense(σ_w, σ_b, init=…), activation(NAME),
layernorm(eps=…), batchnorm(batch=…), residual(BRANCH, scale=…), serial(…),
repeat(BLOCK, DEPTH) and the recipes mlp, resnet, pre_ln, post_ln, bn_mlp, rezero,
fixup (e.g. mlp(tanh, 20, sigma_w=1.2)); numbers are exact (0.1 is 1/10), L is the
depth, sqrt and pi are known.  Exit status 2 on a bad SPEC, with one line saying where.
"""

def _predict(sub: Any) -> None:
    parser = sub.add_parser(
        "predict",
        help="per-layer gradients, weight gradients and the depth law of an architecture",
        description="Predict, at infinite width and from the input's second moment q0, the "
        "per-layer second moments, averaged partial Jacobians J^{L,l}, weight-gradient norms "
        "and the depth law (exponential, power, stretched exponential or bounded) of an "
        "architecture written as text.",
        epilog=_PREDICT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--arch", metavar="SPEC", required=True,
                        help="the architecture, e.g. \"pre_ln(relu, 40)\"")
    parser.add_argument("--q0", metavar="Q", default="1",
                        help="second moment of the input per unit (default 1)")
    parser.add_argument("--c0", metavar="C", default=None,
                        help="correlation of a second input (tracks the correlation map)")
    parser.add_argument("--width", metavar="N", type=int, default=None,
                        help="scale the weight-gradient norms by N² (default: per N²)")
    parser.add_argument("--rows", metavar="N", type=int, default=12,
                        help="layers shown; the middle is elided past N (default 12)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="predict")


_SPECTRUM_EPILOG = """\
examples:
  symgrad spectrum relu --sigma-w 1.4142135623730951 --depth 10
  symgrad spectrum tanh --sigma-w 1.4 --sigma-b 0.3 --depth 10 --weights orthogonal
  symgrad spectrum relu --sigma-w 2 --depth L --moments 3       moments as polynomials in L
  symgrad spectrum erf --sigma-w 1.2 --sigma-b 0.1 --depth 20 --density-points 100 --json
  symgrad spectrum tanh --sigma-w 1.3956 --sigma-b 0.3 --widths 128,128,128,128

With --widths n_0,…,n_L: the finite-width law of ln X, X = ‖J u‖² (E ln X, Var ln X,
P(X = 0)), exact for relu and linear nets, the β-expansion otherwise.
"""

def _spectrum(sub: Any) -> None:
    parser = sub.add_parser(
        "spectrum",
        help="singular values of the input-output Jacobian; finite-width gradient norms",
        description="The spectrum of JJᵀ for a deep random net at its mean-field fixed "
        "point (moments m_k by free probability, m_2/m_1² − 1, the edge λ_max, the density), "
        "Pennington, Schoenholz and Ganguli 2017; or, with --widths, the law of ln‖Ju‖² of "
        "one finite-width net (Hanin 2018).",
        epilog=_SPECTRUM_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_activation_arguments(parser)
    parser.add_argument("--sigma-w", metavar="W", required=True, help="weight scale σ_w > 0")
    parser.add_argument("--sigma-b", metavar="B", default="0", help="bias scale σ_b ≥ 0 "
                        "(default 0)")
    parser.add_argument("--depth", metavar="L", default=None,
                        help="number of layers, or a symbol such as L")
    parser.add_argument("--weights", choices=("gaussian", "orthogonal"), default="gaussian",
                        help="Gaussian or Haar-orthogonal weight matrices (default gaussian)")
    parser.add_argument("--moments", metavar="K", type=int, default=None,
                        help="moments m_1 … m_K (default 4, at most 12)")
    parser.add_argument("--density-points", metavar="N", type=int, default=0,
                        help="sample the density at about N points (default 0: none)")
    parser.add_argument("--widths", metavar="N0,...,NL", default=None,
                        help="widths n_0,…,n_L: print the law of ln‖Ju‖² instead")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(command="spectrum")


_ADD = {
    "list": _list, "activation": _activation, "chain": _chain, "claims": _claims,
    "report": _report, "crosscheck": _crosscheck, "meanfield": _meanfield, "gain": _gain,
    "predict": _predict,
    "spectrum": _spectrum,
}
