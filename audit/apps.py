from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit: who viewed which record"

    def ready(self) -> None:
        from organisations.versioning import exempt

        # The model walk (organisations/versioning.py): a view-log row changes no figure,
        # page or answer that the answer cache keeps; the log page is read afresh.
        exempt(
            "audit.ViewLog",
            "a record of who opened which page: no cached page or answer reads it",
        )
