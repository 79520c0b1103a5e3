"""Play shoppers and agents against a running instance, through its public interfaces only.

Shoppers use the storefront and shopper API (token, tracking token). Agents sign in on the login
form, hold the console's websocket with their session, and behave like the page: a hint (or the
5 s poll) makes them re-read the inbox fragment; they find their work in the agent API and act
through it (reply, recategorize, transfer, escalate, resolve, status). One asyncio loop drives
everything, so a run costs the machine little beside the server it measures.

A shopper learns that an agent answered from the agent's coroutine (the push the shopper page
would show) and then reads their inquiry once, which keeps the shared per-address shopper
throttle out of the way.
"""

import asyncio
import contextlib
import functools
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets

from ops.simulation.model import (
    Arrival,
    TrafficConfig,
    WorkConfig,
    agent_decision,
    breaks,
    csat_score,
    handle_seconds,
)
from ops.simulation.report import Outcome

POLL_SECONDS = 5.0  # the page's poll
HINT_DEBOUNCE_SECONDS = 0.08  # the page's debounce before re-reading on a hint
# The page's presence heartbeat: without it the presence sweep sets a quiet agent Away after
# PRESENCE_AWAY_SECONDS and routing stops giving them work.
HEARTBEAT_SECONDS = 20.0
MAX_RETRIES = 3
REPLIES = {
    "zh": "您好，已经为您查到订单，我们马上为您处理。",
    "en": "Hello, I have found your order and I am taking care of it now.",
}


@dataclass(frozen=True)
class SimAgent:
    """A simulated agent: who they log in as and what they really know (for their handle time)."""

    username: str
    languages: tuple[str, ...]
    expertise: frozenset[str]
    is_supervisor: bool = False


@dataclass
class TicketState:
    arrival: Arrival
    ticket_id: int
    token: str
    created: float  # loop time
    replied: asyncio.Event = field(default_factory=asyncio.Event)
    resolved: asyncio.Event = field(default_factory=asyncio.Event)
    first_reply: float | None = None
    by_specialist: bool = True
    recategorized: bool = False
    abandoned: bool = False
    rating: int | None = None


class Stats(Counter[str]):
    """Counters the live line and the final table show."""


@dataclass
class RunResult:
    outcomes: list[Outcome]
    targets: dict[str, int]
    stats: Stats
    errors: list[str]
    server_now: float


def _forget(working: dict[int, "asyncio.Task[None]"], ticket_id: int, _task: object) -> None:
    working.pop(ticket_id, None)


def _epoch(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


class Simulation:
    def __init__(
        self,
        *,
        base_url: str,
        api_token: str,
        password: str,
        supervisor: str,
        roster: Sequence[SimAgent],
        arrivals: Sequence[Arrival],
        traffic: TrafficConfig,
        work: WorkConfig,
        drain_seconds: float = 60.0,
        report_every: float = 5.0,
        service_level_seconds: int | None = None,
        write: Callable[[str], None] = print,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_token = api_token
        self.password = password
        self.supervisor = supervisor
        self.roster = list(roster)
        self.arrivals = list(arrivals)
        self.traffic = traffic
        self.work = work
        self.drain_seconds = drain_seconds
        self.report_every = report_every
        self.service_level_seconds = service_level_seconds
        self.write = write
        self.tickets: dict[int, TicketState] = {}
        self.stats = Stats()
        self.errors: list[str] = []
        self.stopping = asyncio.Event()
        self.started = 0.0
        self.online: set[str] = set()
        self.collecting = False

    # --- plumbing ----------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _error(self, what: str) -> None:
        self.stats["errors"] += 1
        if len(self.errors) < 20:
            self.errors.append(what)

    async def _call(self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        """One request; 429 and connection failures are retried a few times, then counted."""
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                if attempt == MAX_RETRIES or (self.stopping.is_set() and not self.collecting):
                    self._error(f"{method} {url}: {exc!r}")
                    return None
                await asyncio.sleep(0.5 * 2**attempt)
                continue
            if response.status_code == 429 and attempt < MAX_RETRIES:
                self.stats["throttled"] += 1
                await asyncio.sleep(min(5.0, float(response.headers.get("Retry-After") or 1)))
                continue
            return response
        return None

    async def _until(self, event: asyncio.Event, timeout: float | None = None) -> bool:
        """Wait for `event`, at most `timeout` seconds, and never past the run's stop; True when
        the event is set. (Not asyncio.wait_for: a task cancelled inside it on Python 3.11 can
        hang in "cancelling", which made Ctrl-C wait forever.)"""
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.stopping.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return event.is_set()

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless the run stops first; True when the sleep ran its course."""
        if seconds > 0:
            await self._until(self.stopping, timeout=seconds)
        return not self.stopping.is_set()

    # --- the run -----------------------------------------------------------------------------

    async def run(self) -> RunResult:
        self.started = time.monotonic()
        timeout = httpx.Timeout(30.0)
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout, limits=limits) as shop:
            shop.headers["User-Agent"] = "cx-simulate"
            agents = [asyncio.create_task(self._agent(agent), name=f"agent-{agent.username}") for agent in self.roster]
            # The arrival clock starts once the agents are online (bounded: a failed login is counted).
            deadline = time.monotonic() + 60.0
            while len(self.online) < len(self.roster) and time.monotonic() < deadline and not self.stopping.is_set():
                if all(task.done() for task in agents):
                    break
                await asyncio.sleep(0.2)
            self.started = time.monotonic()
            shoppers = [asyncio.create_task(self._shopper(shop, a), name=f"shopper-{a.index}") for a in self.arrivals]
            reporter = asyncio.create_task(self._report_loop())
            try:
                await self._until_done(shoppers)
            finally:
                self.stopping.set()
                for task in shoppers:
                    task.cancel()
                # Agents finish their current request and leave; any still busy after a few
                # seconds (a break, a socket closing) are cancelled, so stopping stays bounded.
                _, busy = await asyncio.wait(agents, timeout=5.0)
                for task in busy:
                    task.cancel()
                await asyncio.gather(*shoppers, *agents, return_exceptions=True)
                reporter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reporter
            self.write(self.live_line())
            return await self._collect()

    async def _until_done(self, shoppers: list[asyncio.Task[None]]) -> None:
        """Arrivals end at the planned duration; then open work drains for a bounded time."""
        await self._sleep(self.traffic.duration_seconds - self.elapsed())
        deadline = time.monotonic() + self.drain_seconds
        while time.monotonic() < deadline and not self.stopping.is_set():
            if all(task.done() for task in shoppers) and not self._open():
                return
            await self._sleep(0.5)

    def _open(self) -> int:
        return sum(1 for s in self.tickets.values() if not s.resolved.is_set() and not s.abandoned)

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(self.report_every)
            self.write(self.live_line())

    def live_line(self) -> str:
        s, elapsed = self.stats, max(self.elapsed(), 1e-9)
        return (
            f"[{elapsed:6.0f}s] sent {s['submitted']}/{len(self.arrivals)}  open {self._open()}  "
            f"replied {s['replied_tickets']}  resolved {s['resolved']}  abandoned {s['abandoned']}  "
            f"handoffs {s['handoffs']}  transfers {s['transfers']}  escalations {s['escalations']}  "
            f"hints {s['hints']}  re-reads {s['rereads']} ({s['rereads'] / elapsed:.1f}/s)  "
            f"agents online {len(self.online)}/{len(self.roster)}  errors {s['errors']}"
        )

    # --- shoppers ----------------------------------------------------------------------------

    async def _shopper(self, shop: httpx.AsyncClient, arrival: Arrival) -> None:
        if not await self._sleep(arrival.at - self.elapsed()):
            return
        payload = {
            "shopper": {
                "external_id": arrival.shopper_id,
                "phone": f"+86138{arrival.index:08d}",
                "language": arrival.language,
            },
            "channel": "chat",
            "body": arrival.body,
            "language": arrival.language,
        }
        response = await self._call(
            shop,
            "POST",
            "/api/v1/inquiries/",
            json=payload,
            headers={
                "Authorization": f"Token {self.api_token}",
                "Idempotency-Key": f"sim-{self.traffic.seed}-{arrival.index}-{int(self.started)}",
            },
        )
        if response is None or response.status_code not in (200, 201):
            self._error(f"intake {arrival.index}: {response.status_code if response else 'no answer'}")
            return
        body = response.json()
        state = TicketState(arrival, body["id"], body["tracking_token"], time.monotonic())
        self.tickets[state.ticket_id] = state
        self.stats["submitted"] += 1
        auth = {"X-Tracking-Token": state.token}
        base = f"/api/v1/inquiries/{state.ticket_id}"

        if arrival.asks_for_person:
            await self._sleep(1.0 + arrival.index % 3)
            handoff = await self._call(shop, "POST", f"{base}/handoff/", headers=auth)
            if handoff is not None and handoff.status_code == 200:
                self.stats["handoffs"] += 1
        if arrival.books_callback:
            await self._book_callback(shop, base, auth)

        if not await self._until(state.replied, timeout=arrival.patience_seconds):
            if self.stopping.is_set():
                return
            cancel = await self._call(shop, "POST", f"{base}/cancel/", headers=auth)
            if cancel is not None and cancel.status_code == 200 and cancel.json().get("status") == "closed":
                state.abandoned = True
                self.stats["abandoned"] += 1
                return
            if not await self._until(state.replied):  # an agent holds it (409): the shopper stays
                return

        await self._call(shop, "GET", base + "/", headers=auth)  # the shopper reads the answer
        if arrival.writes_back and not state.resolved.is_set():
            await asyncio.sleep(1.0)
            wrote = await self._call(
                shop, "POST", f"{base}/messages/", json={"body": arrival.write_back_body}, headers=auth
            )
            if wrote is not None and wrote.status_code == 201:
                self.stats["write_backs"] += 1
        if not await self._until(state.resolved):
            return
        if arrival.rates:
            response_seconds = (state.first_reply or state.created) - state.created
            score = csat_score(
                self.traffic.seed,
                ticket_key=str(arrival.index),
                response_seconds=response_seconds,
                target_seconds=float(self.service_level_seconds or 60),
                by_specialist=state.by_specialist,
            )
            rated = await self._call(shop, "POST", f"{base}/rating/", json={"score": score}, headers=auth)
            if rated is not None and rated.status_code in (200, 201):
                state.rating = score
                self.stats["ratings"] += 1
            else:
                self.stats["ratings_refused"] += 1  # e.g. reopened by a late write-back (409)

    async def _book_callback(self, shop: httpx.AsyncClient, base: str, auth: dict[str, str]) -> None:
        slots = await self._call(shop, "GET", f"{base}/callback-slots/", headers=auth)
        if slots is None or slots.status_code != 200 or not slots.json().get("slots"):
            return
        first = slots.json()["slots"][0]["start"]
        booked = await self._call(shop, "POST", f"{base}/callbacks/", json={"slot_start": first}, headers=auth)
        if booked is not None and booked.status_code == 201:
            self.stats["callbacks"] += 1

    # --- agents ------------------------------------------------------------------------------

    async def _login(self, client: httpx.AsyncClient, username: str) -> bool:
        page = await self._call(client, "GET", "/accounts/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text if page else "")
        if not match:
            self._error(f"login page for {username}")
            return False
        form = {"username": username, "password": self.password, "csrfmiddlewaretoken": match.group(1)}
        done = await self._call(client, "POST", "/accounts/login/", data=form)
        if done is None or done.status_code != 302 or "sessionid" not in client.cookies:
            self._error(f"login of {username}: {done.status_code if done else 'no answer'}")
            return False
        client.headers["X-CSRFToken"] = client.cookies.get("csrftoken") or ""
        client.headers["Referer"] = self.base_url + "/console/"
        return True

    async def _set_status(self, client: httpx.AsyncClient, agent: SimAgent, status: str) -> None:
        response = await self._call(client, "POST", "/api/v1/agents/me/status/", json={"status": status})
        if response is not None and response.status_code == 200:
            (self.online.add if status == "online" else self.online.discard)(agent.username)
        else:
            self._error(f"status {status} of {agent.username}: {response.status_code if response else 'no answer'}")

    async def _agent(self, agent: SimAgent) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(30.0)) as client:
            if not await self._login(client, agent.username):
                return
            await self._set_status(client, agent, "online")
            wake = asyncio.Event()
            working: dict[int, asyncio.Task[None]] = {}
            socket = asyncio.create_task(self._hold_socket(client, wake))
            plan = breaks(self.work, agent=agent.username, horizon=self.traffic.duration_seconds)
            try:
                while not self.stopping.is_set():
                    if plan and self.elapsed() >= plan[0][0]:
                        _, length = plan.pop(0)
                        await self._take_break(client, agent, length, working)
                        continue
                    if await self._until(wake, timeout=POLL_SECONDS):
                        await asyncio.sleep(HINT_DEBOUNCE_SECONDS)
                        wake.clear()
                    await self._reread(client, agent, working)
            finally:
                socket.cancel()
                for task in working.values():
                    task.cancel()
                await asyncio.gather(socket, *working.values(), return_exceptions=True)

    async def _take_break(
        self, client: httpx.AsyncClient, agent: SimAgent, length: float, working: dict[int, asyncio.Task[None]]
    ) -> None:
        """Away (no new work), finish what is open, rest, come back online."""
        await self._set_status(client, agent, "away")
        self.stats["breaks"] += 1
        if working:
            await asyncio.wait(list(working.values()), timeout=length + 60)
        if await self._sleep(length):
            await self._set_status(client, agent, "online")

    async def _hold_socket(self, client: httpx.AsyncClient, wake: asyncio.Event) -> None:
        """The page's websocket: every message is only a hint to re-read; reconnect with backoff."""
        split = urlsplit(self.base_url)
        url = f"{'wss' if split.scheme == 'https' else 'ws'}://{split.netloc}/ws/console/"
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        attempts = 0
        while not self.stopping.is_set():
            try:
                async with websockets.connect(
                    url, additional_headers={"Cookie": cookie, "Origin": self.base_url}, open_timeout=10
                ) as socket:
                    attempts = 0
                    wake.set()  # re-read on (re)connect, as the page does
                    beat = asyncio.create_task(self._heartbeat(socket))
                    try:
                        async for _ in socket:
                            self.stats["hints"] += 1
                            wake.set()
                    finally:
                        beat.cancel()
            except (OSError, websockets.WebSocketException, TimeoutError):
                self.stats["socket_drops"] += 1
            attempts += 1
            await self._sleep(min(10.0, 0.5 * 2**attempts))

    async def _heartbeat(self, socket: Any) -> None:
        """Tell the server this console is open, as the page does every HEARTBEAT_SECONDS."""
        while not self.stopping.is_set():
            if not await self._sleep(HEARTBEAT_SECONDS):
                return
            with contextlib.suppress(websockets.WebSocketException):
                await socket.send(json.dumps({"type": "heartbeat"}))

    async def _reread(self, client: httpx.AsyncClient, agent: SimAgent, working: dict[int, asyncio.Task[None]]) -> None:
        inbox = await self._call(client, "GET", "/console/inbox/live/", headers={"X-Requested-With": "fetch"})
        if inbox is not None and inbox.status_code == 200:
            self.stats["rereads"] += 1
        listing = await self._call(client, "GET", "/api/v1/tickets/")
        if listing is None or listing.status_code != 200:
            return
        for ticket in listing.json():
            mine = ticket["assigned_agent"] == agent.username and ticket["status"] == "assigned"
            ticket_id: int = ticket["id"]
            if mine and ticket_id not in working:
                task = asyncio.create_task(self._work(client, agent, ticket))
                working[ticket_id] = task
                task.add_done_callback(functools.partial(_forget, working, ticket_id))

    async def _work(self, client: httpx.AsyncClient, agent: SimAgent, ticket: dict[str, Any]) -> None:
        """Read, think for the drawn handle time, act; resolve when the shopper has nothing to add."""
        ticket_id = ticket["id"]
        state = self.tickets.get(ticket_id)
        key = str(state.arrival.index) if state else f"t{ticket_id}"
        category = state.arrival.category if state else (ticket["category"] or "other")
        specialist = category in agent.expertise
        path = f"/api/v1/tickets/{ticket_id}"
        for turn in range(4):
            if not await self._sleep(
                handle_seconds(self.work, ticket_key=key, agent=agent.username, turn=turn, is_specialist=specialist)
            ):
                return
            if turn == 0 and await self._hand_on(client, agent, ticket, state, key, category):
                return
            reply = await self._call(
                client, "POST", f"{path}/reply/", json={"body": REPLIES[ticket["language"] or "zh"]}
            )
            if reply is None or reply.status_code != 200:
                return  # taken away meanwhile (transfer, offline sweep): the next re-read shows it
            self.stats["replies"] += 1
            if state and not state.replied.is_set():
                state.first_reply = time.monotonic()
                state.by_specialist = specialist
                self.stats["replied_tickets"] += 1
                state.replied.set()
            if not await self._sleep(self.work.wrap_up_seconds):
                return
            current = await self._call(client, "GET", path + "/")
            if current is None or current.status_code != 200 or current.json()["assigned_agent"] != agent.username:
                return
            if current.json()["status"] == "assigned":
                continue  # the shopper wrote back: another turn
            resolved = await self._call(client, "POST", f"{path}/resolve/")
            if resolved is not None and resolved.status_code == 200:
                self.stats["resolved"] += 1
                if state:
                    state.resolved.set()
            return

    async def _hand_on(
        self,
        client: httpx.AsyncClient,
        agent: SimAgent,
        ticket: dict[str, Any],
        state: TicketState | None,
        key: str,
        category: str,
    ) -> bool:
        """Misfiled tickets are re-categorized; a few are escalated or passed to a colleague.
        True when the ticket left this agent."""
        path = f"/api/v1/tickets/{ticket['id']}"
        if state and not state.recategorized and ticket["category"] != category:
            state.recategorized = True
            done = await self._call(client, "POST", f"{path}/recategorize/", json={"category": category})
            if done is not None and done.status_code == 200:
                self.stats["recategorized"] += 1
                after = done.json()
                if after["assigned_agent"] != agent.username or after["status"] != "assigned":
                    return True
        decision = agent_decision(self.work, ticket_key=key, agent=agent.username)
        if decision == "escalate" and not agent.is_supervisor:
            done = await self._call(client, "POST", f"{path}/escalate/", json={"note": "Needs a supervisor."})
            if done is not None and done.status_code == 200:
                self.stats["escalations"] += 1
                return True
        if decision == "transfer":
            colleagues = [
                a.username
                for a in self.roster
                if a.username != agent.username and category in a.expertise and a.username in self.online
                and (ticket["language"] or "zh") in a.languages
            ]  # fmt: skip
            if colleagues:
                to = colleagues[int(key.strip("t")) % len(colleagues)]
                done = await self._call(client, "POST", f"{path}/transfer/", json={"agent": to, "note": "Yours."})
                if done is not None and done.status_code == 200:
                    self.stats["transfers"] += 1
                    return True
        return False

    # --- the figures -------------------------------------------------------------------------

    async def _collect(self) -> RunResult:
        """Read every simulated inquiry back through the supervisor's API."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(30.0)) as client:
            self.collecting = True
            targets: dict[str, int] = {}
            outcomes: list[Outcome] = []
            server_now = time.time()
            if await self._login(client, self.supervisor):
                health = await self._call(client, "GET", "/api/v1/queues/health/")
                if health is not None and health.status_code == 200:
                    server_now = _epoch(health.json().get("generated_at")) or server_now
                    for queue in health.json().get("queues", []):
                        targets[queue["slug"]] = self.service_level_seconds or queue["service_level_seconds"]
                limit = asyncio.Semaphore(8)

                async def one(state: TicketState) -> Outcome | None:
                    async with limit:
                        response = await self._call(client, "GET", f"/api/v1/tickets/{state.ticket_id}/")
                    if response is None or response.status_code != 200:
                        return None
                    t = response.json()
                    return Outcome(
                        index=state.arrival.index,
                        ticket_id=state.ticket_id,
                        queue=t["queue"] or "—",
                        status=t["status"],
                        created_at=_epoch(t["created_at"]) or 0.0,
                        queued_at=_epoch(t["queued_at"]),
                        first_assigned_at=_epoch(t["first_assigned_at"]),
                        first_response_at=_epoch(t["first_response_at"]),
                        handoff_requested_at=_epoch(t["handoff_requested_at"]),
                        handoff_assigned_at=_epoch(t["handoff_assigned_at"]),
                        abandoned=state.abandoned,
                        rating=state.rating,
                    )

                found = await asyncio.gather(*(one(s) for s in self.tickets.values()))
                outcomes = sorted((o for o in found if o is not None), key=lambda o: o.index)
            return RunResult(outcomes, targets, self.stats, self.errors, server_now)
