from django.db import migrations, models

ORDER = ("IMCA", "DOLS", "IMHA", "CARE_ACT")


def backfill(apps, schema_editor):
    """Existing flags learn the service they concern from their case or subject, as the
    sweep now records it (compliance/services.py: desired_flags)."""
    Flag = apps.get_model("compliance", "Flag")
    EvidenceRule = apps.get_model("qualifications", "EvidenceRule")
    unit_competences = {}
    for code, competence in EvidenceRule.objects.values_list("unit__code", "competence__code"):
        unit_competences.setdefault(code, set()).add(competence)
    for flag in Flag.objects.select_related("case__case_type").iterator():
        parts = flag.subject.split(":")
        category = ""
        if flag.case_id:
            category = flag.case.case_type.category
        elif len(parts) == 3 and parts[2] in ORDER:
            category = parts[2]
        elif len(parts) == 4 and parts[2] == "unit":
            found = unit_competences.get(parts[3], set())
            category = next((c for c in ORDER if c in found), "")
        if category:
            Flag.objects.filter(pk=flag.pk).update(category=category)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_initial"),
        ("qualifications", "0003_catalogue_version"),
        ("casework", "0003_case_types"),
    ]

    operations = [
        migrations.AddField(
            model_name="flag",
            name="category",
            field=models.CharField(
                blank=True,
                choices=[
                    ("IMCA", "IMCA"),
                    ("DOLS", "DoLS"),
                    ("IMHA", "IMHA"),
                    ("CARE_ACT", "Care Act advocacy"),
                ],
                default="",
                max_length=10,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
