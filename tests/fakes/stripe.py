"""A local fake of the Stripe Connect endpoints payouts use, for tests (localstripe has no
Connect): accounts, account links, the balance of a connected account (`Stripe-Account`),
transfers honouring `Idempotency-Key` (the first answer to a key, errors included, is
replayed; the same key with other parameters is an `idempotency_error`), transfer
reversals, listing by `transfer_group`, and signed `account.updated` events.

Error injection: `fail(path, kind, times)` makes the next calls to a path answer
`balance_insufficient`, `429`, `500`, or `slow` (answer after `slow_seconds`, having done
nothing), or `commit_500` / `commit_slow` (do the work, then answer 500 or stall): the
outcomes a client cannot tell apart from a failure.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import re
import secrets
import time
from typing import Any

import aiohttp
from aiohttp import web

from veza.services.stripe_connect.signing import HEADER, signature_header

API_KEY = "sk_test_fake_veza"
FAULT: web.RequestKey[str] = web.RequestKey("fault", str)
_BRACKETS = re.compile(r"\[([^\]]*)\]")


def decode_form(pairs: Any) -> dict[str, Any]:
    """Stripe's form encoding (`metadata[order_id]=..`, `capabilities[transfers][requested]=true`)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        path = [head, *_BRACKETS.findall(key[len(head):])]
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _error(status: int, message: str, *, code: str | None = None, type_: str = "invalid_request_error") -> web.Response:
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
    return web.json_response({"error": body}, status=status)


@dataclasses.dataclass
class Fault:
    kind: str
    times: int


@dataclasses.dataclass
class FakeStripe:
    webhook_secret: str = "whsec_test_" + "s" * 40
    platform_available: int = 10**9  # cents the platform can transfer
    slow_seconds: float = 2.0
    accounts: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    reversals: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    pending: dict[str, int] = dataclasses.field(default_factory=dict)  # per account: its pending balance
    calls: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # by "METHOD /path"
    keys_seen: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (path, Idempotency-Key)
    _stored: dict[str, tuple[str, int, bytes]] = dataclasses.field(default_factory=dict)  # key -> (params, status, body)
    _faults: dict[str, collections.deque] = dataclasses.field(default_factory=lambda: collections.defaultdict(collections.deque))
    _lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/v1/accounts", self._create_account)
        app.router.add_get("/v1/accounts/{id}", self._get_account)
        app.router.add_post("/v1/account_links", self._account_link)
        app.router.add_get("/v1/balance", self._balance)
        app.router.add_post("/v1/transfers", self._create_transfer)
        app.router.add_get("/v1/transfers", self._list_transfers)
        app.router.add_post("/v1/transfers/{id}/reversals", self._create_reversal)
        app.router.add_get("/v1/transfers/{id}/reversals", self._list_reversals)
        return app

    # Test controls.

    def fail(self, path: str, kind: str, times: int = 1) -> None:
        """The next `times` calls whose path starts with `path` fail as `kind`."""
        assert kind in {"balance_insufficient", "429", "500", "slow", "commit_500", "commit_slow", "capabilities"}
        self._faults[path].append(Fault(kind, times))

    def clear_faults(self) -> None:
        self._faults.clear()

    def enable(self, account_id: str) -> None:
        self.accounts[account_id].update(charges_enabled=True, payouts_enabled=True, details_submitted=True,
                                         capabilities={"transfers": "active"})

    def reject(self, account_id: str) -> None:
        self.accounts[account_id].update(charges_enabled=False, payouts_enabled=False,
                                         capabilities={"transfers": "inactive"},
                                         requirements={"disabled_reason": "rejected.fraud"})

    def account_event(self, account_id: str, *, created: int | None = None, event_id: str | None = None) -> bytes:
        return json.dumps({"id": event_id or f"evt_{secrets.token_hex(12)}", "object": "event",
                           "type": "account.updated", "created": created or int(time.time()), "livemode": False,
                           "data": {"object": dict(self.accounts[account_id])}}).encode()

    async def deliver(self, url: str, body: bytes, *, signature: str | None = None) -> tuple[int, Any]:
        sig = signature_header(self.webhook_secret, body) if signature is None else signature
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=body, headers={"Content-Type": "application/json", HEADER: sig}) as resp:
                return resp.status, await resp.json(content_type=None)

    def net_of(self, account_id: str) -> int:
        return sum(t["amount"] - t["amount_reversed"] for t in self.transfers.values() if t["destination"] == account_id)

    # Plumbing.

    def _take_fault(self, path: str) -> str | None:
        for prefix, queue in self._faults.items():
            if path.startswith(prefix) and queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    queue.popleft()
                return fault.kind
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls[f"{request.method} {request.path}"] += 1
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _error(401, "Invalid API Key provided", type_="invalid_request_error")
        fault = self._take_fault(request.path)
        if fault == "429":
            return _error(429, "Request rate limit exceeded", code="rate_limit")
        if fault == "500":
            return _error(500, "Something went wrong on Stripe's end", type_="api_error")
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
            return _error(500, "late", type_="api_error")
        if fault == "balance_insufficient":
            request[FAULT] = fault  # stored for the key, like Stripe does
        if fault == "capabilities":
            request[FAULT] = fault
        response = await handler(request)
        if fault == "commit_500":
            return _error(500, "Something went wrong on Stripe's end", type_="api_error")
        if fault == "commit_slow":
            await asyncio.sleep(self.slow_seconds)
        return response

    async def _idempotent(self, request: web.Request, work: Any) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        params = decode_form((await request.post()).items())
        canonical = json.dumps(params, sort_keys=True)
        if key:
            self.keys_seen.append((request.path, key))
        async with self._lock:
            if key and key in self._stored:
                stored_params, status, body = self._stored[key]
                if stored_params != canonical:
                    return _error(400, "Keys for idempotent requests can only be used with the same parameters"
                                  " they were first used with.", type_="idempotency_error")
                return web.Response(status=status, body=body, content_type="application/json",
                                    headers={"Idempotent-Replayed": "true"})
            response = await work(params, request.get(FAULT))
            if key:
                self._stored[key] = (canonical, response.status, response.body)
            return response

    # Endpoints.

    async def _create_account(self, request: web.Request) -> web.Response:
        async def work(params: dict[str, Any], fault: str | None) -> web.Response:
            account_id = f"acct_{secrets.token_hex(8)}"
            self.accounts[account_id] = {
                "id": account_id, "object": "account", "type": params.get("type", "express"),
                "email": params.get("email"), "metadata": params.get("metadata", {}), "charges_enabled": False,
                "payouts_enabled": False, "details_submitted": False, "capabilities": {"transfers": "inactive"}}
            return web.json_response(self.accounts[account_id])
        return await self._idempotent(request, work)

    async def _get_account(self, request: web.Request) -> web.Response:
        account = self.accounts.get(request.match_info["id"])
        if account is None:
            return _error(404, "No such account", code="resource_missing")
        return web.json_response(account)

    async def _account_link(self, request: web.Request) -> web.Response:
        params = decode_form((await request.post()).items())
        if params.get("account") not in self.accounts or params.get("type") != "account_onboarding":
            return _error(400, "Invalid account link request", code="parameter_invalid")
        for name in ("refresh_url", "return_url"):
            if not str(params.get(name, "")).startswith(("http://", "https://")):
                return _error(400, f"Not a valid URL: {name}", code="url_invalid")
        return web.json_response({"object": "account_link", "created": int(time.time()),
                                  "expires_at": int(time.time()) + 300,
                                  "url": f"https://connect.stripe.com/setup/e/{params['account']}/{secrets.token_hex(6)}",
                                  "_return_url": params["return_url"]})

    async def _balance(self, request: web.Request) -> web.Response:
        account_id = request.headers.get("Stripe-Account")
        if account_id not in self.accounts:
            return _error(403, "The provided key does not have access to account", code="account_invalid",
                          type_="invalid_request_error")
        currencies = {t["currency"] for t in self.transfers.values() if t["destination"] == account_id} or {"eur"}
        available = [{"amount": sum(t["amount"] - t["amount_reversed"] for t in self.transfers.values()
                                    if t["destination"] == account_id and t["currency"] == c), "currency": c}
                     for c in sorted(currencies)]
        available.append({"amount": 777, "currency": "usd"})  # another currency: not summed
        return web.json_response({"object": "balance", "livemode": False, "available": available,
                                  "pending": [{"amount": self.pending.get(account_id, 0), "currency": "eur"}]})

    async def _create_transfer(self, request: web.Request) -> web.Response:
        async def work(params: dict[str, Any], fault: str | None) -> web.Response:
            amount = int(params["amount"])
            destination = self.accounts.get(params.get("destination", ""))
            if destination is None:
                return _error(400, "No such destination", code="resource_missing")
            if fault == "capabilities" or destination["capabilities"].get("transfers") != "active":
                return _error(400, "Your destination account needs to have at least one of the following"
                              " capabilities enabled: transfers", code="insufficient_capabilities_for_transfer")
            if fault == "balance_insufficient" or amount > self.platform_available:
                return _error(400, "You have insufficient available funds in your Stripe account.",
                              code="balance_insufficient")
            self.platform_available -= amount
            transfer_id = f"tr_{secrets.token_hex(12)}"
            self.transfers[transfer_id] = {
                "id": transfer_id, "object": "transfer", "amount": amount, "currency": params["currency"],
                "destination": destination["id"], "transfer_group": params.get("transfer_group"),
                "metadata": params.get("metadata", {}), "amount_reversed": 0, "reversed": False,
                "created": int(time.time())}
            return web.json_response(self.transfers[transfer_id])
        return await self._idempotent(request, work)

    async def _list_transfers(self, request: web.Request) -> web.Response:
        group = request.query.get("transfer_group")
        destination = request.query.get("destination")
        found = [t for t in self.transfers.values()
                 if (group is None or t["transfer_group"] == group) and (destination is None or t["destination"] == destination)]
        found.sort(key=lambda t: t["created"], reverse=True)
        limit = int(request.query.get("limit", "10"))
        return web.json_response({"object": "list", "url": "/v1/transfers", "has_more": len(found) > limit,
                                  "data": found[:limit]})

    async def _create_reversal(self, request: web.Request) -> web.Response:
        transfer = self.transfers.get(request.match_info["id"])

        async def work(params: dict[str, Any], fault: str | None) -> web.Response:
            if transfer is None:
                return _error(404, "No such transfer", code="resource_missing")
            amount = int(params.get("amount", transfer["amount"] - transfer["amount_reversed"]))
            if amount > transfer["amount"] - transfer["amount_reversed"]:
                return _error(400, "Transfer has already been reversed", code="transfer_already_reversed")
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            self.platform_available += amount
            reversal_id = f"trr_{secrets.token_hex(12)}"
            self.reversals[reversal_id] = {"id": reversal_id, "object": "transfer_reversal", "amount": amount,
                                           "transfer": transfer["id"], "metadata": params.get("metadata", {}),
                                           "created": int(time.time())}
            return web.json_response(self.reversals[reversal_id])
        return await self._idempotent(request, work)

    async def _list_reversals(self, request: web.Request) -> web.Response:
        found = [r for r in self.reversals.values() if r["transfer"] == request.match_info["id"]]
        return web.json_response({"object": "list", "url": request.path, "has_more": False, "data": found})
