// Veza live viewer: stream details over REST, live state / viewer count / chat over the one
// WebSocket, playback with hls.js (vendored) or WHEP. Open as /static/live.html?stream=<id>.
"use strict";

const API = "/api/v1";
const $ = (id) => document.getElementById(id);
const streamId = new URLSearchParams(location.search).get("stream");
let stream = null;
let socket = null;
let player = null; // Hls instance or RTCPeerConnection

function setLive(live) {
  const badge = $("status");
  badge.textContent = live ? "Live" : "Offline";
  badge.dataset.live = String(live);
  badge.className = "badge " + (live ? "live" : "offline");
  $("player-note").textContent = live ? "" : "The stream is offline.";
}

function setViewers(count) {
  $("viewers").textContent = String(count);
  $("viewers").dataset.count = String(count);
}

function setMeta(meta) {
  $("title").textContent = meta.title || "Untitled stream";
  document.title = `${meta.title || "Live"} · Veza`;
  if (meta.description !== undefined) $("description").textContent = meta.description;
}

function stopPlayer() {
  if (player && player.destroy) player.destroy();
  if (player && player.close) player.close();
  player = null;
}

function playHls() {
  stopPlayer();
  const video = $("video");
  if (window.Hls && Hls.isSupported()) {
    player = new Hls({ liveSyncDurationCount: 2 });
    player.loadSource(stream.hls_url);
    player.attachMedia(video);
    player.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) $("player-note").textContent = "HLS: " + data.details; });
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = stream.hls_url; // Safari plays HLS natively
  }
  video.play().catch(() => {});
}

async function playWhep() {
  stopPlayer();
  const pc = new RTCPeerConnection();
  player = pc;
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.ontrack = (event) => { $("video").srcObject = event.streams[0] || new MediaStream([event.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => { // no trickle: send the offer with every candidate
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
  });
  const resp = await fetch(stream.whep_url, {
    method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp,
  });
  if (resp.status !== 201) { $("player-note").textContent = "WebRTC playback unavailable"; return; }
  await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
}

function addMessage(message) {
  const item = document.createElement("li");
  const who = document.createElement("b");
  who.textContent = message.author ? message.author.username : "?";
  item.append(who, document.createTextNode(message.content || ""));
  $("messages").append(item);
  $("messages").scrollTop = $("messages").scrollHeight;
}

const handlers = {
  stream_state: (f) => { setLive(f.live); setViewers(f.viewers); setMeta({ title: f.title }); },
  // The media server needs a few seconds to write the first HLS segments.
  stream_live: (f) => { setLive(true); setMeta({ title: f.title }); setTimeout(playHls, 4000); },
  stream_offline: () => { setLive(false); stopPlayer(); },
  stream_updated: (f) => setMeta(f),
  stream_viewers: (f) => setViewers(f.viewers),
  joined: (f) => f.messages.forEach(addMessage),
  message: (f) => addMessage(f.message),
  error: (f) => { if (f.ref === "chat") $("chat-note").textContent = f.error; },
};

// Signed in on the chat page (same tab): the same stored session lets this page chat too.
function accessToken() {
  try {
    const saved = JSON.parse(sessionStorage.getItem("veza.chat.auth") || "null");
    return saved && saved.access_token;
  } catch (_) {
    return null;
  }
}

async function socketUrl() {
  const url = new URL(API + "/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const access = accessToken();
  if (access) { // signed in: a short-lived chat token lets this socket send messages
    const resp = await fetch(API + "/chat/token", { headers: { Authorization: "Bearer " + access } });
    if (resp.ok) url.searchParams.set("token", (await resp.json()).data.token);
  }
  return url;
}

async function connect(retry = 0) {
  socket = new WebSocket(await socketUrl());
  socket.onopen = () => {
    retry = 0;
    socket.send(JSON.stringify({ type: "watch", stream: streamId, ref: "watch" }));
    if (stream.chat_room_id) socket.send(JSON.stringify({ type: "join", room: stream.chat_room_id, ref: "chat" }));
  };
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    (handlers[frame.type] || (() => {}))(frame);
  };
  socket.onclose = () => setTimeout(() => connect(retry + 1), Math.min(30000, 1000 * 2 ** retry));
}

function setUpChat() {
  if (!stream.chat_room_id) { $("chat-note").textContent = "No chat for this stream."; return; }
  if (!accessToken()) { $("chat-note").textContent = "Sign in (chat page) to chat."; return; }
  $("chat-form").hidden = false;
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const content = $("chat-input").value.trim();
    if (!content || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "message", room: stream.chat_room_id, content, client_id: crypto.randomUUID(), ref: "chat" }));
    $("chat-input").value = "";
  });
}

async function main() {
  if (!streamId) { $("title").textContent = "No stream given (?stream=<id>)"; return; }
  const resp = await fetch(`${API}/live/streams/${encodeURIComponent(streamId)}`);
  if (!resp.ok) { $("title").textContent = "Stream not found"; return; }
  stream = (await resp.json()).data;
  setMeta(stream);
  setLive(stream.is_live);
  setViewers(stream.viewer_count);
  $("play-hls").addEventListener("click", playHls);
  $("play-whep").addEventListener("click", () => playWhep().catch((e) => { $("player-note").textContent = String(e); }));
  setUpChat();
  await connect();
  if (stream.is_live) playHls();
}

main();
