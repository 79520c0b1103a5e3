"""After-sales figures in Prometheus' text format, appended to GET /metrics by supervision.
An undefined figure (nothing paid in the window) is NaN, as Prometheus expects."""

import math

from aftersales.selectors import AfterSalesFigures


def _value(value: float | None) -> str:
    return "NaN" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:g}"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(figures: AfterSalesFigures) -> str:
    lines: list[str] = []

    def gauge(name: str, help_text: str, samples: list[tuple[dict[str, str], float | None]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in samples:
            text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{text}}} {_value(value)}" if text else f"{name} {_value(value)}")

    gauge(
        "cx_aftersales_automatic_share",
        "Share of decided after-sales requests approved without review, last 7 days, by category.",
        [({"category": "all"}, figures.automatic_share if figures.decided else None)]
        + [({"category": c.category}, c.share) for c in figures.by_category],
    )
    gauge(
        "cx_aftersales_decided",
        "After-sales requests decided in the last 7 days, by category.",
        [({"category": c.category}, float(c.decided)) for c in figures.by_category],
    )
    gauge(
        "cx_aftersales_denial_rate",
        "Denied / decided after-sales requests, last 7 days.",
        [({}, figures.denial_rate if figures.decided else None)],
    )
    samples: list[tuple[dict[str, str], float | None]] = []
    for path, d in (("automatic", figures.paid_automatic), ("reviewed", figures.paid_reviewed)):
        samples += [
            ({"path": path, "quantile": "0.5"}, d.median_seconds),
            ({"path": path, "quantile": "0.9"}, d.p90_seconds),
        ]
    gauge("cx_aftersales_request_to_paid_seconds", "Time from request to money paid, last 7 days.", samples)
    gauge(
        "cx_aftersales_claims_per_shopper",
        "Shoppers by their number of after-sales requests in 90 days (watch 5+ for abuse).",
        [({"claims": bucket}, float(n)) for bucket, n in figures.claims_per_shopper.items()],
    )
    gauge(
        "cx_aftersales_failed",
        "After-sales requests failed now (visible, retryable).",
        [({}, float(figures.failed_open))],
    )
    gauge(
        "cx_aftersales_awaiting_decision",
        "After-sales requests waiting for a specialist or a supervisor now.",
        [({}, float(figures.awaiting_decision))],
    )
    return "\n".join(lines) + "\n"
