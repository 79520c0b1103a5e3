"""Categories, one specialist queue per category, a triage queue and a supervisors' queue."""

from django.db import migrations

from teams.taxonomy import CATEGORIES, ESCALATION_QUEUE_SLUG, TRIAGE_QUEUE_SLUG


def create_taxonomy(apps, schema_editor):
    Category = apps.get_model("teams", "Category")
    SpecialistQueue = apps.get_model("teams", "SpecialistQueue")
    triage, _ = SpecialistQueue.objects.get_or_create(
        slug=TRIAGE_QUEUE_SLUG, defaults={"name": "General triage", "name_zh": "综合分诊", "kind": "triage"}
    )
    SpecialistQueue.objects.get_or_create(
        slug=ESCALATION_QUEUE_SLUG, defaults={"name": "Supervisors", "name_zh": "主管（升级）", "kind": "escalation"}
    )
    for slug, name_en, name_zh in CATEGORIES:
        general = slug == "other"
        queue, _ = SpecialistQueue.objects.get_or_create(
            slug="general" if general else slug,
            defaults={
                "name": "General" if general else name_en,
                "name_zh": "综合" if general else name_zh,
                "secondary_queue": triage,
            },
        )
        Category.objects.get_or_create(slug=slug, defaults={"name_en": name_en, "name_zh": name_zh, "queue": queue})


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]
    operations = [migrations.RunPython(create_taxonomy, migrations.RunPython.noop)]
