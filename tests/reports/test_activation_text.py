"""The text of the activation reports: LaTeX only, named constants, short rows, and every
simplified form equal to the record's (checked independently with mpmath at 50 digits)."""

from __future__ import annotations

import re

import mpmath
import pytest
import sympy

from symgrad._core.symbols import z
from symgrad.activations.registry import activation, activation_names
from symgrad.reports.pages.activation import build_for
from symgrad.reports.pages.activation_family import family_rows, is_scale_family
from symgrad.reports.pages.activation_profile import activation_profile
from symgrad.reports.pages.activation_text import tidy_for

#: Plain SymPy text a reader should never see outside math: a product or power written
#: with asterisks, or a call in SymPy's spelling (sqrt(2), exp(1/2); erf(x) is also how
#: people write it).
PLAIN_SYMPY = re.compile(r"\*\*|\w\*\w|\*\(|\)\*|\b(sqrt|exp|log|pi|oo)\(|\bE\*")
MAX_ROW = 200


def _page(name: str) -> str:
    outputs = build_for(name)
    return next(o.content.decode() for o in outputs if o.path.endswith(".md"))


def _outside_math(text: str) -> str:
    """The page with math blocks, inline math, code spans and the HTML comment removed."""
    text = re.sub(r"```math\n.*?\n```", "", text, flags=re.S)
    text = re.sub(r"\$`.*?`\$", "", text)
    text = re.sub(r"`[^`]*`", "", text)
    return re.sub(r"<!--.*?-->", "", text)


def _problems(text: str) -> list[str]:
    found = []
    for line in _outside_math(text).splitlines():
        line = re.sub(r"^\*\*Step \d+\.\*\* ", "", line)  # the bold step label
        if PLAIN_SYMPY.search(line):
            found.append(f"plain SymPy text: {line[:120]}")
        if "*" in line:
            found.append(f"an asterisk outside math: {line[:120]}")
    for line in text.splitlines():
        if line.startswith("|") and len(line) > MAX_ROW:
            found.append(f"table row of {len(line)} characters: {line[:80]}")
    return found


# ---- SELU: λ and α named, γ = λα ----

@pytest.fixture(scope="module")
def selu_page() -> str:
    return _page("selu")


def test_selu_names_lambda_and_alpha_and_its_results_have_no_erfc(selu_page: str) -> None:
    assert r"\lambda = " in selu_page and r"\alpha = " in selu_page
    results = selu_page.split("## Results")[1].split("## Saturation")[0]
    table = [line for line in results.splitlines() if line.startswith("|")]
    assert table and not any("erfc" in line for line in table)
    assert r"$`\alpha \lambda`$" in results  # γ = sup|φ'| = φ'(0⁻) = λα
    saturation = selu_page.split("## Saturation")[1].split("## Derivation")[0]
    assert "erfc" not in saturation
    assert "1.75809934085" in results and "1.67326324235" in selu_page


def test_selu_page_has_no_plain_sympy_and_short_rows(selu_page: str) -> None:
    assert _problems(selu_page) == []


# ---- softsign: |z| forms ----

def test_softsign_prints_its_slope_in_the_abs_form() -> None:
    page = _page("softsign")
    assert r"\varphi'(z) = \frac{1}{\left(\left|{z}\right| + 1\right)^{2}}" in page
    assert r"\varphi(z) = \frac{z}{\left|{z}\right| + 1}" in page
    assert r"\pm \left(-1 + \frac{1}{\sqrt{\epsilon}}\right)" in page  # t(ε) = ±(1/√ε − 1)
    assert r"\pm (-1 + \sqrt{10})" in page  # ε = 1/10, was 9/(1 + √10)
    assert _problems(page) == []


# ---- the printed forms equal the originals ----

def _mp(expr: sympy.Expr, at: float | None = None) -> mpmath.mpf:
    """An expression's value by mpmath alone (lambdify), at z = ``at``."""
    f = sympy.lambdify(z, expr, modules="mpmath")
    with mpmath.workdps(50):
        return mpmath.mpf(f(mpmath.mpf(at) if at is not None else mpmath.mpf(0)))


@pytest.mark.parametrize("name", ["selu", "softsign", "tanh", "sigmoid"])
def test_printed_forms_equal_the_records_at_50_digits(name: str) -> None:
    act = activation(name)
    p = activation_profile(act)
    tidy = tidy_for(act)
    values = {c.symbol: c.value for c in tidy.constants}
    originals = [act.expr, act.derivative, p.peak.value, p.expected_sq.value]
    originals += [t for _, s in p.saturations for t in (s.left_threshold, s.right_threshold)
                  if t is not None and not t.is_Float]
    for original in originals:
        shown = tidy.expr(original).xreplace(values)
        for at in (-3.1, -0.45, 0.0, 0.8, 2.6):
            with mpmath.workdps(50):
                a, b = _mp(shown, at), _mp(original, at)
                assert abs(a - b) <= mpmath.mpf(10) ** -45 * max(1, abs(b)), (name, original)


def test_selu_gamma_is_lambda_alpha_and_two_over_root_d() -> None:
    act = activation("selu")
    lam, alpha = act.param("scale"), act.param("alpha")
    gamma = activation_profile(act).peak.value
    with mpmath.workdps(50):
        # λ and α from Klambauer et al. (2017), eq. 14, by mpmath alone
        e1 = mpmath.erfc(1 / mpmath.sqrt(2)) * mpmath.sqrt(mpmath.e)
        a = -mpmath.sqrt(2 / mpmath.pi) / (e1 - 1)
        d = (2 * mpmath.erfc(mpmath.sqrt(2)) * mpmath.e**2 + mpmath.pi * e1**2
             - 2 * (2 + mpmath.pi) * e1 + mpmath.pi + 2)
        lam_ref = (1 - e1) * mpmath.sqrt(2 * mpmath.pi) / mpmath.sqrt(d)
        assert abs(_mp(lam) - lam_ref) < mpmath.mpf(10) ** -45
        assert abs(_mp(alpha) - a) < mpmath.mpf(10) ** -45
        assert abs(_mp(gamma) - lam_ref * a) < mpmath.mpf(10) ** -45
        assert abs(_mp(gamma) - 2 / mpmath.sqrt(d)) < mpmath.mpf(10) ** -45


# ---- swish(β): one parametric page ----

def test_swish_is_the_parametric_family_and_silu_points_to_it() -> None:
    assert is_scale_family(activation("swish"))
    assert not is_scale_family(activation("silu")) and not is_scale_family(activation("elu"))
    swish, silu = _page("swish"), _page("silu")
    assert swish.replace("swish", "silu") != silu
    assert "argmax(β)" in swish and r"\gamma(\beta)" in swish
    assert "(activation-swish.md)" in silu and "(activation-silu.md)" in swish
    assert _problems(swish) == [] and _problems(silu) == []


def test_swish_gamma_does_not_depend_on_beta_and_the_argmax_scales() -> None:
    rows = family_rows(activation_profile("swish"))
    assert {r.beta for r in rows} >= {sympy.Rational(1, 2), 1, 2}
    found = []
    for r in rows:
        assert r.ok
        # independent of the page: |swish_β'| maximised by mpmath from scratch
        with mpmath.workdps(40):
            b = mpmath.mpf(r.beta.p) / r.beta.q

            def slope(x: mpmath.mpf, b: mpmath.mpf = b) -> mpmath.mpf:
                s = 1 / (1 + mpmath.exp(-b * x))
                return s + b * x * s * (1 - s)

            at = mpmath.findroot(lambda x: mpmath.diff(slope, x), 2.4 / b)
            assert abs(slope(at) - mpmath.mpf(sympy.N(r.gamma, 40))) < 1e-25
            assert abs(at - mpmath.mpf(sympy.N(r.argmax, 40))) < 1e-25
            found.append((slope(at), at * b))
    # the same peak for every β, at β·argmax(β) = argmax(1)
    with mpmath.workdps(40):
        assert all(abs(g - found[0][0]) < 1e-25 and abs(a - found[0][1]) < 1e-25
                   for g, a in found)


# ---- every activation page ----

@pytest.mark.slow  # renders all 17 activation pages (a few minutes)
@pytest.mark.parametrize("name", activation_names())
def test_every_activation_page_is_latex_only_with_short_rows(name: str) -> None:
    page = _page(name)
    assert _problems(page) == [], name
    assert "(README.md)" in page
    if not is_scale_family(activation(name)):
        assert "(meanfield.md)" in page and "χ₁" in page


def test_a_set_closed_on_one_side_is_not_written_as_abs_z() -> None:
    """hard_tanh's φ' at the kink z = −1 is the left piece's 0 (the convention), at z = 1
    the middle piece's 1: the saturated set is (−∞, −1] ∪ (1, ∞), not |z| > 1."""
    from symgrad.slopes import saturation

    region = saturation("hard_tanh", sympy.Rational(1, 10)).region
    assert region.contains(-1) == sympy.true and region.contains(1) == sympy.false
    text = build_for("hard_tanh")[0].content.decode()
    row = next(line for line in text.splitlines() if line.startswith("| $`10^{-1}`$ |"))
    assert r"(-\infty, -1] \cup (1, \infty)" in row and r"\|z\|" not in row
