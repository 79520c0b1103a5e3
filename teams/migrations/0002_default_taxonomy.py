"""Categories, one specialist queue per category, a triage queue and a supervisors' queue."""

from django.db import migrations

from teams.taxonomy import CATEGORIES, ESCALATION_QUEUE_SLUG, TRIAGE_QUEUE_SLUG


def create_taxonomy(apps, schema_editor):
    Category = apps.get_model("teams", "Category")
    SpecialistQueue = apps.get_model("teams", "SpecialistQueue")
    triage, _ = SpecialistQueue.objects.get_or_create(
        slug=TRIAGE_QUEUE_SLUG, defaults={"name": "General triage", "kind": "triage"}
    )
    SpecialistQueue.objects.get_or_create(
        slug=ESCALATION_QUEUE_SLUG, defaults={"name": "Supervisors", "kind": "escalation"}
    )
    for slug, name_en, name_zh in CATEGORIES:
        queue_slug = "general" if slug == "other" else slug
        queue, _ = SpecialistQueue.objects.get_or_create(
            slug=queue_slug,
            defaults={"name": "General" if slug == "other" else name_en, "secondary_queue": triage},
        )
        Category.objects.get_or_create(slug=slug, defaults={"name_en": name_en, "name_zh": name_zh, "queue": queue})


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]
    operations = [migrations.RunPython(create_taxonomy, migrations.RunPython.noop)]
