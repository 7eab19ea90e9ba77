// The chat page: sign in, rooms, one open room at a time, live messages, typing and presence,
// and recovery after a dropped connection (join again with `since` = the last seq seen).
import { Api } from "./chat-api.js";
import { ChatSocket } from "./chat-socket.js";

const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOW_MS = 5000;
const $ = (id) => document.getElementById(id);

const api = new Api();
const socket = new ChatSocket(() => api.chatToken());
const state = {
  rooms: new Map(), // id -> conversation from GET /conversations (or a room opened by id)
  current: null, // open room id
  messages: new Map(), // seq -> message, for the open room
  lastSeq: new Map(), // room id -> highest seq seen (kept across reconnects)
  pending: new Map(), // client_id -> {room, content}: sent, not yet acknowledged
  presence: new Map(), // user id -> username
  typing: new Map(), // user id -> {username, until}
  lastTypingSent: 0,
  nextRef: 1,
};

// ---- rendering ----------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child); // text is never parsed as HTML
  return node;
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function roomLabel(room) {
  return room.name || (room.peer && room.peer.username) || `${room.type || "room"} ${room.id.slice(0, 8)}`;
}

function renderRooms() {
  const list = $("rooms");
  list.replaceChildren();
  for (const room of state.rooms.values()) {
    const unread = room.unread_count && room.id !== state.current
      ? el("span", { class: "unread", title: "unread" }, String(room.unread_count)) : "";
    const last = room.last_message ? el("span", { class: "last" }, room.last_message.content || "") : "";
    const item = el("li", { class: room.id === state.current ? "active" : "", "data-room": room.id },
      el("span", {}, roomLabel(room), last), unread);
    item.addEventListener("click", () => openRoom(room.id));
    list.append(item);
  }
}

function messageNode(message, { pending = false } = {}) {
  const mine = api.user && message.author && message.author.id === api.user.id;
  const classes = ["message", mine ? "mine" : "", pending ? "pending" : "", message.deleted ? "deleted" : ""];
  return el("li", { class: classes.join(" ").trim(), "data-seq": message.seq ?? "", "data-client-id": message.client_id || "" },
    el("span", { class: "author" }, message.author ? message.author.username : ""),
    el("time", { dateTime: message.created_at || "" }, formatTime(message.created_at)),
    el("div", { class: "content" }, message.deleted ? "message deleted" : message.content));
}

function renderMessages() {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const sorted = [...state.messages.values()].sort((a, b) => a.seq - b.seq);
  const nodes = sorted.map((m) => messageNode(m));
  for (const [clientId, item] of state.pending) {
    if (item.room === state.current && !sorted.some((m) => m.client_id === clientId)) {
      nodes.push(messageNode({ author: api.user, content: item.content, client_id: clientId }, { pending: true }));
    }
  }
  list.replaceChildren(...nodes);
  if (atBottom || nodes.length < 30) list.scrollTop = list.scrollHeight;
}

function renderPresence() {
  $("presence").replaceChildren(...[...state.presence.entries()].map(([id, name]) => el("li", { "data-user": id }, name)));
}

function renderTyping() {
  const now = Date.now();
  const names = [...state.typing.values()].filter((t) => t.until > now).map((t) => t.username);
  $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}

function notice(text) { $("notice").textContent = text || ""; }

// ---- rooms -------------------------------------------------------------------------------
async function loadRooms() {
  const data = await api.conversations();
  const rooms = Array.isArray(data) ? data : data.conversations || data.items || [];
  for (const room of rooms) state.rooms.set(room.id, { ...state.rooms.get(room.id), ...room });
  renderRooms();
}

function roomIdFrom(text) {
  const match = String(text).match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
  return match ? match[0].toLowerCase() : null;
}

function openRoom(roomId) {
  if (state.current && state.current !== roomId) socket.send({ type: "leave", room: state.current });
  state.current = roomId;
  state.messages.clear();
  state.presence.clear();
  state.typing.clear();
  state.lastSeq.delete(roomId); // a fresh open shows the latest page; `since` is for reconnects
  if (!state.rooms.has(roomId)) {
    state.rooms.set(roomId, { id: roomId });
    api.conversation(roomId).then((info) => { // a room opened by link: learn its name
      state.rooms.set(roomId, { ...info, unread_count: 0 });
      if (state.current === roomId) $("room-title").textContent = roomLabel(info);
      renderRooms();
    }, () => {});
  }
  const room = state.rooms.get(roomId);
  room.unread_count = 0;
  $("room-title").textContent = roomLabel(room);
  $("copy-link").hidden = false;
  history.replaceState(null, "", `#room=${roomId}`);
  renderRooms();
  renderMessages();
  renderPresence();
  notice("");
  join();
}

function join() {
  if (!state.current) return;
  const frame = { type: "join", room: state.current, ref: `join-${state.nextRef++}` };
  if (state.lastSeq.has(state.current)) frame.since = state.lastSeq.get(state.current);
  socket.send(frame);
}

function remember(message) {
  if (message.room && message.room !== state.current) return;
  state.messages.set(message.seq, message);
  state.pending.delete(message.client_id);
  if (message.seq > (state.lastSeq.get(state.current) ?? -1)) state.lastSeq.set(state.current, message.seq);
}

function markRead() {
  const seq = state.lastSeq.get(state.current);
  if (seq !== undefined && document.visibilityState === "visible") socket.send({ type: "read", room: state.current, seq });
}

// ---- socket frames --------------------------------------------------------------------------
const handlers = {
  joined(frame) {
    if (frame.room !== state.current) return;
    const rejoined = state.messages.size > 0;
    if (!frame.recovered) state.messages.clear(); // too much missed (or too much to send): start from the newest
    for (const m of frame.messages) remember(m);
    if (frame.seq > (state.lastSeq.get(state.current) ?? -1)) state.lastSeq.set(state.current, frame.seq);
    state.presence = new Map(frame.presence.map((u) => [u.id, u.username]));
    $("message-input").disabled = false;
    $("send").disabled = false;
    // Sequence numbers start at 1: anything above means there is older history to page back to.
    $("load-older").hidden = state.messages.size === 0 || Math.min(...state.messages.keys()) <= 1;
    notice(frame.recovered || !rejoined ? "" : "Some older messages were skipped while you were away.");
    resendPending();
    renderMessages();
    renderPresence();
    markRead();
  },
  message(frame) {
    if (frame.room !== state.current) { bumpUnread(frame.room, frame.message); return; }
    remember(frame.message);
    state.typing.delete(frame.message.author.id);
    renderMessages();
    renderTyping();
    markRead();
  },
  ack(frame) { remember(frame.message); renderMessages(); },
  message_edited(frame) { if (frame.room === state.current) { remember(frame.message); renderMessages(); } },
  message_deleted(frame) {
    const message = frame.room === state.current && state.messages.get(frame.seq);
    if (message) { message.deleted = true; renderMessages(); }
  },
  history(frame) {
    if (frame.room !== state.current) return;
    for (const m of frame.messages) state.messages.set(m.seq, m);
    $("load-older").hidden = !frame.has_more;
    renderMessages();
  },
  presence(frame) {
    if (frame.room !== state.current) return;
    if (frame.status === "online") state.presence.set(frame.user.id, frame.user.username);
    else state.presence.delete(frame.user.id);
    renderPresence();
  },
  typing(frame) {
    if (frame.room !== state.current || (api.user && frame.user.id === api.user.id)) return;
    state.typing.set(frame.user.id, { username: frame.user.username, until: Date.now() + TYPING_SHOW_MS });
    renderTyping();
    setTimeout(renderTyping, TYPING_SHOW_MS + 50);
  },
  left(frame) {
    if (frame.room !== state.current) return;
    if (frame.reason === "reset") { join(); return; } // the room restarted: rejoin with `since`
    if (frame.reason === "removed") {
      state.rooms.delete(frame.room);
      state.current = null;
      $("message-input").disabled = true;
      $("send").disabled = true;
      notice("You were removed from this room.");
      renderRooms();
    }
  },
  room_closed(frame) {
    state.rooms.delete(frame.room);
    if (frame.room === state.current) {
      state.current = null;
      $("message-input").disabled = true;
      $("send").disabled = true;
      notice("This room was closed.");
    }
    renderRooms();
  },
  error(frame) {
    if (typeof frame.ref === "string" && frame.ref.startsWith("send-")) {
      const clientId = frame.ref.slice(5);
      if (frame.code !== "rate_limited" && frame.code !== "unavailable") state.pending.delete(clientId);
      renderMessages();
    }
    notice(frame.error);
  },
};

function bumpUnread(roomId, message) {
  const room = state.rooms.get(roomId);
  if (!room) return;
  room.unread_count = (room.unread_count || 0) + 1;
  room.last_message = message;
  renderRooms();
}

function resendPending() {
  // Same client_id: the server answers with the stored message instead of a second copy.
  for (const [clientId, item] of state.pending) {
    if (item.room === state.current) sendFrame(clientId, item);
  }
}

function sendFrame(clientId, item) {
  socket.send({ type: "message", room: item.room, content: item.content, client_id: clientId, ref: `send-${clientId}` });
}

// ---- user actions -----------------------------------------------------------------------------
function sendMessage(content) {
  const clientId = crypto.randomUUID();
  const item = { room: state.current, content };
  state.pending.set(clientId, item);
  sendFrame(clientId, item); // queued in `pending` when offline: sent again after the re-join
  renderMessages();
}

function onTyping() {
  const now = Date.now();
  if (state.current && now - state.lastTypingSent > TYPING_SEND_EVERY_MS) {
    state.lastTypingSent = now;
    socket.send({ type: "typing", room: state.current });
  }
}

async function showApp() {
  $("auth").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("me").textContent = api.user.username;
  socket.start();
  try { await loadRooms(); } catch (err) { notice(`Could not load rooms: ${err.message}`); }
  const fromLink = roomIdFrom(location.hash);
  if (fromLink) openRoom(fromLink);
}

function showAuth(message = "") {
  socket.stop();
  for (const key of ["rooms", "messages", "lastSeq", "pending", "presence", "typing"]) state[key].clear();
  state.current = null; // nothing of the previous account stays on the page
  renderRooms();
  renderMessages();
  renderPresence();
  $("auth").hidden = false;
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("me").textContent = "";
  $("auth-error").textContent = message;
}

function bind() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api.login($("login-email").value, $("login-password").value); await showApp(); } catch (err) { showAuth(err.message); }
  });
  $("register-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.register($("register-username").value, $("register-email").value, $("register-password").value);
      await showApp();
    } catch (err) { showAuth(err.message); }
  });
  $("sign-out").addEventListener("click", async () => { await api.logout(); showAuth(); });
  $("create-room").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const room = await api.createConversation($("room-name").value, $("room-type").value);
      state.rooms.set(room.id, room);
      $("room-name").value = "";
      openRoom(room.id);
    } catch (err) { notice(err.message); }
  });
  $("open-room").addEventListener("submit", (event) => {
    event.preventDefault();
    const roomId = roomIdFrom($("room-id").value);
    if (roomId) { $("room-id").value = ""; openRoom(roomId); } else notice("That is not a room id or link.");
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const content = $("message-input").value.trim();
    if (!content || !state.current) return;
    $("message-input").value = "";
    sendMessage(content);
  });
  $("message-input").addEventListener("input", onTyping);
  $("load-older").addEventListener("click", () => {
    const oldest = Math.min(...state.messages.keys());
    socket.send({ type: "history", room: state.current, before: oldest, limit: 50 });
  });
  $("copy-link").addEventListener("click", () => navigator.clipboard?.writeText(location.href));
  socket.addEventListener("open", join);
  socket.addEventListener("frame", (event) => {
    const handler = handlers[event.detail.type];
    if (handler) handler(event.detail);
  });
  socket.addEventListener("status", (event) => {
    const { state: s, retryIn } = event.detail;
    const status = $("status");
    status.dataset.state = s;
    status.textContent = s === "reconnecting" && retryIn !== undefined ? `reconnecting in ${Math.ceil(retryIn / 1000)}s` : s;
    if (s === "signed-out") { api.forget(); showAuth("Your session ended: sign in again."); }
    if (s !== "online") { $("send").disabled = true; }
    $("presence").classList.toggle("stale", s !== "online"); // we cannot know who is online while away
  });
  document.addEventListener("visibilitychange", markRead);
}

bind();
if (api.user) showApp(); else showAuth();
