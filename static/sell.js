// The seller's page: payout account (Stripe Connect onboarding), balance, the last 30 days'
// sales as a bar chart, payouts, and sales arriving live as `notification` frames of kind
// "sale" on the socket.

import { Api, wireSignIn } from "./chat-api.js";
import { ChatSocket } from "./chat-socket.js";

const api = new Api();
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const DAYS = 30;
let currency = "EUR";
let days = new Map(); // "YYYY-MM-DD" -> {orders, gross_cents}

function money(cents, cur = currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency: cur }).format(cents / 100);
}

function isoDay(date) { return date.toISOString().slice(0, 10); }

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderAccount(status) {
  const button = $("onboard");
  let state = "not set up";
  if (status.connected && status.payouts_enabled) state = "payouts enabled";
  else if (status.connected && status.details_submitted) state = "under review";
  else if (status.connected) state = "onboarding not finished";
  $("account-state").textContent = state;
  $("account-state").dataset.state = state;
  $("account-provider").textContent = status.provider === "sandbox" ? "(sandbox Connect: no real money moves)" : "";
  button.hidden = status.connected && status.payouts_enabled;
  button.textContent = status.connected ? "Continue onboarding" : "Set up payouts";
}

function renderBalance(balance) {
  currency = balance.currency || currency;
  $("available").textContent = money(balance.available);
  $("pending").textContent = money(balance.pending);
}

function renderChart() {
  const chart = $("chart");
  const today = new Date();
  const series = [];
  for (let i = DAYS - 1; i >= 0; i--) {
    const day = isoDay(new Date(today.getTime() - i * 86400000));
    series.push([day, days.get(day) || { orders: 0, gross_cents: 0 }]);
  }
  const top = Math.max(1, ...series.map(([, d]) => d.gross_cents));
  const width = 600 / DAYS;
  const nodes = [];
  series.forEach(([day, d], i) => {
    const height = Math.round((d.gross_cents / top) * 130);
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("class", i === DAYS - 1 ? "bar today" : "bar");
    bar.setAttribute("x", String(i * width + 2));
    bar.setAttribute("y", String(140 - height));
    bar.setAttribute("width", String(width - 4));
    bar.setAttribute("height", String(Math.max(height, d.gross_cents ? 2 : 0)));
    bar.dataset.day = day;
    bar.dataset.gross = String(d.gross_cents);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${day}: ${money(d.gross_cents)} (${d.orders} orders)`;
    bar.append(title);
    nodes.push(bar);
    if (i % 7 === (DAYS - 1) % 7) { // a label a week, the last one today
      const label = document.createElementNS(SVG, "text");
      const last = i === DAYS - 1;
      label.setAttribute("x", String(last ? 600 : i * width + 2));
      if (last) label.setAttribute("text-anchor", "end");
      label.setAttribute("y", "155");
      label.textContent = day.slice(5);
      nodes.push(label);
    }
  });
  chart.replaceChildren(...nodes);
  const totals = series.reduce((acc, [, d]) => [acc[0] + d.gross_cents, acc[1] + d.orders], [0, 0]);
  $("sales-total").textContent = money(totals[0]);
  $("sales-orders").textContent = String(totals[1]);
}

function renderTransfers(list) {
  $("transfers").replaceChildren(...list.transfers.map((t) => {
    const row = document.createElement("tr");
    row.dataset.id = t.id;
    const status = document.createElement("span");
    status.className = "status";
    status.dataset.status = t.status;
    status.textContent = t.status.replace("_", " ");
    if (t.last_error && t.status === "failed") status.title = t.last_error;
    const statusCell = cell("");
    statusCell.append(status);
    row.append(cell(new Date(t.created_at).toLocaleString()), cell(t.order_id.slice(0, 8)),
      cell(money(t.amount_cents, t.currency), "money"), cell(money(t.platform_fee_cents, t.currency), "money"), statusCell);
    return row;
  }));
  $("transfers-empty").hidden = list.transfers.length > 0;
}

async function loadSales() {
  const sales = await api.request("GET", "/sell/sales");
  currency = sales.currency || currency;
  days = new Map(sales.days.map((d) => [d.day, { orders: d.orders, gross_cents: d.gross_cents }]));
  renderChart();
}

async function loadMoney() {
  const [balance, transfers] = await Promise.all([
    api.request("GET", "/sell/balance"), api.request("GET", "/sell/transfers?limit=20")]);
  renderBalance(balance);
  renderTransfers(transfers);
}

function liveSale(note) {
  const data = note.data || {};
  const today = isoDay(new Date());
  const current = days.get(today) || { orders: 0, gross_cents: 0 };
  days.set(today, { orders: current.orders + 1, gross_cents: current.gross_cents + (data.amount_cents || 0) });
  renderChart();
  const item = document.createElement("li");
  item.className = "new";
  const what = (data.items || []).map((i) => `${i.title} × ${i.quantity}`).join(", ");
  item.textContent = `New sale: ${what || "an order"}, ${money(data.amount_cents || 0, data.currency || currency)}`;
  $("live-sales").prepend(item);
  while ($("live-sales").children.length > 10) $("live-sales").lastElementChild.remove();
  setTimeout(() => loadMoney().catch(() => {}), 500); // its payout row is there now
}

function connectLive() {
  const socket = new ChatSocket(() => api.chatToken());
  socket.addEventListener("status", (event) => {
    $("live").dataset.state = event.detail.state;
    $("live").textContent = event.detail.state;
  });
  socket.addEventListener("frame", (event) => {
    const frame = event.detail;
    if (frame.type !== "notification" || !frame.notification) return;
    if (frame.notification.kind === "sale") liveSale(frame.notification);
    if (frame.notification.kind === "transfer_failed") loadMoney().catch(() => {});
  });
  socket.start();
}

async function onboard() {
  $("account-error").textContent = "";
  $("onboard").disabled = true;
  try {
    const { onboarding_url: url } = await api.request("POST", "/sell/connect/onboard");
    location.assign(url);
  } catch (err) {
    $("account-error").textContent = err.status === 403 ? "Only creators can sell: ask an admin for the creator role." : err.message;
    $("onboard").disabled = false;
  }
}

async function start() {
  if (!api.user) {
    $("auth").hidden = false;
    return;
  }
  $("me").textContent = api.user.username;
  $("dashboard").hidden = false;
  $("onboard").onclick = onboard;
  try {
    // Back from onboarding (or not): the status call reads the account afresh until it is enabled.
    renderAccount(await api.request("GET", "/sell/connect/status"));
    await Promise.all([loadMoney(), loadSales()]);
  } catch (err) {
    $("account-error").textContent = err.message;
  }
  connectLive();
}

wireSignIn(api, start);

start();
