"""Case types of RULES.md section 4 as reference data (they change: LPS may replace
the DoLS roles, so each has active_from / active_to)."""

from datetime import date

from django.db import migrations

TYPES = [
    ("serious_medical_treatment", "Serious medical treatment (s37)", "IMCA", date(2007, 4, 1)),
    ("change_of_accommodation", "Change of accommodation (s38/s39)", "IMCA", date(2007, 4, 1)),
    ("care_review", "Care review", "IMCA", date(2007, 4, 1)),
    ("safeguarding", "Safeguarding / adult protection", "IMCA", date(2007, 4, 1)),
    ("dols_39a", "DoLS 39A", "DOLS", date(2009, 4, 1)),
    ("dols_39c", "DoLS 39C", "DOLS", date(2009, 4, 1)),
    ("dols_39d", "DoLS 39D", "DOLS", date(2009, 4, 1)),
    ("paid_rpr_support", "Support to a paid relevant person's representative", "DOLS", date(2009, 4, 1)),
]


def load(apps, schema_editor):
    CaseType = apps.get_model("casework", "CaseType")
    for code, name, category, active_from in TYPES:
        CaseType.objects.get_or_create(
            code=code, defaults={"name": name, "category": category, "active_from": active_from}
        )


class Migration(migrations.Migration):
    dependencies = [("casework", "0002_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
