"""Demo data for the embedded mode: agents, a supervisor, a storefront client, sample tickets."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from core.auth import token_digest
from macros.models import Macro, ThenStatus
from macros.services import create_macro
from teams.models import AgentProfile, AgentStatus, ApiToken, SpecialistQueue
from teams.services import (
    AGENTS_GROUP,
    STOREFRONT_GROUP,
    SUPERVISORS_GROUP,
    ensure_roles,
    issue_api_token,
    revoke_api_tokens,
    set_agent_skills,
)
from tickets.links import shopper_page_url
from tickets.models import Ticket
from tickets.services import OrderSnapshot, ShopperDetails, open_ticket

DEMO_PASSWORD = "cx-demo-2026"  # noqa: S105  # the documented demo login, seeded only by this command
DEMO_API_TOKEN = "demo-storefront-token-000000000000000000"  # noqa: S105  # the demo storefront's; 40 characters, the key length

# username, display name, languages, primary skills, secondary skills
AGENTS = [
    ("ana", "Ana 安娜", ["zh", "en"], ["jewelry"], ["beauty"]),
    ("bo", "Bo 波", ["zh"], ["jewelry"], ["apparel"]),
    ("mei", "Mei 美", ["zh", "en"], ["maternal_baby"], ["home"]),
    ("li", "Li 李", ["zh"], ["maternal_baby"], []),
    ("fang", "Fang 芳", ["zh"], ["fresh_food", "flowers"], []),
    ("tom", "Tom", ["en"], ["fresh_food", "flowers"], ["home"]),
    ("yan", "Yan 燕", ["zh", "en"], ["beauty"], ["jewelry"]),
    ("kai", "Kai 凯", ["zh", "en"], ["apparel"], ["other"]),
    ("raj", "Raj", ["en"], ["electronics"], ["books"]),
    ("wei", "Wei 伟", ["zh"], ["electronics"], ["other"]),
    ("eva", "Eva", ["en"], ["books", "home"], ["other"]),
    ("jun", "Jun 军", ["zh", "en"], ["other"], ["books", "home", "electronics"]),
]

SAMPLE_INQUIRIES = [
    (
        "shopper-001",
        "王女士",
        "zh",
        "戒指尺寸不合适，能换小一号吗？订单里是18K金的",
        OrderSnapshot(number="JD20261101001", product_title="18K金钻石戒指", product_category="jewelry", amount=None),
    ),
    ("shopper-002", "Emily", "en", "The stroller wheel came off after two days. I need a replacement asap.", None),
    ("shopper-003", "陈先生", "zh", "买的车厘子一半都烂了，说好的坏果包赔呢？转人工！", None),
    ("shopper-004", "Jake", "en", "The roses for my mom's birthday arrived wilted. Can you redeliver today?", None),
    ("shopper-005", "李小姐", "zh", "这款精华孕妇可以用吗？成分里有没有视黄醇", None),
    ("shopper-006", "Priya", "en", "Ordered jeans size 28 but they run small, how do I exchange?", None),
    (
        "shopper-007",
        "赵先生",
        "zh",
        "新买的手机充不进电，屏幕也一直闪",
        OrderSnapshot(number="JD20261101007", product_title="小米14", product_category="electronics", amount=None),
    ),
    ("shopper-008", "Sam", "en", "My copy of the cookbook is missing pages 40 to 72.", None),
]


# Canned replies the demo starts with: shortcut, name, queue (blank: every queue), texts, then.
DEMO_MACROS = [
    (
        "hello",
        "Greeting",
        "",
        "Hi {{shopper_name}}, this is {{agent_name}} from {{queue_name}}. Let me look at this for you.",
        "{{shopper_name}}您好，我是{{queue_name}}的{{agent_name}}，马上为您查看。",
        ThenStatus.NOTHING,
    ),
    (
        "photos",
        "Ask for photos",
        "",
        "Could you send a few photos of the problem with order {{order_number}}? I will take it from there.",
        "麻烦您拍几张订单{{order_number}}问题的照片发给我，我马上为您处理。",
        ThenStatus.WAITING_ON_SHOPPER,
    ),
    (
        "done",
        "Sorted, resolve",
        "",
        "All sorted, {{shopper_name}}. Write back here any time if anything else comes up.",
        "{{shopper_name}}，已经为您处理好了。如有其他问题，随时在这里留言。",
        ThenStatus.RESOLVED,
    ),
    (
        "fresh-refund",
        "Rotten = refunded",
        "fresh_food",
        "Sorry about order {{order_number}}. Rotten fruit is refunded in full: the refund is on its way.",
        "很抱歉订单{{order_number}}出现坏果。坏果包赔，退款已为您发起。",
        ThenStatus.NOTHING,
    ),
]


class Command(BaseCommand):
    help = "Create demo agents, a supervisor, a storefront API client and sample tickets (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        groups = ensure_roles()
        users = get_user_model().objects

        admin, created = users.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()

        sam, created = users.get_or_create(username="sam", defaults={"first_name": "Sam", "is_staff": True})
        if created:
            sam.set_password(DEMO_PASSWORD)
            sam.save()
        sam.groups.add(groups[SUPERVISORS_GROUP])
        # Sam takes escalations (the supervisors' queue), so he has an agent profile too.
        AgentProfile.objects.get_or_create(
            user=sam,
            defaults={
                "display_name": "Sam",  # the interface shows the role itself, in its language
                "languages": ["zh", "en"],
                "capacity": 5,
                "status": AgentStatus.ONLINE,
            },
        )

        for username, display, languages, primary, secondary in AGENTS:
            user, created = users.get_or_create(username=username, defaults={"first_name": display.split()[0]})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(groups[AGENTS_GROUP])
            profile, _ = AgentProfile.objects.get_or_create(
                user=user,
                defaults={"display_name": display, "languages": languages, "capacity": 3, "status": AgentStatus.ONLINE},
            )
            set_agent_skills(agent=profile, primary=primary, secondary=secondary)

        client, _ = users.get_or_create(username="storefront-demo")
        client.set_unusable_password()
        client.save()
        client.groups.add(groups[STOREFRONT_GROUP])
        # Stored as a digest like any token; the demo's one is known so the README can show it.
        revoke_api_tokens(user=client, keep=DEMO_API_TOKEN)
        if not ApiToken.objects.filter(key_digest=token_digest(DEMO_API_TOKEN)).exists():
            issue_api_token(user=client, name="demo", key=DEMO_API_TOKEN)

        if not Macro.objects.exists():
            for shortcut, name, queue_slug, body_en, body_zh, then in DEMO_MACROS:
                create_macro(
                    actor=sam,
                    name=name,
                    shortcut=shortcut,
                    queue=SpecialistQueue.objects.filter(slug=queue_slug).first() if queue_slug else None,
                    body_en=body_en,
                    body_zh=body_zh,
                    then_status=then,
                )

        if not Ticket.objects.exists():
            for external_id, name, language, body, order in SAMPLE_INQUIRIES:
                open_ticket(
                    shopper=ShopperDetails(external_id=external_id, name=name, language=language),
                    channel="order_page" if order else "chat",
                    body=body,
                    order=order,
                    client=client,
                )

        base = settings.PUBLIC_BASE_URL.rstrip("/")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Console:     {base}/console/")
        self.stdout.write(f"  Admin:       admin / {DEMO_PASSWORD}   {base}/admin/")
        self.stdout.write(f"  Supervisor:  sam / {DEMO_PASSWORD}")
        self.stdout.write(f"  Agents:      {', '.join(a[0] for a in AGENTS)} (password {DEMO_PASSWORD})")
        self.stdout.write(f"  Storefront API token: {DEMO_API_TOKEN}")
        self.stdout.write(f"  API docs:    {base}/api/docs/")
        first = Ticket.objects.order_by("pk").first()
        if first is not None:
            self.stdout.write(f"  A shopper's page (ticket #{first.pk}): {shopper_page_url(first.pk)}")
