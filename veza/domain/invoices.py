"""Invoices: what an invoice of a paid order says, and its PDF (fpdf2).

`render_pdf` is CPU work: callers run it in the CPU pool, never on the event loop. The
number is fixed at first issue (`store.orders.invoice_number`), so re-downloading an
invoice never renumbers it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import Conflict, Forbidden, NotFound
from veza.domain.marketplace import INVOICED_STATUSES, Principal, order_role
from veza.store import orders as order_store

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}


@dataclasses.dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    issued_at: dt.datetime
    order_id: UUID
    buyer: str
    status: str
    currency: str
    lines: list[dict[str, Any]]  # title, seller, quantity, unit_price_cents
    subtotal_cents: int
    total_cents: int
    paid_at: dt.datetime | None
    refunded_at: dt.datetime | None


async def invoice_for(conn: asyncpg.Connection, viewer: Principal, order_id: UUID) -> Invoice:
    order = await order_store.get(conn, order_id)
    role = order_role(order, viewer)
    if role is None:
        raise NotFound("Order not found")
    if role != "buyer":
        raise Forbidden("Only the buyer can download the invoice")
    if order["status"] not in INVOICED_STATUSES:
        raise Conflict("An invoice is issued once the order is paid", details={"status": order["status"]})
    number, issued_at = await order_store.invoice_number(conn, order_id, order["paid_at"].year)
    names = await order_store.seller_names(conn, [i["seller_id"] for i in order["items"] if i["seller_id"]])
    buyer = (await order_store.seller_names(conn, [viewer.user_id])).get(viewer.user_id, "")
    lines = [{"title": i["title"], "seller": names.get(i["seller_id"], "(deleted account)"),
              "quantity": i["quantity"], "unit_price_cents": i["unit_price_cents"]} for i in order["items"]]
    return Invoice(number, issued_at, order_id, buyer, order["status"], order["currency"], lines,
                   order["subtotal_cents"], order["total_cents"], order["paid_at"], order["refunded_at"])


def money(cents: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{cents:,} {currency}"
    return f"{cents // 100:,}.{cents % 100:02d} {currency}"


def _day(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d") if moment else "-"


def render_pdf(invoice: Invoice) -> bytes:
    """The invoice as an A4 PDF. DejaVu (installed with the system packages) covers the
    names and titles people actually use; without it, the core font's Latin-1 is used."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_creator("Veza")
    if (FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("body", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        family, clean = "body", (lambda text: text)
    else:
        family, clean = "helvetica", (lambda text: text.encode("latin-1", "replace").decode("latin-1"))
    pdf.add_page()
    pdf.set_font(family, "B", 20)
    pdf.cell(0, 10, "Veza", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 14)
    pdf.cell(0, 9, clean(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    for label, value in (("Issued", _day(invoice.issued_at)), ("Order", str(invoice.order_id)),
                         ("Paid", _day(invoice.paid_at)), ("Billed to", invoice.buyer)):
        pdf.cell(28, 6, label)
        pdf.cell(0, 6, clean(value), new_x="LMARGIN", new_y="NEXT")
    if invoice.status in ("refunded", "refund_pending"):
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.set_text_color(180, 30, 30)
        note = (f"REFUNDED on {_day(invoice.refunded_at)}: this order was refunded in full."
                if invoice.status == "refunded" else "A refund of this order is in progress.")
        pdf.multi_cell(0, 7, clean(note), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(5)
    widths = (72, 44, 14, 30, 30)
    pdf.set_font(family, "B", 10)
    pdf.set_fill_color(235, 235, 235)
    for width, title, align in zip(widths, ("Item", "Seller", "Qty", "Unit price", "Amount"),
                                   ("L", "L", "R", "R", "R")):
        pdf.cell(width, 8, title, border="B", align=align, fill=True)
    pdf.ln()
    pdf.set_font(family, "", 10)
    for line in invoice.lines:
        amount = line["unit_price_cents"] * line["quantity"]
        cells = (line["title"][:48], line["seller"][:28], str(line["quantity"]),
                 money(line["unit_price_cents"], invoice.currency), money(amount, invoice.currency))
        for width, text, align in zip(widths, cells, ("L", "L", "R", "R", "R")):
            pdf.cell(width, 7, clean(text), align=align)
        pdf.ln()
    pdf.ln(2)
    pdf.set_font(family, "", 10)
    pdf.cell(sum(widths[:4]), 7, "Subtotal", align="R")
    pdf.cell(widths[4], 7, money(invoice.subtotal_cents, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 11)
    pdf.cell(sum(widths[:4]), 8, "Total", align="R", border="T")
    pdf.cell(widths[4], 8, money(invoice.total_cents, invoice.currency), align="R", border="T",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(family, "", 8)
    pdf.set_text_color(110, 110, 110)
    pdf.multi_cell(0, 4, "Sold through the Veza marketplace on behalf of the sellers named above. "
                         "Amounts are in " + invoice.currency + ".")
    return bytes(pdf.output())
