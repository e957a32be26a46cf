"""Is this statement about gradients true?  Claims as TOML, checked exactly.

:mod:`~symgrad.claims.audit` (:func:`check_claims`: the file format, every kind and
its fields), :mod:`~symgrad.claims.fields` (reading one claim),
:mod:`~symgrad.claims.kinds` (one function per kind) and
:mod:`~symgrad.claims.record` (the verdict record).
"""

from symgrad.claims.audit import check_claims, check_claims_text
from symgrad.claims.record import ClaimKind, ClaimResult, Verdict

__all__ = ["ClaimKind", "ClaimResult", "Verdict", "check_claims", "check_claims_text"]
