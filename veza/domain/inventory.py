"""Gear inventory rules: what a gear record may hold, checked before any SQL runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from veza.domain.errors import Invalid

CONDITIONS = ("new", "good", "fair", "poor", "broken")
STATUSES = ("active", "in_repair", "sold", "archived")
TEXT_LIMITS = {"name": 200, "brand": 200, "model": 200, "serial_number": 200, "category": 100, "notes": 5000}


def clean_gear(fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Trimmed, checked fields; a blank name is refused, blank optional text becomes NULL."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, str) and name in TEXT_LIMITS:
            value = value.strip()
            if name == "name" and not value:
                raise Invalid("name must not be blank", details={"name": "blank"})
            if name != "notes" and not value:
                value = None
        out[name] = value
    if creating and "name" not in out:
        raise Invalid("Missing required field 'name'", details={"name": "required"})
    if out.get("currency") is not None:
        out["currency"] = out["currency"].upper()
    if out.get("purchase_price_cents") is not None and out.get("currency") is None and creating:
        raise Invalid("currency is required with purchase_price_cents", details={"currency": "required"})
    return out


def parse_date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(field)
    except ValueError:
        return _bad_date(field)


def _bad_date(field: str) -> dt.date:
    raise Invalid(f"{field} must be a date YYYY-MM-DD", details={field: "not a YYYY-MM-DD date"})
