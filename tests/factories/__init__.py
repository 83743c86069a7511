"""factory_boy factories for every model."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from advocates.models import Absence, Advocate
from casework.models import Case, CaseType, Report
from compliance.models import Flag
from imports.models import ExportJob, ImportJob
from organisations.models import Commissioner, Contract, Provider
from qualifications.models import CpdRecord, CpdRequirement, Funding, TrainingRecord, Unit
from supervision.models import SignOff

PASSWORD = "correct-horse-battery-staple"


class CommissionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commissioner

    name = factory.Sequence(lambda n: f"Council {n}")
    code = factory.Sequence(lambda n: f"C{n:03d}")
    active_from = date(2009, 4, 1)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Advocacy Provider {n}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    commissioner = factory.SubFactory(CommissionerFactory)
    provider = factory.SubFactory(ProviderFactory)
    start_date = date(2020, 1, 1)
    services = factory.LazyFunction(lambda: ["imca", "dols"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class CommissionerUserFactory(UserFactory):
    role = "commissioner"
    commissioner = factory.SubFactory(CommissionerFactory)


class ManagerFactory(UserFactory):
    role = "provider_manager"
    provider = factory.SubFactory(ProviderFactory)


class AdvocateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Advocate

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Faker("name", locale="en_GB")
    email = factory.LazyAttribute(lambda a: f"adv{a.name.replace(' ', '.').lower()}@example.org")
    role_start = date(2025, 1, 1)


class AdvocateUserFactory(UserFactory):
    role = "advocate"
    provider = factory.SubFactory(ProviderFactory)


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Absence

    advocate = factory.SubFactory(AdvocateFactory)
    kind = "maternity"
    start_date = date(2025, 6, 1)
    end_date = date(2025, 11, 30)


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    advocate = factory.SubFactory(AdvocateFactory)
    unit = factory.LazyFunction(lambda: unit("305"))
    route = "full"


class CaseTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseType
        django_get_or_create = ("code",)

    code = "care_review"
    name = "Care review"
    category = "IMCA"
    active_from = date(2007, 4, 1)


def case_type(code: str) -> CaseType:
    return CaseType.objects.get(code=code)


class CaseFactory(factory.django.DjangoModelFactory):
    """Writes a case row directly (imported data): no R1/R2 check. Use the service
    case_allocate to go through the gates."""

    class Meta:
        model = Case

    advocate = factory.SubFactory(AdvocateFactory)
    provider = factory.LazyAttribute(lambda c: c.advocate.provider)
    case_type = factory.LazyFunction(lambda: case_type("care_review"))
    instructed_on = factory.LazyAttribute(lambda c: c.allocated_on)
    allocated_on = date(2025, 3, 1)
    client_reference = factory.Sequence(lambda n: f"REF-{n:05d}")


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    case = factory.SubFactory(CaseFactory)
    summary = "Summary of the advocate's findings."
    submitted_on = factory.LazyAttribute(lambda r: r.case.allocated_on)


class SignOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignOff

    case = factory.SubFactory(CaseFactory)
    supervisor = factory.SubFactory(AdvocateFactory)
    decision = "approved"
    signed_on = date(2025, 4, 1)


class CpdRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CpdRecord

    advocate = factory.SubFactory(AdvocateFactory)
    category = "safeguarding"
    title = "Safeguarding adults refresher"
    completed_on = date(2025, 5, 1)
    hours = 6


class CpdRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CpdRequirement

    contract = factory.SubFactory(ContractFactory)
    category = "safeguarding"
    validity_months = 24


class FundingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Funding

    provider = factory.SubFactory(ProviderFactory)
    amount = 1000
    received_on = date(2025, 4, 1)


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    kind = "assessment_overdue"
    subject = factory.Sequence(lambda n: f"advocate:{n}:IMCA")
    provider = factory.SubFactory(ProviderFactory)
    reason = "Unit 305 overdue"
    raised_on = date(2026, 4, 1)


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    provider = factory.SubFactory(ProviderFactory)
    kind = "advocates"
    status = "previewed"
    file_name = "advocates.csv"
    content = b"name,email,role_start\nAl,al@example.org,2025-01-01\n"
    row_count = 1
    counts = factory.LazyFunction(lambda: {"new": 1, "changed": 0, "unchanged": 0, "refused": 0})


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A prepared download, ready, kept for a day."""

    class Meta:
        model = ExportJob

    owner = factory.SubFactory(UserFactory)
    table = "flags"
    fmt = "csv"
    status = "ready"
    row_count = 1
    file_name = "flags-2026-11-29.csv"
    content = "\ufeffkind\r\nassessment_overdue\r\n".encode()
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
