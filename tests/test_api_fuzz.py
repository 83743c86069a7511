"""Schema-driven fuzzing (issue 6): schemathesis generates requests for every operation
of /api/v1/schema/ against the live app and must find no 500 and no response that
breaks the schema. The CLI drives a live server (pytest-django's live_server) so the
run is the same one an outside client would see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "25")


@pytest.mark.parametrize("persona", ["manager", "commissioner"])
def test_no_500_and_responses_match_the_schema(world, live_server, settings, tmp_path, persona):
    settings.AXES_ENABLED = False  # fuzzed token requests must not lock the persona out
    token, _ = Token.objects.get_or_create(user=getattr(world, persona))
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "-H",
            f"Authorization: Token {token.key}",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            "20261124",
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, tail
