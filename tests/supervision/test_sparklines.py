"""Once a minute the beat samples every queue; the dashboard draws the last hour as inline SVG."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from supervision.models import QueueSample
from supervision.selectors import sparklines
from supervision.services import sample_queue_health
from supervision.tasks import sample_queue_health as sample_task
from teams.models import SpecialistQueue
from tests.factories import queue
from tests.helpers import shanghai_time, ticket_on_timeline

pytestmark = pytest.mark.django_db


def test_a_sample_per_queue_and_minute_with_waiting_and_service_level(ana) -> None:
    ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 50))
    ticket_on_timeline(
        "jewelry", queued=shanghai_time(25, 9, 40), assigned=shanghai_time(25, 9, 45), agent=ana
    )  # 300 s: late

    result = sample_queue_health(now=shanghai_time(25, 10, 0, 42))

    assert result.minute == shanghai_time(25, 10, 0)
    assert result.stored == SpecialistQueue.objects.count()
    jewelry = QueueSample.objects.get(queue=queue("jewelry"))
    assert (jewelry.minute, jewelry.waiting, jewelry.service_level) == (shanghai_time(25, 10, 0), 1, 0.0)
    books = QueueSample.objects.get(queue=queue("books"))
    assert (books.waiting, books.service_level) == (0, None)


def test_sampling_twice_in_a_minute_stores_nothing_more(ana) -> None:
    sample_queue_health(now=shanghai_time(25, 10, 0, 1))
    ticket_on_timeline("jewelry", queued=shanghai_time(25, 10, 0, 5))

    again = sample_queue_health(now=shanghai_time(25, 10, 0, 59))

    assert again.stored == 0
    assert QueueSample.objects.get(queue=queue("jewelry")).waiting == 0  # the first sample stands
    assert sample_queue_health(now=shanghai_time(25, 10, 1, 0)).stored == SpecialistQueue.objects.count()


def test_old_samples_are_pruned(db) -> None:
    sample_queue_health(now=shanghai_time(22, 10, 0))
    sample_queue_health(now=shanghai_time(25, 10, 0))

    assert not QueueSample.objects.filter(minute__lt=shanghai_time(24, 0, 0)).exists()
    assert QueueSample.objects.filter(minute=shanghai_time(25, 10, 0)).count() == SpecialistQueue.objects.count()


def test_the_task_is_on_the_beat_every_minute(db) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sample-queue-health"]
    assert (entry["task"], entry["schedule"]) == ("supervision.sample_queue_health", 60.0)
    with time_machine.travel(shanghai_time(25, 10, 0, 30), tick=False):
        assert sample_task.apply().get() == SpecialistQueue.objects.count()
        assert sample_task.apply().get() == 0


def test_the_last_hour_becomes_svg_points_newest_on_the_right(ana) -> None:
    jewelry = queue("jewelry")
    now = shanghai_time(25, 10, 0)
    for minutes_ago, waiting, level in [(90, 9, 0.1), (60, 4, 0.5), (30, 2, 1.0), (0, 0, None)]:
        QueueSample.objects.create(
            queue=jewelry, minute=now - timedelta(minutes=minutes_ago), waiting=waiting, service_level=level
        )

    line = sparklines(now=now, width=120, height=28)[jewelry.id]

    assert line.samples == 3  # the one 90 minutes ago is out of the hour
    assert line.max_waiting == 4
    assert line.waiting_points == "0.0,0.0 60.0,14.0 120.0,28.0"
    assert line.service_level_points == "0.0,14.0 60.0,0.0"  # no rate in the last minute: no point


def test_the_dashboard_draws_the_sparklines(sam, signed_in) -> None:
    with time_machine.travel(shanghai_time(25, 10, 0, 30), tick=False):
        sample_queue_health(now=shanghai_time(25, 9, 59))
        sample_queue_health(now=shanghai_time(25, 10, 0))
        page = signed_in(sam).get("/console/dashboard/").content.decode()

    assert page.count('<svg class="spark"') == SpecialistQueue.objects.count()
    assert 'class="spark-waiting"' in page


def test_a_queue_sampled_for_two_minutes_is_drawn_across_the_chart_with_its_last_value(ana) -> None:
    jewelry = queue("jewelry")
    now = shanghai_time(25, 10, 0)
    for minutes_ago, waiting in [(2, 3), (1, 5), (0, 4)]:
        QueueSample.objects.create(queue=jewelry, minute=now - timedelta(minutes=minutes_ago), waiting=waiting)

    line = sparklines(now=now, width=100, height=40)[jewelry.id]

    # At least ten minutes on the x axis: the samples span its last fifth, not a 2-unit dash.
    assert line.span_minutes == 10
    assert line.waiting_points == "80.0,16.0 90.0,0.0 100.0,8.0"
    assert (line.last_waiting, line.last_x, line.last_y) == (4, 100.0, 8.0)


def test_the_dashboard_sparkline_has_axes_and_the_last_value(sam, signed_in) -> None:
    with time_machine.travel(shanghai_time(25, 10, 0, 30), tick=False):
        ticket_on_timeline("jewelry", queued=shanghai_time(25, 9, 58))
        sample_queue_health(now=shanghai_time(25, 9, 59))
        sample_queue_health(now=shanghai_time(25, 10, 0))
        page = signed_in(sam).get("/console/dashboard/").content.decode()

    tile = page[page.index('data-queue="jewelry"') :]
    tile = tile[: tile.index("</article>")]
    assert 'class="spark-value"' in tile and ">1</text>" in tile  # the last value, by its point
    assert "−10 min" in tile and ">now</text>" in tile  # the time axis
    assert "waiting, now 1" in tile
