"""factory_boy factories and the named personas the tests use."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from teams.models import AgentProfile, AgentStatus, Category, SpecialistQueue
from teams.services import set_agent_skills
from tickets.models import Channel, Shopper, Ticket


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


class AgentFactory(factory.django.DjangoModelFactory[AgentProfile]):
    """An online agent; pass skills=["jewelry"] (primary) and secondary=[...]."""

    class Meta:
        model = AgentProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda o: o.user.username.title())
    languages = factory.LazyFunction(lambda: ["zh", "en"])
    capacity = 3
    status = AgentStatus.ONLINE

    @factory.post_generation
    def skills(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            set_agent_skills(agent=self, primary=extracted, secondary=kwargs.get("secondary"))  # type: ignore[arg-type]  # factory_boy hands post-generation extras over as object


class ShopperFactory(factory.django.DjangoModelFactory[Shopper]):
    class Meta:
        model = Shopper

    external_id = factory.Sequence(lambda n: f"shopper-{n}")
    name = factory.Faker("name")
    language = "zh"


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    class Meta:
        model = Ticket

    shopper = factory.SubFactory(ShopperFactory)
    channel = Channel.CHAT
    body = "戒指尺寸不合适，想换小一号"
    language = "zh"


def category(slug: str) -> Category:
    return Category.objects.get(slug=slug)


def queue_id_of(category_slug: str) -> int:
    """The id of the specialist queue a category routes to (every seeded category has one)."""
    queue_id = category(category_slug).queue_id
    assert queue_id is not None
    return queue_id


def queue(slug: str) -> SpecialistQueue:
    return SpecialistQueue.objects.get(slug=slug)
