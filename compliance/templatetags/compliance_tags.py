"""Status tags: words first, colour second (no information by colour alone)."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.utils.html import format_html

register = template.Library()

STATUS = {
    "met": ("Met", "govuk-tag--green"),
    "met_late": ("Met late", "govuk-tag--yellow"),
    "overdue": ("Overdue", "govuk-tag--red"),
    "due_soon": ("Due soon", "govuk-tag--orange"),
    "on_track": ("On track", "govuk-tag--blue"),
    "not_applicable": ("Not applicable", "govuk-tag--grey"),
    "trained": ("Trained", "govuk-tag--blue"),
    "assessed": ("Assessed", "govuk-tag--green"),
    None: ("None", "govuk-tag--grey"),
    "red": ("Red", "govuk-tag--red"),
    "amber": ("Amber", "govuk-tag--orange"),
    "green": ("Green", "govuk-tag--green"),
    "current": ("Current", "govuk-tag--green"),
    "missing": ("Missing", "govuk-tag--red"),
    "lapsed": ("Lapsed", "govuk-tag--red"),
}


@register.filter
def status_tag(value: str | None) -> str:
    """A status as a GOV.UK tag: its words, and its colour. Remembered per value (a
    training matrix shows some 500)."""
    return _status_tag(value)


@lru_cache(maxsize=512)
def _status_tag(value: str | None) -> str:
    label, css = STATUS.get(value, (str(value).replace("_", " ").capitalize(), "govuk-tag--grey"))
    return format_html('<strong class="govuk-tag {}">{}</strong>', css, label)


@register.filter
def status_label(value: str | None) -> str:
    return STATUS.get(value, (str(value),))[0]


@register.filter
def get_item(mapping, key):  # type: ignore[no-untyped-def]
    return mapping.get(key) if mapping else None


@register.filter
def lowerfirst(value: object) -> str:
    """ "Cases taken without IMCA training" -> "cases taken without IMCA training": the
    first letter only, so that IMCA, DoLS and CPD keep their capitals."""
    text = str(value)
    word = text.split(" ", 1)[0]
    if any(c.isupper() for c in word[1:]):  # "DoLS ...", "CPD ...": a name, not a capital
        return text
    return text[:1].lower() + text[1:]


@register.filter
def competence_label(code: str | None) -> str:
    """A competence (or case category) by its label: "DoLS", "Care Act advocacy",
    never "DOLS" or "CARE_ACT"."""
    from casework.models import Category

    return dict(Category.choices).get(code or "", str(code or ""))


@register.filter(name="cpd_label")
def cpd_label_filter(code: str | None) -> str:
    """A CPD category by its label ("Work with client groups")."""
    from qualifications.models import cpd_label

    return cpd_label(code or "")
