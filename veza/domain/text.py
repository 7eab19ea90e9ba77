"""The rule for required text, wherever a field is required: trimmed, and never blank."""

from __future__ import annotations

from veza.domain.errors import Invalid


def required(value: str, field: str) -> str:
    """`value` trimmed; blank (nothing but white space) is refused as `field`'s problem."""
    value = value.strip()
    if not value:
        raise Invalid(f"{field} must not be blank", details={field: "blank"})
    return value
