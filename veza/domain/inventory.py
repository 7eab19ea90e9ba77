"""Gear inventory rules: what a gear record, a document and a repair may hold, checked
before any SQL runs."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from veza.domain.cloud_garbage import Freer, discard
from veza.domain.cloud_types import detect, looks_like_markup
from veza.domain.errors import Conflict, Invalid, UnsupportedMediaType
from veza.domain.text import required
from veza.domain.unit_of_work import UnitOfWork
from veza.store import inventory as store

CONDITIONS = ("new", "good", "fair", "poor", "broken")
STATUSES = ("active", "in_repair", "sold", "archived")
TEXT_LIMITS = {"name": 200, "brand": 200, "model": 200, "serial_number": 200, "category": 100, "notes": 5000}


def clean_gear(fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Trimmed, checked fields; a blank name is refused, blank optional text becomes NULL."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, str) and name in TEXT_LIMITS:
            value = required(value, name) if name == "name" else value.strip()
            if name != "notes" and not value:
                value = None
        out[name] = value
    if creating and "name" not in out:
        raise Invalid("Missing required field 'name'", details={"name": "required"})
    if out.get("currency") is not None:
        out["currency"] = currency(out["currency"])
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


# ISO 4217 codes in use (funds and metals included), as of 2025.
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF
CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK
PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT
TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG
XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
""".split())


def currency(value: str | None, field: str = "currency") -> str | None:
    """An ISO 4217 code, upper-cased; None stays None."""
    if value is None:
        return None
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise Invalid(f"{field} must be an ISO 4217 currency code", details={field: "not an ISO 4217 code"})
    return code


# Documents ---------------------------------------------------------------------------------

DOCUMENT_TYPES = ("invoice", "manual", "warranty", "photo", "receipt", "other")
MAX_DOCUMENTS_PER_GEAR = 100
ACCEPTED_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp", "text/plain")
# What a claimed type or a file name extension means, to compare with the bytes.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
_EXTENSIONS = {"pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "jpe": "image/jpeg",
               "jfif": "image/jpeg", "png": "image/png", "webp": "image/webp", "txt": "text/plain",
               "text": "text/plain"}
_ACTIVE_EXTENSIONS = frozenset({"html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "js", "mjs"})
_UNCLAIMED = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})


def document_type(value: str | None) -> str:
    kind = (value or "").strip().lower()
    if kind not in DOCUMENT_TYPES:
        raise Invalid(f"type must be one of {', '.join(DOCUMENT_TYPES)}",
                      details={"type": "required" if not kind else "unknown type"})
    return kind


def _refuse(reason: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"Not an accepted document: {reason}",
                                details={"file": reason, "accepted_types": list(ACCEPTED_TYPES)})


def document_mime(head: bytes, complete: bool, claimed: str | None, filename: str | None) -> str:
    """The document's type from its bytes (PDF, JPEG, PNG, WebP or plain text), or a 415:
    markup (HTML, SVG, XML), any other type, or bytes that are not what the part's
    Content-Type or the file name's extension says."""
    extension = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if looks_like_markup(head) or extension in _ACTIVE_EXTENSIONS:
        raise _refuse("HTML, SVG and XML documents are not accepted")
    found = detect(head, complete)
    if found not in ACCEPTED_TYPES:
        raise _refuse(f"{found} is not accepted")
    claim = (claimed or "").split(";", 1)[0].strip().lower()
    claim = _ALIASES.get(claim, claim)
    if claim not in _UNCLAIMED and claim != found:
        raise _refuse(f"the bytes are {found}, not the claimed {claim}")
    by_name = _EXTENSIONS.get(extension)
    if by_name is not None and by_name != found:
        raise _refuse(f"the bytes are {found}, not what .{extension} says")
    return found


# Repairs -----------------------------------------------------------------------------------

def clean_repair(fields: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Trimmed, checked repair fields; the date defaults to today (UTC)."""
    description = (fields.get("description") or "").strip()
    if not description:
        raise Invalid("description is required", details={"description": "required"})
    provider = (fields.get("provider") or "").strip() or None
    out = {
        "repair_date": parse_date(fields.get("repair_date"), "repair_date") or today,
        "description": description,
        "cost_cents": fields.get("cost_cents"),
        "currency": currency(fields.get("currency")),
        "provider": provider,
    }
    if out["cost_cents"] is not None and out["currency"] is None:
        raise Invalid("currency is required with cost_cents", details={"currency": "required"})
    return out


# Changes that store or free document bytes ------------------------------------------------

async def add_document(uow: UnitOfWork, owner_id: UUID, gear_id: UUID, fields: dict[str, Any]) -> dict[str, Any]:
    """Record a stored document under the owner's gear (at most MAX_DOCUMENTS_PER_GEAR)."""
    await store.lock_gear(uow.conn, owner_id, gear_id)
    if await store.count_documents(uow.conn, gear_id) >= MAX_DOCUMENTS_PER_GEAR:
        raise Conflict(f"A gear item holds at most {MAX_DOCUMENTS_PER_GEAR} documents; delete one first",
                       details={"documents": "too many"})
    return await store.create_document(uow.conn, gear_id, fields)


async def delete_document(uow: UnitOfWork, freer: Freer, owner_id: UUID, gear_id: UUID, doc_id: UUID) -> None:
    key = await store.delete_document(uow.conn, owner_id, gear_id, doc_id)
    await discard(uow, freer, [key])


async def delete_gear(uow: UnitOfWork, freer: Freer, owner_id: UUID, gear_id: UUID) -> None:
    """The gear with its documents and repairs; the documents' bytes freed after commit."""
    await discard(uow, freer, await store.delete_gear(uow.conn, owner_id, gear_id))
