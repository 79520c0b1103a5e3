"""schemathesis against every API operation, as a storefront and as an agent: no 5xx, and every
answer (status, headers, body) is one the OpenAPI schema describes.

The app is called in process through its WSGI entry point (schemathesis' WSGI mode): the same
middleware, parsers and exception handler as a server, inside the test database, with no port to
find and no server to start; real server processes are the integration tests' job. Bounded:
a few examples per operation and no shrinking, so the whole run stays well under two minutes.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import positive_data_acceptance

from teams.services import AGENTS_GROUP, ensure_roles, issue_api_token
from tests.factories import AgentFactory, TicketFactory, UserFactory, queue

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 8
# Every check runs (no 5xx; status codes, content types, headers and bodies as the schema says;
# auth enforced; bad input refused) but one heuristic: "schema-valid input must be accepted".
# Rules no JSON schema states (a real phone number, an IANA time zone, a free slot) refuse such
# input with a 400 by design, and the 400 itself is checked against the schema.
HEURISTICS: list[CheckFunction] = [positive_data_acceptance]


@pytest.fixture
def api_schema(db: None) -> Iterator[schemathesis.BaseSchema]:
    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def storefront_token(storefront_client) -> str:
    TicketFactory(queue=queue("jewelry"))
    return str(storefront_client.token)


@pytest.fixture
def agent_token(db: None) -> str:
    TicketFactory.create(queue=queue("jewelry"))  # something for Ana to see
    user = UserFactory.create(username="ana-fuzz")
    user.groups.add(ensure_roles()[AGENTS_GROUP])
    AgentFactory.create(user=user, skills=["jewelry"])
    return issue_api_token(user=user, name="fuzz")


BOUNDS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def fuzz_every_operation(schema: schemathesis.BaseSchema, token: str) -> list[str]:
    """Each operation in turn, a bounded number of generated requests; every failure, described.

    (One loop rather than schemathesis' pytest plugin, whose lazy fixtures do not load under this
    pytest.)"""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # every operation of the API, not a filtered few
    for operation in operations:

        @given(case=operation.as_strategy())
        @BOUNDS
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=HEURISTICS)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    return failures


def test_as_a_storefront_no_operation_answers_a_5xx_or_outside_its_schema(api_schema, storefront_token: str) -> None:
    failures = fuzz_every_operation(api_schema, storefront_token)
    assert not failures, "\n\n".join(failures)


def test_as_an_agent_no_operation_answers_a_5xx_or_outside_its_schema(api_schema, agent_token: str) -> None:
    failures = fuzz_every_operation(api_schema, agent_token)
    assert not failures, "\n\n".join(failures)
