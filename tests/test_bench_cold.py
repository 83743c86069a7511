"""The benchmark's cold rows (scripts/bench_cold.py, issue 13) run on generated data and
measure what they say: each page answered 200 from an empty cache, with its queries."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.core.management import call_command

from compliance import national

pytestmark = pytest.mark.django_db


def _script(name: str):  # type: ignore[no-untyped-def]
    """One of scripts/ (not a package), loaded by path."""
    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench_cold():  # type: ignore[no-untyped-def]
    return _script("bench_cold")


def test_the_cold_rows_measure_each_page_from_an_empty_cache(monkeypatch):
    monkeypatch.setitem(national.PER_SCALE, "commissioners", 3)
    monkeypatch.setitem(national.PER_SCALE, "providers", 4)
    monkeypatch.setitem(national.PER_SCALE, "advocates", 40)
    monkeypatch.setitem(national.PER_SCALE, "cases", 2000)
    monkeypatch.setattr(national, "CONSORTIUM_PROVIDERS", 3)
    monkeypatch.setattr(national, "BIG_PROVIDER_ADVOCATES", 12)
    call_command("generate_national", "--scale", "1")
    rows = _bench_cold().cold_rows(repeats=2, a1_url=None)
    assert rows["national_providers"] == 4
    for key in ("b_cold", "b_after_write", "b_no_standings", "national_cold", "c_cold", "write"):
        assert rows[key]["ms"] > 0
    # An empty cache sums the stored standings (the catalogue is in the process's
    # memory: its version only; contracts carry their CPD requirements; the commissioner's lineage and contracts' services are read with the user). Inside the test's transaction the write's on-commit
    # refresh (compliance.standings.standings_refresh, tested in test_standings.py)
    # does not run, so here the page after one write evaluates that advocate itself
    # (the providers' versions, scope_facts' queries, the versions checked, one to
    # store) and sums that provider (its trend drawn before: cached until a snapshot
    # changes); with no stored standings every advocate of the
    # commissioner is evaluated first. The matrix (its provider read with the user) reads its advocates with their stored
    # rows in one query. The
    # benchmark's sessions are verified: their device is read with the user
    # (organisations/mfa.py), no query of its own.
    assert rows["b_cold"]["queries"] == 12
    assert rows["b_after_write"]["queries"] == 20
    assert rows["b_no_standings"]["queries"] == 22
    assert rows["national_cold"]["queries"] == 13
    assert rows["c_cold"]["queries"] == 7
    assert rows["write"]["queries"] == 4 and rows["write"]["ms"] > 0


def _bench_imports():  # type: ignore[no-untyped-def]
    return _script("bench_imports")


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_the_export_rows_write_the_matrix_file(fmt):
    """scripts/bench_imports.py's export rows build real training matrix rows and write
    them through the matrix's one table definition (a change of the row's shape would
    otherwise break ``make bench`` alone)."""
    from types import SimpleNamespace

    from imca_commissioning.exports import render
    from qualifications.tables import matrix_table

    # measure_export's own steps, without its _setup (which changes settings for the
    # whole process).
    rows = [_bench_imports()._standing(i) for i in range(30)]
    table = matrix_table(SimpleNamespace(name="National"), rows, ("IMCA", "DOLS", "IMHA"))
    assert len(render(table, fmt)) > 1000
