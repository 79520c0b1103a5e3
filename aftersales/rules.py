"""Every rule code a decision records (AfterSalesRequest.rule, AfterSalesDecision.rule) and the
name people read for it: one table. Codes stay in the database, the API and webhooks (a receiver
matches on them); screens show rule_label(code) in the reader's language.

The policy's own codes live beside the function that applies them (aftersales.policies); the
codes of people's decisions, of the sweeps and of execution are defined here.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales import policies
from aftersales.models import DenialReason

# A person's decision.
AGENT_WITHIN_LIMIT = "agent_within_limit"
ABOVE_AGENT_LIMIT = "above_agent_limit"
SUPERVISOR_APPROVED = "supervisor_approved"
SUPERVISOR_SECOND_APPROVAL = "supervisor_second_approval"
RETRY = "retry"
DENIED_PREFIX = "denied:"  # + the DenialReason
# The returned parcel.
RETURN_OVERDUE = "return_overdue"  # an approved return whose parcel did not arrive in its window
LATE_RETURN_RECEIVED = "late_return_received"  # an overdue return whose parcel was reported after all
REPORTED_BY_PREFIX = "reported_by_"  # + who reported the parcel (RETURN_SOURCES)
# Execution through the order system.
ORDER_SYSTEM = "order_system"
ATTEMPT_PREFIX = "attempt "  # + the attempt's number
EXECUTION_FAILED = "execution_failed"  # why a failed execution went to a person
# The proactive app's "late = compensated", by compensation.
LATE_PREFIX = "late_"

RETURN_SOURCES: dict[str, Promise] = {
    "storefront": gettext_lazy("the storefront"),
    "agent": gettext_lazy("an agent"),
}

LABELS: dict[str, Promise] = {
    policies.NO_POLICY: gettext_lazy("No policy for this category and stage"),
    policies.ORDER_UNAVAILABLE: gettext_lazy("Order system unavailable"),
    policies.ORDER_OF_ANOTHER_SHOPPER: gettext_lazy("Order of another account"),
    policies.NOT_FRESH_CATEGORY: gettext_lazy("Not a fresh category"),
    policies.AUTO_APPROVAL_OFF: gettext_lazy("Automatic approval off"),
    policies.KIND_NOT_AUTOMATIC: gettext_lazy("Kind reviewed by a person"),
    policies.AMOUNT_ABOVE_LIMIT: gettext_lazy("Amount above the automatic limit"),
    policies.OUTSIDE_WINDOW: gettext_lazy("Outside the after-sales window"),
    policies.PHOTOS_MISSING: gettext_lazy("Photos missing"),
    policies.TOO_MANY_REQUESTS: gettext_lazy("Too many requests in 90 days"),
    policies.DENIED_SHARE_HIGH: gettext_lazy("Many earlier requests denied"),
    policies.ACCOUNT_TOO_NEW: gettext_lazy("Account too new"),
    policies.WITHIN_POLICY: gettext_lazy("Within policy"),
    policies.NOT_SHIPPED_AUTO_REFUND: gettext_lazy("Not shipped: refunded at once"),
    AGENT_WITHIN_LIMIT: gettext_lazy("Approved by the agent (within their limit)"),
    ABOVE_AGENT_LIMIT: gettext_lazy("Above the agent's limit: a supervisor approves too"),
    SUPERVISOR_APPROVED: gettext_lazy("Approved by a supervisor"),
    SUPERVISOR_SECOND_APPROVAL: gettext_lazy("Second approval by a supervisor"),
    RETRY: gettext_lazy("Sent again"),
    RETURN_OVERDUE: gettext_lazy("Return overdue"),
    LATE_RETURN_RECEIVED: gettext_lazy("Late return received"),
    ORDER_SYSTEM: gettext_lazy("Order system"),
    EXECUTION_FAILED: gettext_lazy("Payment failed"),
    f"{LATE_PREFIX}coupon": gettext_lazy("Late delivery: coupon"),
    f"{LATE_PREFIX}shipping_refund": gettext_lazy("Late delivery: shipping fee refunded"),
}


def late_delivery(compensation: str) -> str:
    """The rule of a late-delivery compensation (the proactive app's), e.g. "late_coupon"."""
    return f"{LATE_PREFIX}{compensation}"


def reported_by(source: str) -> str:
    return f"{REPORTED_BY_PREFIX}{source}"


def denied(reason: str) -> str:
    return f"{DENIED_PREFIX}{reason}"


def attempt(number: int) -> str:
    return f"{ATTEMPT_PREFIX}{number}"


def rule_label(code: str) -> str:
    """The name of a rule code in the active language; an unknown code is shown as it is."""
    if code in LABELS:
        return str(LABELS[code])
    if code.startswith(DENIED_PREFIX):
        reason = code.removeprefix(DENIED_PREFIX)
        if reason in DenialReason.values:
            return _("Denied: %(reason)s") % {"reason": DenialReason(reason).label}
    if code.startswith(REPORTED_BY_PREFIX):
        source = RETURN_SOURCES.get(code.removeprefix(REPORTED_BY_PREFIX))
        if source is not None:
            return _("Reported by %(source)s") % {"source": source}
    if code.startswith(ATTEMPT_PREFIX) and code.removeprefix(ATTEMPT_PREFIX).isdigit():
        return _("Attempt %(number)s") % {"number": code.removeprefix(ATTEMPT_PREFIX)}
    return code
