from django.apps import AppConfig


class AdvocatesConfig(AppConfig):
    name = "advocates"

    def ready(self) -> None:
        from organisations.versioning import its_advocate, track

        from .models import Absence, Advocate

        track(Advocate, lambda a: [a.provider_id], lambda a: [a.pk])
        track(Absence, lambda a: [_provider_of(a.advocate_id)], its_advocate)


def _provider_of(advocate_id: int) -> int | None:
    from .models import Advocate

    return Advocate.objects.filter(pk=advocate_id).values_list("provider_id", flat=True).first()
