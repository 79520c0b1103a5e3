"""Canned replies: supervisors manage them; agents send replies written with them.

Managing is for supervisors only (teams.supervise_queues). Sending a reply with a macro is one
transaction: the reply, the macro's status change and its usage count commit together or not at all.
"""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import ConflictError
from macros.models import Macro, ThenStatus
from macros.placeholders import check_placeholders
from routing.selectors import is_supervisor
from routing.services import reply_to_shopper, resolve_ticket
from teams.models import SpecialistQueue
from tickets.attachments import PreparedImage
from tickets.models import Message, Ticket

FIELDS = ("name", "shortcut", "queue", "body_en", "body_zh", "then_status")


class MacroRefused(ConflictError):
    """The macro cannot be used on this ticket (another queue's, or deleted meanwhile)."""


def _only_supervisors(actor: User) -> None:
    if not is_supervisor(actor):
        raise PermissionDenied("Only supervisors manage canned replies.")


def _validated(macro: Macro) -> Macro:
    errors: dict[str, Any] = {}
    for field in ("body_en", "body_zh"):
        try:
            check_placeholders(getattr(macro, field))
        except ValidationError as exc:
            errors[field] = exc.messages
    try:
        macro.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return macro


def create_macro(
    *,
    actor: User,
    name: str,
    shortcut: str,
    queue: SpecialistQueue | None,
    body_en: str,
    body_zh: str,
    then_status: str = ThenStatus.NOTHING,
) -> Macro:
    """A new macro (supervisors only). Raises ValidationError with field errors, writing nothing."""
    _only_supervisors(actor)
    macro = Macro(
        name=name,
        shortcut=shortcut,
        queue=queue,
        body_en=body_en,
        body_zh=body_zh,
        then_status=then_status,
        updated_by=actor,
    )
    _validated(macro).save()
    return macro


def update_macro(*, actor: User, macro_id: int, **changes: Any) -> Macro:
    """Change a macro's fields (supervisors only); its usage count stays."""
    _only_supervisors(actor)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"Not a macro field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        macro = Macro.objects.select_for_update().get(pk=macro_id)
        for field, value in changes.items():
            setattr(macro, field, value)
        macro.updated_by = actor
        _validated(macro).save()
    return macro


def delete_macro(*, actor: User, macro_id: int) -> None:
    """Delete a macro (supervisors only); deleting one already gone is not an error."""
    _only_supervisors(actor)
    Macro.objects.filter(pk=macro_id).delete()


def reply_with_macro(
    *, ticket_id: int, by: User, body: str, macro_id: int, photos: Sequence[PreparedImage] = ()
) -> tuple[Message, Ticket]:
    """Send a reply the agent wrote with a macro (the text as they left it, edited or not), count
    the use, and apply the macro's status change. Atomic: a refused reply or status change counts
    nothing and sends nothing. The caller has checked the agent may work the ticket."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
        macro = Macro.objects.filter(pk=macro_id).first()
        if macro is None:
            raise MacroRefused(gettext("This canned reply was deleted meanwhile; send the text without it."))
        if macro.queue_id is not None and macro.queue_id != ticket.queue_id:
            raise MacroRefused(gettext("This canned reply belongs to another queue."))
        message = reply_to_shopper(ticket_id=ticket_id, by=by, body=body, photos=photos)
        # Replying already leaves the ticket waiting on the shopper; only "resolve" does more.
        if macro.then_status == ThenStatus.RESOLVED:
            ticket = resolve_ticket(ticket_id=ticket_id, by=by)
        else:
            ticket.refresh_from_db()
        Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())
    return message, ticket
