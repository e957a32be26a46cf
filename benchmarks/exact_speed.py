"""How fast is the ball-arithmetic engine, against today's certified path, cold?

Run:  python benchmarks/exact_speed.py           (every catalogue activation)
      python benchmarks/exact_speed.py --quick   (sigmoid, gelu_tanh, mish)

Every number is measured in a fresh Python process (imports done, nothing computed
yet), since "the first max_slope" is what a user waits for.  Side by side, per activation:

* ``derivs``: SymPy's φ' and φ'' (``act.derivative``, ``act.second_derivative``), paid
  by old and new alike and timed first, so the columns after it exclude it;
* ``old max_slope`` / ``old saturation``: ``symgrad.max_slope(name)`` and
  ``symgrad.saturation(name, 1/100)`` as they are today (exact path where SymPy finds
  one, ``symgrad._roots.certified_roots`` otherwise);
* ``old roots``: today's certified path alone, ``certified_roots`` on φ'' and φ' ∓ 1/100
  for every smooth piece (what the engine replaces);
* ``new sup`` : the engine's share of a wired ``max_slope``: every root of φ'' with a
  completeness certificate (:func:`isolate_roots`), plus |φ'| enclosed at each (40 digits);
* ``new sat`` : the engine's share of a wired ``saturation``: every root of φ' ∓ 1/100;
* ``old E[φ'²]`` / ``new E[φ'²]``: ``symgrad.expected_slope(name, power=2)`` against
  :func:`gaussian_expectation` (exact by rules, certified otherwise).

The target once wired: first ``max_slope`` and first ``saturation`` each ≤ 1 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

SETUP = """
import json, time, sympy
from symgrad import activation
from symgrad._core.symbols import z
act = activation({name!r})
t = time.perf_counter(); act.derivative; act.second_derivative
derivs = time.perf_counter() - t
EPS = sympy.Rational(1, 100)
"""

OLD_MAX = SETUP + """
import symgrad
t = time.perf_counter(); symgrad.max_slope(act); out = time.perf_counter() - t
print(json.dumps({{"derivs": derivs, "t": out}}))
"""

OLD_SAT = SETUP + """
import symgrad
t = time.perf_counter(); symgrad.saturation(act, EPS); out = time.perf_counter() - t
print(json.dumps({{"t": out}}))
"""

OLD_ROOTS = SETUP + """
from symgrad._roots import certified_roots
t = time.perf_counter()
for p in act.pieces:
    d = p.derivative
    if d.has(z):
        for f in (sympy.diff(d, z), d - EPS, d + EPS):
            try:
                certified_roots(f, p.lo, p.hi)
            except Exception:
                pass
print(json.dumps({{"t": time.perf_counter() - t}}))
"""

NEW_SUP = SETUP + """
from symgrad._exact.isolate import isolate_roots
from symgrad._exact.enclose import enclose
t = time.perf_counter()
for p in act.pieces:
    d = p.derivative
    if d.has(z):
        for r in isolate_roots(sympy.diff(d, z), p.lo, p.hi, digits=40).roots:
            enclose(d, r, digits=40)
print(json.dumps({{"t": time.perf_counter() - t}}))
"""

NEW_SAT = SETUP + """
from symgrad._exact.isolate import isolate_roots
t = time.perf_counter()
for p in act.pieces:
    d = p.derivative
    if d.has(z):
        for f in (d - EPS, d + EPS):
            isolate_roots(f, p.lo, p.hi, digits=40)
print(json.dumps({{"t": time.perf_counter() - t}}))
"""

OLD_E = SETUP + """
import symgrad
t = time.perf_counter(); symgrad.expected_slope(act, power=2)
print(json.dumps({{"t": time.perf_counter() - t}}))
"""

NEW_E = SETUP + """
from symgrad._exact.gaussian_rules import gaussian_expectation
t = time.perf_counter()
pieces = [(p.lo, p.hi, p.derivative ** 2) for p in act.pieces]
gaussian_expectation(pieces if len(pieces) > 1 else pieces[0][2], q=1, digits=30)
print(json.dumps({{"t": time.perf_counter() - t}}))
"""


def fresh(code: str, name: str) -> dict[str, float]:
    """Run ``code`` for activation ``name`` in a new interpreter; its JSON line."""
    done = subprocess.run([sys.executable, "-c", code.format(name=name)], capture_output=True,
                          text=True, check=False, timeout=600)
    if done.returncode != 0:
        return {"t": float("nan"), "error": 1.0}
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="three activations only")
    args = parser.parse_args()
    from symgrad import activation_names

    names = ["sigmoid", "gelu_tanh", "mish"] if args.quick else list(activation_names())
    head = (f"{'activation':<13}{'derivs':>8}{'old max_slope':>15}{'old sat':>9}"
            f"{'old roots':>11}{'new sup':>9}{'new sat':>9}{'ratio':>7}"
            f"{'old E[φ′²]':>12}{'new E[φ′²]':>12}")
    print("seconds, each cell a fresh process; ratio = old roots / (new sup + new sat)")
    print(head)
    worst = 0.0
    for name in names:
        old_max = fresh(OLD_MAX, name)
        cells = [fresh(code, name)["t"] for code in (OLD_SAT, OLD_ROOTS, NEW_SUP, NEW_SAT,
                                                      OLD_E, NEW_E)]
        old_sat, old_roots, new_sup, new_sat, old_e, new_e = cells
        worst = max(worst, new_sup, new_sat)
        # piecewise-linear activations have nothing to isolate: no ratio
        ratio = (f"{old_roots / (new_sup + new_sat):.1f}" if new_sup + new_sat > 1e-3
                 else "—")
        print(f"{name:<13}{old_max.get('derivs', float('nan')):>8.3f}{old_max['t']:>15.3f}"
              f"{old_sat:>9.3f}{old_roots:>11.3f}{new_sup:>9.3f}{new_sat:>9.3f}{ratio:>7}"
              f"{old_e:>12.3f}{new_e:>12.3f}")
    print(f"slowest engine share (sup or sat, one activation): {worst:.3f} s")


if __name__ == "__main__":
    main()
