"""The simulator's model of the traffic and of the work: pure and seedable.

Every random choice is drawn from a generator seeded by the run's seed and the name of what is
being drawn (an arrival, a ticket's handling by one agent), never from a shared stream: the same
seed gives the same shoppers, and an agent's handle time does not depend on the order in which
a live server happened to hand out the work. That is what lets `--compare` replay identical
traffic against two routing policies.
"""

import csv
import hashlib
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Relative arrival weight per hour of the shopper's day (0-23): quiet at night, a morning peak and
# the evening's larger one, the shape of a consumer storefront's day. Scaled so the mean is 1.
DAILY_CURVE: tuple[float, ...] = (
    0.35, 0.2, 0.12, 0.08, 0.08, 0.12, 0.3, 0.6, 0.95, 1.25, 1.4, 1.35,
    1.2, 1.25, 1.3, 1.25, 1.15, 1.1, 1.2, 1.45, 1.7, 1.8, 1.45, 0.85,
)  # fmt: skip

# Share of inquiries per category (the platform's mix: apparel and electronics lead).
CATEGORY_MIX: dict[str, float] = {
    "apparel": 0.18,
    "electronics": 0.15,
    "fresh_food": 0.12,
    "beauty": 0.11,
    "maternal_baby": 0.1,
    "home": 0.09,
    "jewelry": 0.07,
    "books": 0.06,
    "flowers": 0.05,
    "other": 0.07,
}

WRITE_BACKS = {
    "zh": ["好的，那大概什么时候能处理好？", "谢谢，我补充一下：订单是上周买的。", "明白了，还需要我提供照片吗？"],
    "en": ["Thanks. How long will that take?", "OK, one more detail: I ordered it last week.", "Do you need a photo?"],
}
COMMENTS = {
    "zh": {True: "处理得很快，谢谢！", False: "等得有点久。"},
    "en": {True: "Quick and helpful, thanks!", False: "Took a while."},
}


@dataclass(frozen=True)
class TrafficConfig:
    """What the shoppers do. Rates are per real minute; a simulated day lasts `day_seconds`."""

    seed: int = 1
    rate_per_minute: float = 6.0
    duration_seconds: float = 300.0
    max_inquiries: int = 1000
    day_seconds: float = 3600.0
    start_hour: float = 9.0
    zh_share: float = 0.6
    handoff_share: float = 0.2
    write_back_share: float = 0.3
    callback_share: float = 0.05
    rating_share: float = 0.6
    patience_mean_seconds: float = 120.0
    category_mix: dict[str, float] = field(default_factory=lambda: dict(CATEGORY_MIX))


@dataclass(frozen=True)
class WorkConfig:
    """How the simulated agents work.

    `generalist_factor` is the model's one claim about specialists: an agent handles a category
    outside their primary skills that many times slower than a specialist of that category
    (1.4 by default; 1.0 makes skills irrelevant to speed).
    """

    seed: int = 1
    handle_mean_seconds: float = 20.0
    generalist_factor: float = 1.4
    wrap_up_seconds: float = 6.0
    escalate_share: float = 0.02
    transfer_share: float = 0.03
    break_every_seconds: float = 600.0
    break_mean_seconds: float = 60.0


@dataclass(frozen=True)
class Arrival:
    """One shopper's inquiry and everything they will do with it, decided up front."""

    index: int
    at: float  # seconds after the run started
    shopper_id: str
    language: str
    category: str  # the truth the classifier should find
    body: str
    asks_for_person: bool
    writes_back: bool
    books_callback: bool
    rates: bool
    patience_seconds: float
    write_back_body: str


def rng_for(seed: int, *names: object) -> random.Random:
    """A generator of its own for one named draw (stable across Python versions and runs)."""
    digest = hashlib.sha256(":".join(str(n) for n in (seed, *names)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - a simulation, not a secret


def staffed_mix(primary_skills: Iterable[Iterable[str]]) -> dict[str, float]:
    """A category mix proportional to the primary staffing of a roster (each agent's time split
    evenly over their primary categories): the demand a workforce plan staffs specialist teams
    for, so neither policy starts with a team sized for another team's traffic."""
    weights: dict[str, float] = {}
    for skills in primary_skills:
        held = sorted(set(skills))
        for slug in held:
            weights[slug] = weights.get(slug, 0.0) + 1.0 / len(held)
    total = sum(weights.values())
    return {slug: weight / total for slug, weight in sorted(weights.items())} if total else dict(CATEGORY_MIX)


def rate_at(config: TrafficConfig, t: float) -> float:
    """Arrivals per second at `t` seconds into the run, following the daily curve."""
    mean = sum(DAILY_CURVE) / len(DAILY_CURVE)
    hour = (config.start_hour + 24.0 * t / config.day_seconds) % 24.0
    return config.rate_per_minute / 60.0 * DAILY_CURVE[int(hour)] / mean


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = sorted(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def plan_arrivals(config: TrafficConfig, corpus: "Corpus") -> list[Arrival]:
    """Every arrival of the run, in time order: a Poisson process thinned to the daily curve."""
    peak = config.rate_per_minute / 60.0 * max(DAILY_CURVE) / (sum(DAILY_CURVE) / len(DAILY_CURVE))
    clock = rng_for(config.seed, "clock")
    arrivals: list[Arrival] = []
    t = 0.0
    while len(arrivals) < config.max_inquiries and peak > 0:
        t += clock.expovariate(peak)
        if t >= config.duration_seconds:
            break
        if clock.random() * peak > rate_at(config, t):
            continue
        index = len(arrivals)
        rng = rng_for(config.seed, "arrival", index)
        language = "zh" if rng.random() < config.zh_share else "en"
        category = _pick(rng, config.category_mix)
        arrivals.append(
            Arrival(
                index=index,
                at=round(t, 3),
                shopper_id=f"sim-{config.seed}-{index:05d}",
                language=language,
                category=category,
                body=corpus.pick(rng, language, category),
                asks_for_person=rng.random() < config.handoff_share,
                writes_back=rng.random() < config.write_back_share,
                books_callback=rng.random() < config.callback_share,
                rates=rng.random() < config.rating_share,
                patience_seconds=round(rng.expovariate(1.0 / config.patience_mean_seconds), 3),
                write_back_body=rng.choice(WRITE_BACKS[language]),
            )
        )
    return arrivals


def handle_seconds(work: WorkConfig, *, ticket_key: str, agent: str, turn: int, is_specialist: bool) -> float:
    """An agent's handle time for one turn on a ticket: lognormal around the mean (σ = 0.5),
    times `generalist_factor` when the category is not among the agent's primary skills."""
    rng = rng_for(work.seed, "handle", ticket_key, agent, turn)
    sigma = 0.5
    draw = rng.lognormvariate(math.log(work.handle_mean_seconds) - sigma**2 / 2, sigma)
    return draw * (1.0 if is_specialist else work.generalist_factor)


def agent_decision(work: WorkConfig, *, ticket_key: str, agent: str) -> str:
    """What the agent does after reading the ticket: "reply", "escalate" or "transfer"."""
    draw = rng_for(work.seed, "decision", ticket_key, agent).random()
    if draw < work.escalate_share:
        return "escalate"
    if draw < work.escalate_share + work.transfer_share:
        return "transfer"
    return "reply"


def breaks(work: WorkConfig, *, agent: str, horizon: float) -> list[tuple[float, float]]:
    """(start, length) of an agent's breaks within `horizon` seconds: away, then back."""
    rng = rng_for(work.seed, "breaks", agent)
    out: list[tuple[float, float]] = []
    t = 0.0
    while work.break_every_seconds > 0:
        t += rng.expovariate(1.0 / work.break_every_seconds)
        if t >= horizon:
            break
        length = rng.expovariate(1.0 / work.break_mean_seconds)
        out.append((round(t, 3), round(length, 3)))
        t += length
    return out


def csat_score(
    seed: int, *, ticket_key: str, response_seconds: float, target_seconds: float, by_specialist: bool
) -> int:
    """The shopper's 1-5 rating: most are happy; a slow first answer and an answer from someone
    outside the category each cost them some satisfaction."""
    rng = rng_for(seed, "csat", ticket_key)
    mean = 4.4 - (0.9 if response_seconds > target_seconds else 0.0) - (0.0 if by_specialist else 0.4)
    return max(1, min(5, round(rng.gauss(mean, 0.7))))


def describe(arrivals: Sequence[Arrival]) -> dict[str, object]:
    """The plan in numbers: what a seed produces, for the summary and for tests."""
    return {
        "inquiries": len(arrivals),
        "last_at": arrivals[-1].at if arrivals else 0.0,
        "languages": dict(sorted(Counter(a.language for a in arrivals).items())),
        "categories": dict(sorted(Counter(a.category for a in arrivals).items())),
        "ask_for_person": sum(a.asks_for_person for a in arrivals),
        "write_back": sum(a.writes_back for a in arrivals),
        "book_callback": sum(a.books_callback for a in arrivals),
        "rate": sum(a.rates for a in arrivals),
    }


class Corpus:
    """Inquiry texts per (language, category); the simulator samples real-looking messages."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self.texts: dict[tuple[str, str], list[str]] = {}
        for language, category, text in rows:
            self.texts.setdefault((language, category), []).append(text)

    def pick(self, rng: random.Random, language: str, category: str) -> str:
        texts = self.texts.get((language, category)) or self.texts.get(("en", category)) or ["Hello, I need help."]
        return rng.choice(texts)

    @classmethod
    def from_csv(cls, paths: dict[str, Path]) -> "Corpus":
        """Files of `text,category,...` rows, one per language (the classifier's inquiry data)."""
        rows: list[tuple[str, str, str]] = []
        for language, path in sorted(paths.items()):
            with path.open(encoding="utf-8", newline="") as handle:
                rows.extend(
                    (language, row["category"], row["text"][:1000])
                    for row in csv.DictReader(handle)
                    if row.get("text") and row.get("category")
                )
        return cls(rows)
