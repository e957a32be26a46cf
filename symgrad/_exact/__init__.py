"""How a number becomes exact or certified — the private layer every question uses.

It works on SymPy expressions in the shared symbol ``z`` and never imports a
question: signs and comparisons of closed forms (``signs``), the precision policy
(``precision``), exact roots (``roots``), interval enclosures (``intervals``), root
isolation and refinement with proofs (``certify``), Gaussian integrals in closed form
(``moments``) and by panel quadrature with error estimates (``gauss_rule``), and
cancellation-free mpmath forms (``mpforms``).
"""

