from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"

    def ready(self) -> None:
        from casework.apps import _case_advocate, _case_provider
        from organisations.versioning import track

        from .models import SignOff

        track(SignOff, lambda s: [_case_provider(s.case_id)], lambda s: [_case_advocate(s.case_id)])
