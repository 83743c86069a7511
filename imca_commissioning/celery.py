"""The Celery app. With REDIS_URL unset, settings make every task run in-process."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imca_commissioning.settings")

app = Celery("imca_commissioning")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def setup_schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    # Daily at 06:00 Europe/London by default (SWEEP_HOUR / SWEEP_MINUTE change it without
    # code); the sweep task sends the digests itself once every provider is swept.
    sender.conf.beat_schedule = {
        "compliance-sweep-daily": {
            "task": "compliance.tasks.sweep_all",
            "schedule": crontab(hour=settings.SWEEP_HOUR, minute=settings.SWEEP_MINUTE),
        },
        # Idempotency keys and form tokens past their time (ADR 0008).
        "forget-idempotency-keys-daily": {
            "task": "api.tasks.forget_idempotency_keys",
            "schedule": crontab(hour=3, minute=17),
        },
        # Prepared downloads past EXPORT_KEEP_HOURS, with their files (ADR 0016).
        "export-prune-hourly": {
            "task": "imports.tasks.export_prune",
            "schedule": crontab(minute=41),
        },
        # The view log past VIEW_LOG_DAYS (ADR 0012), before the working day.
        "audit-view-log-prune-daily": {
            "task": "audit.tasks.view_log_prune",
            "schedule": crontab(hour=5, minute=30),
        },
    }
