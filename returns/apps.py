from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Quarterly returns"

    def ready(self) -> None:
        from compliance.flag_sources import register

        from .selectors import overdue_return_flags

        # The sweep asks every registered source what ought to be flagged; registering
        # here keeps the imports pointing downwards (returns reads compliance).
        register(overdue_return_flags)
