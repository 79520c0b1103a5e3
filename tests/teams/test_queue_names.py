"""Queues have a Chinese name, and every reader sees the name in their own language."""

import pytest
from django.utils import translation

from teams.models import SpecialistQueue
from tests.factories import queue


@pytest.mark.django_db
def test_every_shipped_queue_has_a_chinese_name() -> None:
    assert [slug for slug, name_zh in SpecialistQueue.objects.values_list("slug", "name_zh") if not name_zh] == []
    assert queue("jewelry").name_zh == "珠宝首饰"
    assert queue("triage").name_zh == "综合分诊"


@pytest.mark.django_db
def test_the_label_follows_the_readers_language_and_falls_back_to_english() -> None:
    jewelry = queue("jewelry")
    with translation.override("zh-hans"):
        assert jewelry.label == "珠宝首饰"
    with translation.override("en"):
        assert jewelry.label == "Jewelry"
    jewelry.name_zh = ""
    with translation.override("zh-hans"):
        assert jewelry.label == "Jewelry"
