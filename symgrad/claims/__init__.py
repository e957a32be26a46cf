"""Is this statement about gradients true?  Claims as TOML, checked exactly.
"""

from symgrad.claims.audit import (
    ClaimKind,
    ClaimResult,
    Verdict,
    check_claims,
    check_claims_text,
)

__all__ = [
    "ClaimKind",
    "ClaimResult",
    "Verdict",
    "check_claims",
    "check_claims_text",
]
