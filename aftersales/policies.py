"""Whether a request is approved without review: one pure function over the facts and a policy
snapshot, so every stage × category × standing can be tested without a database or a network.

The rules run in a fixed order and the first one that fails names the decision ("amount_above_limit"
…); a request that passes them all is approved with the rule "within_policy" (or
"not_shipped_auto_refund" for a refund before shipment).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersales.models import FRESH_CATEGORIES, Kind, Resolution, Stage
from orders.contract import Order

# Review rules, in the order they are checked. Each is the `rule` recorded on the decision.
NO_POLICY = "no_policy"
ORDER_UNAVAILABLE = "order_unavailable"
ORDER_OF_ANOTHER_SHOPPER = "order_of_another_shopper"
NOT_FRESH_CATEGORY = "not_fresh_category"
AUTO_APPROVAL_OFF = "auto_approval_off"
KIND_NOT_AUTOMATIC = "kind_not_automatic"
AMOUNT_ABOVE_LIMIT = "amount_above_limit"
OUTSIDE_WINDOW = "outside_window"
PHOTOS_MISSING = "photos_missing"
TOO_MANY_REQUESTS = "too_many_requests"
DENIED_SHARE_HIGH = "denied_share_high"
ACCOUNT_TOO_NEW = "account_too_new"
# Approval rules.
WITHIN_POLICY = "within_policy"
NOT_SHIPPED_AUTO_REFUND = "not_shipped_auto_refund"


@dataclass(frozen=True)
class Standing:
    """The shopper's record: earlier requests in 90 days, how many of the decided ones were denied,
    and how old their account is."""

    requests_90d: int = 0
    decided_90d: int = 0
    denied_90d: int = 0
    account_age_days: int = 365

    @property
    def denied_share(self) -> Decimal:
        return Decimal(self.denied_90d) / Decimal(self.decided_90d) if self.decided_90d else Decimal(0)


@dataclass(frozen=True)
class Facts:
    kind: str
    resolution: str
    amount: Decimal
    photo_count: int
    stage: str  # "" when the order system could not be asked
    category: str
    order_matches_shopper: bool
    hours_since_delivery: float | None
    standing: Standing


@dataclass(frozen=True)
class Verdict:
    automatic: bool
    rule: str
    detail: str


def stage_of(order: Order) -> str:
    """before shipment / in transit / after receipt, from the order system's shipping state."""
    shipping = order.shipping.status
    if shipping == "not_shipped" or (order.shipping.shipped_at is None and shipping in ("", "pending")):
        return Stage.BEFORE_SHIPMENT
    if shipping in ("delivered", "returned") or order.status == "delivered":
        return Stage.AFTER_RECEIPT
    return Stage.IN_TRANSIT  # in transit, out for delivery, a failed delivery attempt


def hours_since_delivery(order: Order, now: datetime) -> float | None:
    delivered = order.shipping.delivered_at
    return (now - delivered).total_seconds() / 3600 if delivered else None


def decide(facts: Facts, policy: dict[str, Any] | None) -> Verdict:
    """The verdict for these facts under this policy snapshot (AfterSalesPolicy.snapshot())."""
    if not facts.stage:
        return Verdict(False, ORDER_UNAVAILABLE, "The order system could not be asked: a specialist checks the order.")
    if policy is None:
        return Verdict(False, NO_POLICY, f"No policy for {facts.category or 'this category'} at {facts.stage}.")
    tag = f"policy {policy.get('category') or '*'}/{policy['stage']} v{policy['version']}"
    if not facts.order_matches_shopper:
        return Verdict(False, ORDER_OF_ANOTHER_SHOPPER, "The order belongs to another account.")
    if facts.kind == Kind.FRESH_GUARANTEE and facts.category not in FRESH_CATEGORIES:
        return Verdict(
            False, NOT_FRESH_CATEGORY, f"The fresh guarantee covers fresh food and flowers, not {facts.category}."
        )
    if not policy["auto_approve"]:
        return Verdict(False, AUTO_APPROVAL_OFF, f"{tag}: every request goes to review.")
    if facts.kind not in policy["auto_kinds"]:
        return Verdict(False, KIND_NOT_AUTOMATIC, f"{tag}: {facts.kind} is reviewed.")
    limit = Decimal(policy["max_auto_amount"])
    if facts.amount > limit:
        return Verdict(False, AMOUNT_ABOVE_LIMIT, f"{tag}: {facts.amount} is above {limit}.")
    window = policy.get("window_hours")
    if (
        facts.stage == Stage.AFTER_RECEIPT
        and window is not None
        and (facts.hours_since_delivery is None or facts.hours_since_delivery > window)
    ):
        since = "unknown" if facts.hours_since_delivery is None else f"{facts.hours_since_delivery:.0f} h"
        return Verdict(False, OUTSIDE_WINDOW, f"{tag}: delivered {since} ago, window {window} h.")
    if policy["photos_required"] and facts.photo_count < 1:
        return Verdict(False, PHOTOS_MISSING, f"{tag}: photos are required.")
    standing = facts.standing
    if standing.requests_90d > policy["max_requests_90d"]:
        return Verdict(
            False,
            TOO_MANY_REQUESTS,
            f"{tag}: {standing.requests_90d} earlier requests in 90 days (max {policy['max_requests_90d']}).",
        )
    max_share = Decimal(policy["max_denied_share"])
    if standing.decided_90d and standing.denied_share > max_share:
        return Verdict(
            False,
            DENIED_SHARE_HIGH,
            f"{tag}: {standing.denied_90d} of {standing.decided_90d} requests in 90 days denied (max share {max_share}).",
        )
    if standing.account_age_days < policy["min_account_age_days"]:
        return Verdict(
            False,
            ACCOUNT_TOO_NEW,
            f"{tag}: account {standing.account_age_days} days old (min {policy['min_account_age_days']}).",
        )
    if facts.stage == Stage.BEFORE_SHIPMENT and facts.resolution == Resolution.REFUND:
        return Verdict(True, NOT_SHIPPED_AUTO_REFUND, f"{tag}: not shipped yet, refunded at once.")
    return Verdict(True, WITHIN_POLICY, f"{tag}: within policy.")
