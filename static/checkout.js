// The sandbox checkout page: shows an order and lets the buyer pay or decline it. The
// sandbox provider then delivers a signed webhook to /webhooks/hyperswitch, exactly as
// Hyperswitch would, and the page watches the order change state.

import { Api, wireSignIn } from "./chat-api.js";

const api = new Api();
const $ = (id) => document.getElementById(id);
const orderId = new URLSearchParams(location.search).get("order");
const FINAL = { paid: "Payment received: thank you!", failed: "Payment declined.", expired: "This order expired." };

function money(cents, currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100);
}

function render(order) {
  $("order-id").textContent = order.id;
  $("lines").replaceChildren(...order.items.map((item) => {
    const row = document.createElement("tr");
    for (const text of [item.title, String(item.quantity), money(item.unit_price_cents, order.currency),
      money(item.unit_price_cents * item.quantity, order.currency)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
  $("total").textContent = money(order.total_cents, order.currency);
  $("order-status").textContent = order.status;
  $("expires").textContent = order.status === "pending" ? `(pay before ${new Date(order.expires_at).toLocaleTimeString()})` : "";
  $("actions").hidden = order.status !== "pending" || !order.payment || order.payment.provider !== "sandbox";
  const outcome = $("outcome");
  outcome.dataset.state = order.status;
  outcome.textContent = FINAL[order.status] || "";
}

async function load() {
  const order = await api.request("GET", `/marketplace/orders/${encodeURIComponent(orderId)}`);
  render(order);
  return order;
}

async function decide(order, outcome) {
  $("checkout-error").textContent = "";
  $("pay").disabled = $("decline").disabled = true;
  try {
    await api.request("POST", `/sandbox/payments/${encodeURIComponent(order.payment.payment_id)}/confirm`,
      { client_secret: order.payment.client_secret, outcome });
    // The webhook's first delivery is done when confirm answers; poll briefly for retries.
    for (let i = 0; i < 40; i++) {
      const current = await load();
      if (current.status !== "pending") return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (err) {
    $("checkout-error").textContent = err.message;
  } finally {
    $("pay").disabled = $("decline").disabled = false;
  }
}

async function start() {
  if (!orderId) {
    $("checkout").hidden = false;
    $("checkout-error").textContent = "No order given: open this page as checkout.html?order=<id>.";
    return;
  }
  if (!api.user) {
    $("auth").hidden = false;
    return;
  }
  $("me").textContent = api.user.username;
  $("checkout").hidden = false;
  try {
    const order = await load();
    $("pay").onclick = () => decide(order, "succeed");
    $("decline").onclick = () => decide(order, "decline");
  } catch (err) {
    $("checkout-error").textContent = err.message;
  }
}

wireSignIn(api, start);

start();
