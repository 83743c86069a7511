import os
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imca_commissioning.settings")
application: Any = get_wsgi_application()  # wrapped below for the benchmark

if settings.BENCHMARK_VIEWS:  # off unless the benchmark turns it on
    from imca_commissioning.bench import wrap

    application = wrap(application)
