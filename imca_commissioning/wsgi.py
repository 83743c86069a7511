import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imca_commissioning.settings")
application = get_wsgi_application()

if settings.BENCHMARK_VIEWS:  # off unless the benchmark turns it on
    from imca_commissioning.bench import wrap

    application = wrap(application)
