from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Quarterly returns"

    def ready(self) -> None:
        from compliance.flag_sources import register
        from organisations.versioning import exempt

        from .selectors import overdue_return_flags

        # The sweep asks every registered source what ought to be flagged; registering
        # here keeps the imports pointing downwards (returns reads compliance).
        register(overdue_return_flags)

        # The model walk (organisations/versioning.py): a return's pages and API answers
        # are not kept in the answer cache, and its draft figures are cached under the
        # provider's data version, which the records they read move.
        why = (
            "returns are read afresh (no cached page or answer shows them); draft figures "
            "are keyed on the provider's version, moved by the records they read"
        )
        exempt("returns.QuarterlyReturn", why)
        exempt("returns.ReturnStep", why)
