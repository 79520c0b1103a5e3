"""From what a run recorded to the figures a supervisor reads: pure functions, no I/O.

Times are the server's own (the ticket API's timestamps), so the figures are what the product
recorded, not what the simulator's clock saw.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outcome:
    """One inquiry at the end of a run. Times are POSIX seconds from the server; None = never."""

    index: int
    ticket_id: int
    queue: str
    status: str
    created_at: float
    queued_at: float | None = None
    first_assigned_at: float | None = None
    first_response_at: float | None = None
    handoff_requested_at: float | None = None
    handoff_assigned_at: float | None = None
    abandoned: bool = False
    rating: int | None = None


@dataclass(frozen=True)
class Spread:
    count: int
    p50: float | None
    p90: float | None
    mean: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        if not values:
            return cls(0, None, None, None)
        ordered = sorted(values)
        return cls(len(ordered), _percentile(ordered, 0.5), _percentile(ordered, 0.9), statistics.fmean(ordered))


@dataclass(frozen=True)
class QueueLevel:
    queue: str
    target_seconds: int
    counted: int
    within: int

    @property
    def share(self) -> float | None:
        return self.within / self.counted if self.counted else None


@dataclass(frozen=True)
class Summary:
    inquiries: int
    response: Spread
    to_person: Spread
    service_levels: list[QueueLevel]
    abandoned: int
    ratings: list[int] = field(default_factory=list)

    @property
    def service_level(self) -> float | None:
        counted = sum(q.counted for q in self.service_levels)
        return sum(q.within for q in self.service_levels) / counted if counted else None

    @property
    def abandonment(self) -> float | None:
        return self.abandoned / self.inquiries if self.inquiries else None

    @property
    def csat(self) -> float | None:
        """Share of ratings of 4 or 5 (the usual CSAT)."""
        return sum(score >= 4 for score in self.ratings) / len(self.ratings) if self.ratings else None


def _percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of a sorted, non-empty sequence."""
    rank = max(1, round(q * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(
    outcomes: Sequence[Outcome], *, targets: dict[str, int], default_target: int, now: float | None = None
) -> Summary:
    """Figures for a run.

    Service level per queue: of the tickets that were assigned, abandoned, or are still waiting
    past the queue's target at `now`, the share assigned within the target of being queued.
    """
    levels: dict[str, list[int]] = {}
    for o in outcomes:
        target = targets.get(o.queue, default_target)
        start = o.queued_at if o.queued_at is not None else o.created_at
        counted = within = 0
        if o.first_assigned_at is not None:
            counted, within = 1, int(o.first_assigned_at - start <= target)
        elif o.abandoned or (now is not None and now - start > target):
            counted = 1
        tally = levels.setdefault(o.queue, [0, 0])
        tally[0] += counted
        tally[1] += within
    return Summary(
        inquiries=len(outcomes),
        response=Spread.of([o.first_response_at - o.created_at for o in outcomes if o.first_response_at is not None]),
        to_person=Spread.of(
            [
                o.handoff_assigned_at - o.handoff_requested_at
                for o in outcomes
                if o.handoff_assigned_at is not None and o.handoff_requested_at is not None
            ]
        ),
        service_levels=[
            QueueLevel(queue, targets.get(queue, default_target), counted, within)
            for queue, (counted, within) in sorted(levels.items())
        ],
        abandoned=sum(o.abandoned for o in outcomes),
        ratings=[o.rating for o in outcomes if o.rating is not None],
    )


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def format_summary(summary: Summary, *, title: str = "Result") -> str:
    """The final table."""
    lines = [
        title,
        f"  inquiries                {summary.inquiries}",
        f"  first response           p50 {_s(summary.response.p50)}  p90 {_s(summary.response.p90)}  "
        f"mean {_s(summary.response.mean)}  (n={summary.response.count})",
        f"  time to a person         p50 {_s(summary.to_person.p50)}  p90 {_s(summary.to_person.p90)}  "
        f"mean {_s(summary.to_person.mean)}  (n={summary.to_person.count} handoffs)",
        f"  service level            {_pct(summary.service_level)}",
        f"  abandonment              {_pct(summary.abandonment)}  ({summary.abandoned})",
        f"  CSAT (4-5 of 5)          {_pct(summary.csat)}  (n={len(summary.ratings)} ratings)",
        "  service level per queue (assigned within the target of being queued):",
    ]
    lines.extend(
        f"    {level.queue:<16} {_pct(level.share):>7}  {level.within}/{level.counted}  target {level.target_seconds} s"
        for level in summary.service_levels
    )
    return "\n".join(lines)


def _change(before: float | None, after: float | None) -> str:
    """A relative change of a time; in seconds when the base is under a second (no +5000%)."""
    if before is None or after is None:
        return "—"
    if before < 1.0:
        return f"{after - before:+.1f} s"
    return f"{100 * (after - before) / before:+.1f}%"


def format_comparison(generic: Summary, specialist: Summary) -> str:
    """Specialist routing measured against the generic pool (negative time = faster)."""
    rows = [
        ("first response, mean", _s(generic.response.mean), _s(specialist.response.mean),
         _change(generic.response.mean, specialist.response.mean)),
        ("first response, p90", _s(generic.response.p90), _s(specialist.response.p90),
         _change(generic.response.p90, specialist.response.p90)),
        ("time to a person, mean", _s(generic.to_person.mean), _s(specialist.to_person.mean),
         _change(generic.to_person.mean, specialist.to_person.mean)),
        ("service level", _pct(generic.service_level), _pct(specialist.service_level),
         _points(generic.service_level, specialist.service_level)),
        ("abandonment", _pct(generic.abandonment), _pct(specialist.abandonment),
         _points(generic.abandonment, specialist.abandonment)),
        ("CSAT (4-5 of 5)", _pct(generic.csat), _pct(specialist.csat), _points(generic.csat, specialist.csat)),
    ]  # fmt: skip
    lines = [f"  {'':<24}{'generic pool':>14}{'specialists':>14}{'change':>10}"]
    lines += [f"  {name:<24}{a:>14}{b:>14}{c:>10}" for name, a, b, c in rows]
    return "\n".join(lines)


def _points(before: float | None, after: float | None) -> str:
    return "—" if before is None or after is None else f"{100 * (after - before):+.1f} pt"
