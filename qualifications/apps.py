from django.apps import AppConfig


class QualificationsConfig(AppConfig):
    name = "qualifications"

    def ready(self) -> None:
        from advocates.apps import _provider_of
        from organisations.versioning import its_advocate, track, track_catalogue

        from . import models as m
        from .selectors import catalogue_touch

        for ref in (m.Competence, m.Unit, m.EvidenceRule, m.Award, m.PriceList):
            track_catalogue(ref, also=catalogue_touch)
        track_catalogue(m.Award.units.through, also=catalogue_touch)  # m2m_changed
        track(m.TrainingRecord, lambda r: [_provider_of(r.advocate_id)])
        track(m.CpdRecord, lambda r: [_provider_of(r.advocate_id)], its_advocate)
        # A provider's own pot (no advocate) is read when its figures are summed.
        track(m.Funding, lambda f: [f.provider_id], its_advocate)
        track(m.CpdRequirement, lambda r: [_contract_provider(r.contract_id)])


def _contract_provider(contract_id: int) -> int | None:
    from organisations.models import Contract

    return Contract.objects.filter(pk=contract_id).values_list("provider_id", flat=True).first()
