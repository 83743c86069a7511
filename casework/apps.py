from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "casework"

    def ready(self) -> None:
        from organisations.versioning import its_advocate, track, track_catalogue

        from .models import Case, CaseType, Report

        track_catalogue(CaseType)
        track(Case, lambda c: [c.provider_id], its_advocate)
        track(Report, lambda r: [_case_provider(r.case_id)], lambda r: [_case_advocate(r.case_id)])


def _case_advocate(case_id: int) -> int | None:
    from .models import Case

    return Case.objects.filter(pk=case_id).values_list("advocate_id", flat=True).first()


def _case_provider(case_id: int) -> int | None:
    from .models import Case

    return Case.objects.filter(pk=case_id).values_list("provider_id", flat=True).first()
