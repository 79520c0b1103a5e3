"""The policy matrix: every stage × category × standing gives the verdict the published promise
asks for — reasonable refunds approved at once before shipment, in transit and after receipt;
"rotten = refunded" for fresh food and flowers within 48 h with photos; everything else, and
shoppers whose record looks like abuse, to a specialist. Pure: no database, no network."""

from decimal import Decimal

import pytest

from aftersales import policies
from aftersales.models import Kind, Resolution, Stage
from aftersales.policies import Facts, Standing

# The shipped default policies (aftersales/migrations/0002_default_policies.py) as snapshots.
DEFAULTS: dict[str, dict[str, object]] = {
    Stage.BEFORE_SHIPMENT: {
        "auto_kinds": ["refund_only", "compensation"],
        "max_auto_amount": "5000.00",
        "window_hours": None,
        "photos_required": False,
        "max_requests_90d": 10,
        "max_denied_share": "0.80",
    },
    Stage.IN_TRANSIT: {
        "auto_kinds": ["refund_only", "reship", "compensation"],
        "max_auto_amount": "300.00",
        "window_hours": None,
        "photos_required": False,
        "max_requests_90d": 5,
        "max_denied_share": "0.50",
    },
    Stage.AFTER_RECEIPT: {
        "auto_kinds": ["refund_only", "return_refund", "reship", "compensation"],
        "max_auto_amount": "200.00",
        "window_hours": 168,
        "photos_required": True,
        "max_requests_90d": 5,
        "max_denied_share": "0.50",
    },
}
FRESH_AFTER_RECEIPT: dict[str, object] = {
    "auto_kinds": ["fresh_guarantee", "refund_only", "reship", "compensation"],
    "max_auto_amount": "300.00",
    "window_hours": 48,
    "photos_required": True,
    "max_requests_90d": 5,
    "max_denied_share": "0.50",
}


def snapshot(stage: str, category: str) -> dict:
    rules = (
        FRESH_AFTER_RECEIPT
        if stage == Stage.AFTER_RECEIPT and category in ("fresh_food", "flowers")
        else DEFAULTS[stage]
    )
    return {
        "id": 1,
        "version": 1,
        "category": category,
        "stage": stage,
        "auto_approve": True,
        "min_account_age_days": 0,
        **rules,
    }


STANDINGS = {
    "good": Standing(requests_90d=1, decided_90d=1, denied_90d=0, account_age_days=400),
    "new_account": Standing(requests_90d=0, decided_90d=0, denied_90d=0, account_age_days=0),
    "many_claims": Standing(requests_90d=9, decided_90d=9, denied_90d=0, account_age_days=400),
    "mostly_denied": Standing(requests_90d=4, decided_90d=4, denied_90d=3, account_age_days=400),
    "serial_claimer": Standing(requests_90d=30, decided_90d=30, denied_90d=20, account_age_days=400),
}
# A reasonable request at each stage: a refund of 120.00; after receipt with a photo, a day after delivery.
CASES = [
    (stage, category, standing)
    for stage in Stage.values
    for category in ("fresh_food", "flowers", "jewelry", "electronics", "maternal_baby")
    for standing in STANDINGS
]


def facts(stage: str, category: str, standing: str, **overrides: object) -> Facts:
    values: dict = {
        "kind": Kind.REFUND_ONLY,
        "resolution": Resolution.REFUND,
        "amount": Decimal("120.00"),
        "photo_count": 1,
        "stage": stage,
        "category": category,
        "order_matches_shopper": True,
        "hours_since_delivery": 24.0 if stage == Stage.AFTER_RECEIPT else None,
        "standing": STANDINGS[standing],
        **overrides,
    }
    return Facts(**values)


def expected_rule(stage: str, standing: str) -> str:
    s = STANDINGS[standing]
    limit = 10 if stage == Stage.BEFORE_SHIPMENT else 5
    share = Decimal("0.80") if stage == Stage.BEFORE_SHIPMENT else Decimal("0.50")
    if s.requests_90d > limit:
        return policies.TOO_MANY_REQUESTS
    if s.decided_90d and s.denied_share > share:
        return policies.DENIED_SHARE_HIGH
    return policies.NOT_SHIPPED_AUTO_REFUND if stage == Stage.BEFORE_SHIPMENT else policies.WITHIN_POLICY


@pytest.mark.parametrize(("stage", "category", "standing"), CASES)
def test_a_reasonable_refund_is_automatic_unless_the_shoppers_record_says_review(stage, category, standing):
    verdict = policies.decide(facts(stage, category, standing), snapshot(stage, category))
    rule = expected_rule(stage, standing)
    assert verdict.rule == rule
    assert verdict.automatic is (rule in (policies.WITHIN_POLICY, policies.NOT_SHIPPED_AUTO_REFUND))


@pytest.mark.parametrize("category", ["fresh_food", "flowers"])
@pytest.mark.parametrize(
    ("hours", "photos", "amount", "rule"),
    [
        (10.0, 1, "134.00", policies.WITHIN_POLICY),  # half the cherries, the morning after
        (47.9, 1, "300.00", policies.WITHIN_POLICY),  # at the limits
        (48.1, 1, "134.00", policies.OUTSIDE_WINDOW),
        (None, 1, "134.00", policies.OUTSIDE_WINDOW),  # delivery time unknown: a person checks
        (10.0, 0, "134.00", policies.PHOTOS_MISSING),
        (10.0, 1, "300.01", policies.AMOUNT_ABOVE_LIMIT),
    ],
)
def test_rotten_is_refunded_within_48_hours_with_photos(category, hours, photos, amount, rule):
    verdict = policies.decide(
        facts(
            Stage.AFTER_RECEIPT,
            category,
            "good",
            kind=Kind.FRESH_GUARANTEE,
            amount=Decimal(amount),
            photo_count=photos,
            hours_since_delivery=hours,
        ),
        snapshot(Stage.AFTER_RECEIPT, category),
    )
    assert verdict.rule == rule


@pytest.mark.parametrize("category", ["jewelry", "electronics"])
def test_the_fresh_guarantee_does_not_cover_other_categories(category):
    verdict = policies.decide(
        facts(Stage.AFTER_RECEIPT, category, "good", kind=Kind.FRESH_GUARANTEE), snapshot(Stage.AFTER_RECEIPT, category)
    )
    assert (verdict.automatic, verdict.rule) == (False, policies.NOT_FRESH_CATEGORY)


@pytest.mark.parametrize(
    ("stage", "kind", "automatic"),
    [
        (Stage.BEFORE_SHIPMENT, Kind.REFUND_ONLY, True),
        (Stage.BEFORE_SHIPMENT, Kind.EXCHANGE, False),
        (Stage.IN_TRANSIT, Kind.RESHIP, True),
        (Stage.IN_TRANSIT, Kind.RETURN_REFUND, False),
        (Stage.AFTER_RECEIPT, Kind.RETURN_REFUND, True),
        (Stage.AFTER_RECEIPT, Kind.EXCHANGE, False),
    ],
)
def test_which_kinds_are_automatic_depends_on_the_stage(stage, kind, automatic):
    verdict = policies.decide(facts(stage, "electronics", "good", kind=kind), snapshot(stage, "electronics"))
    assert verdict.automatic is automatic
    if not automatic:
        assert verdict.rule == policies.KIND_NOT_AUTOMATIC


def test_a_refund_before_shipment_is_automatic_up_to_a_large_amount():
    verdict = policies.decide(
        facts(Stage.BEFORE_SHIPMENT, "electronics", "good", amount=Decimal("3999.00"), photo_count=0),
        snapshot(Stage.BEFORE_SHIPMENT, "electronics"),
    )
    assert (verdict.automatic, verdict.rule) == (True, policies.NOT_SHIPPED_AUTO_REFUND)


def test_after_receipt_outside_the_week_goes_to_review():
    verdict = policies.decide(
        facts(Stage.AFTER_RECEIPT, "apparel", "good", hours_since_delivery=169.0),
        snapshot(Stage.AFTER_RECEIPT, "apparel"),
    )
    assert verdict.rule == policies.OUTSIDE_WINDOW


def test_an_order_of_another_account_is_never_automatic():
    verdict = policies.decide(
        facts(Stage.BEFORE_SHIPMENT, "books", "good", order_matches_shopper=False),
        snapshot(Stage.BEFORE_SHIPMENT, "books"),
    )
    assert (verdict.automatic, verdict.rule) == (False, policies.ORDER_OF_ANOTHER_SHOPPER)


def test_a_young_account_goes_to_review_when_the_policy_asks_for_an_age():
    policy = {**snapshot(Stage.IN_TRANSIT, "beauty"), "min_account_age_days": 7}
    assert policies.decide(facts(Stage.IN_TRANSIT, "beauty", "new_account"), policy).rule == policies.ACCOUNT_TOO_NEW
    assert policies.decide(facts(Stage.IN_TRANSIT, "beauty", "good"), policy).automatic


def test_a_policy_switched_off_and_a_missing_policy_and_an_unreachable_order_system_all_mean_review():
    off = {**snapshot(Stage.IN_TRANSIT, "beauty"), "auto_approve": False}
    assert policies.decide(facts(Stage.IN_TRANSIT, "beauty", "good"), off).rule == policies.AUTO_APPROVAL_OFF
    assert policies.decide(facts(Stage.IN_TRANSIT, "beauty", "good"), None).rule == policies.NO_POLICY
    unknown_stage = facts("", "beauty", "good")
    assert policies.decide(unknown_stage, snapshot(Stage.IN_TRANSIT, "beauty")).rule == policies.ORDER_UNAVAILABLE
