// One WebSocket that keeps itself open: exponential backoff with jitter, a fresh chat token
// for every attempt, and an application ping that notices a silently dead network.
// Events: "open", "frame" (detail: the decoded frame), "status" (detail: {state, retryIn, code}).

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15000;
const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;
const CLOSE_UNAUTHORIZED = 4001;

export class ChatSocket extends EventTarget {
  constructor(tokenProvider) {
    super();
    this.tokenProvider = tokenProvider; // async () => chat token (throws when signed out)
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.timer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
  }

  get isOpen() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
    this.status("offline");
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  status(state, extra = {}) {
    this.dispatchEvent(new CustomEvent("status", { detail: { state, ...extra } }));
  }

  async connect() {
    if (this.stopped) return;
    this.status(this.attempt ? "reconnecting" : "connecting");
    let token;
    try {
      token = await this.tokenProvider();
    } catch (err) {
      if (err && err.status === 401) { this.stop(); this.status("signed-out"); return; }
      this.retry(); // the server is unreachable: same backoff as a dropped socket
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.status("online");
      this.startPinging(ws);
      this.dispatchEvent(new Event("open"));
    };
    ws.onmessage = (event) => {
      this.lastFrameAt = Date.now();
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    };
    ws.onclose = (event) => this.abandon(ws, event.code);
  }

  abandon(ws, code) {
    if (this.ws !== ws) return; // an older socket, already replaced
    this.ws = null;
    clearInterval(this.pingTimer);
    try { ws.close(4000, "abandoned"); } catch { /* already closed */ }
    if (!this.stopped) this.retry(code);
  }

  retry(code) {
    // 4001 means the token was refused: the next attempt asks for a new one anyway.
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
    const delay = code === CLOSE_UNAUTHORIZED && this.attempt === 0 ? 0 : Math.round(base * (0.5 + Math.random() / 2));
    this.attempt += 1;
    this.status("reconnecting", { retryIn: delay, code });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  startPinging(ws) {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > PING_EVERY_MS + PONG_WITHIN_MS) {
        this.abandon(ws); // a dead network may never deliver the close event
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
    }, PING_EVERY_MS);
  }
}
