"""The training matrix's row on each stored standing (ADR 0019). The rows stored so far
have none: they are derived data, so they are dropped and the next read or sweep
computes them again with it."""

from django.db import migrations, models


def forget_rows(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("compliance", "AdvocateStanding").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0007_sweep_run_provider_and_by")]

    operations = [
        migrations.RunPython(forget_rows, migrations.RunPython.noop),
        migrations.AddField(
            model_name="advocatestanding",
            name="matrix",
            field=models.TextField(blank=True, default=""),
        ),
    ]
