from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from imca_commissioning.forms import GovForm

from .models import ImportKind
from .reading import too_large


class ImportForm(GovForm):
    kind = forms.ChoiceField(
        choices=ImportKind.choices, widget=forms.RadioSelect, label="What does the file hold?"
    )
    file = forms.FileField(
        label="Spreadsheet (CSV, XLSX or ODS)",
        error_messages={
            "required": "Choose a file to import",
            "empty": "The file is empty",
        },
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(too_large(upload.size).message)
        return upload
