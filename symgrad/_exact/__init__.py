"""How a number becomes exact or certified — the private layer every question uses.

It works on SymPy expressions in the shared symbol ``z`` and never imports a
question.  Closed forms: signs and comparisons (``signs``), exact roots (``roots``),
cancellation-free mpmath forms (``mpforms``), the precision policy (``precision``).
The Arb ball-arithmetic engine: ``ball`` writes expressions as code on balls, its rules
in ``ball_rules`` (ranges, complex) and ``ball_dual`` (derivatives), its constants
enclosed by ``ball_constants``, compiled by ``ball_function``; ``digits`` prints only
proven digits (``CertifiedNumber``); ``tails`` (+ ``tail_terms``, ``tail_bounds``,
``combine``: ``together`` with cached terms) writes f near ±∞ as scale × bounded;
``limits`` reads limits at ±∞ off it; ``isolate`` (+ ``isolation``) finds every root
with a completeness proof; ``enclose`` encloses values at certified points;
``integrate`` integrates against a Gaussian rigorously (the one quadrature fallback,
labelled estimated, lives there too); ``gaussian_rules`` (+ ``parity``,
``erf_moments`` — the one closed-form Gaussian integral rule —, ``logistic``) gives
exact Gaussian expectations by rule. ``gauss_rule`` is the float64
panel quadrature of the fast numeric modes.
"""
