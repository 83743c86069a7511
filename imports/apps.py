from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Spreadsheet imports"

    def ready(self) -> None:
        from organisations.versioning import exempt

        # The model walk (organisations/versioning.py): a job changes no figure or page
        # the answer cache keeps; the records it stores go through the services, whose
        # writes move the provider's data version as any form's do.
        exempt(
            "imports.ImportJob",
            "an upload's preview and state: the records it stores move the provider's "
            "version through the services",
        )
        exempt(
            "imports.ExportJob",
            "a prepared download, read by its owner only and never cached: it copies "
            "what the owner's tenancy showed, it changes no figure",
        )
