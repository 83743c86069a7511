import django.db.models.deletion
from django.db import migrations, models

ORDER = ("IMCA", "DOLS", "IMHA", "CARE_ACT")


def backfill(apps, schema_editor):
    """Existing flags learn the service and the contract they concern from their case or
    subject, as the sweep now records them (compliance/services.py: desired_flags;
    returns/selectors.py: return_flags)."""
    Flag = apps.get_model("compliance", "Flag")
    EvidenceRule = apps.get_model("qualifications", "EvidenceRule")
    Contract = apps.get_model("organisations", "Contract")
    unit_competences = {}
    for code, competence in EvidenceRule.objects.values_list("unit__code", "competence__code"):
        unit_competences.setdefault(code, set()).add(competence)
    contracts = set(Contract.objects.values_list("pk", flat=True))
    for flag in Flag.objects.select_related("case__case_type").iterator():
        parts = flag.subject.split(":")
        category, contract = "", None
        if flag.case_id:
            category = flag.case.case_type.category
        elif parts[0] == "return" and len(parts) == 3 and parts[1].isdigit():
            contract = int(parts[1]) if int(parts[1]) in contracts else None
        elif len(parts) == 3 and parts[2] in ORDER:
            category = parts[2]
        elif len(parts) == 4 and parts[2] == "unit":
            found = unit_competences.get(parts[3], set())
            category = next((c for c in ORDER if c in found), "")
        if category or contract:
            Flag.objects.filter(pk=flag.pk).update(category=category, contract_id=contract)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0003_flag_kind_return_overdue"),
        ("organisations", "0004_contract_return_due_days"),
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
        migrations.AddField(
            model_name="flag",
            name="contract",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="flags",
                to="organisations.contract",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
