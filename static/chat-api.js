// REST helpers for the chat page: the /api/v1 envelope, the access token, one refresh retry.
// The refresh token lives in the httpOnly cookie the server sets (path /api/v1).

const BASE = "/api/v1";
const STORE_KEY = "veza.chat.auth";

export class ApiError extends Error {
  constructor(message, status, code, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export class Api {
  constructor() {
    const saved = sessionStorage.getItem(STORE_KEY);
    this.auth = saved ? JSON.parse(saved) : null; // {access_token, user}
  }

  get user() { return this.auth ? this.auth.user : null; }

  remember(data) {
    this.auth = { access_token: data.access_token, user: data.user };
    sessionStorage.setItem(STORE_KEY, JSON.stringify(this.auth));
  }

  forget() {
    this.auth = null;
    sessionStorage.removeItem(STORE_KEY);
  }

  async request(method, path, body, { retry = true } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.auth) headers.Authorization = `Bearer ${this.auth.access_token}`;
    const res = await fetch(BASE + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => null);
    if (res.status === 401 && retry && this.auth && await this.refresh()) {
      return this.request(method, path, body, { retry: false });
    }
    if (!json || json.success !== true) {
      throw new ApiError((json && json.error) || `${res.status} ${res.statusText}`, res.status,
        json && json.code, json && json.details);
    }
    return json.data;
  }

  async refresh() {
    try {
      const res = await fetch(`${BASE}/auth/refresh`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: "{}",
      });
      const json = await res.json();
      if (!json.success) return false;
      this.remember(json.data);
      return true;
    } catch {
      return false;
    }
  }

  async login(email, password) {
    this.remember(await this.request("POST", "/auth/login", { email, password }, { retry: false }));
  }

  async register(username, email, password) {
    this.remember(await this.request("POST", "/auth/register", { username, email, password }, { retry: false }));
  }

  async logout() {
    try { await this.request("POST", "/auth/logout", {}, { retry: false }); } catch { /* signed out anyway */ }
    this.forget();
  }

  async chatToken() { return (await this.request("GET", "/chat/token")).token; }
  async conversations() { return this.request("GET", "/conversations?limit=100"); }
  async conversation(id) { return this.request("GET", `/conversations/${encodeURIComponent(id)}`); }
  async createConversation(name, type) { return this.request("POST", "/conversations", { name, type }); }
}

// The sign-in card of the single-purpose pages (checkout, seller): `#login-form` with
// `#login-email` / `#login-password`, errors in `#auth-error`; `#auth` hides once signed in.
export function wireSignIn(api, onSignedIn) {
  const $ = (id) => document.getElementById(id);
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.login($("login-email").value, $("login-password").value);
      $("auth").hidden = true;
      await onSignedIn();
    } catch (err) {
      $("auth-error").textContent = err.message;
    }
  });
}
