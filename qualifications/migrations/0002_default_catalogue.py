"""The default catalogue of RULES.md section 2, shipped as data the admin may edit."""

from datetime import date
from decimal import Decimal

from django.db import migrations

COMPETENCES = [
    ("IMCA", "Independent Mental Capacity Advocacy", "unit 305"),
    ("DOLS", "Deprivation of Liberty Safeguards IMCA roles", "unit 310"),
    ("IMHA", "Independent Mental Health Advocacy", "unit 306"),
    ("CARE_ACT", "Care Act advocacy", "Care Act advocacy training"),
]

# code, title, framework, kind, aliases, core
UNITS = [
    ("301", "Independent advocacy principles and values", "City & Guilds 7566", "unit", [], True),
    ("302", "Providing independent advocacy support", "City & Guilds 7566", "unit", [], True),
    ("303", "Maintaining the advocacy relationship", "City & Guilds 7566", "unit", [], True),
    ("304", "Responding to the advocacy needs of different groups", "City & Guilds 7566", "unit", [], True),
    ("305", "Providing Independent Mental Capacity Advocacy", "City & Guilds 7566", "unit", ["805"], False),
    ("306", "Providing Independent Mental Health Advocacy", "City & Guilds 7566", "unit", ["806"], False),
    ("310", "Providing Independent Mental Capacity Advocacy - Deprivation of Liberty Safeguards", "City & Guilds 7566", "unit", ["810"], False),
    ("A4A-IMCA", "Action for Advocacy 4-day IMCA course (pre-2009)", "Action for Advocacy", "legacy", [], False),
    ("A4A-DOLS", "Action for Advocacy 2-day DoLS course", "Action for Advocacy", "legacy", [], False),
    ("3614-MCA", "Level 4 Independent Advocacy Practice: mental capacity pathway", "City & Guilds 3614", "pathway", ["3614"], False),
    ("WL4-433", "Welsh Level 4 IMCA unit 433", "Welsh Level 4 (2020)", "unit", ["433"], False),
]

# unit, stage, competence, level
EVIDENCE = [
    ("305", "trained", "IMCA", "trained"),
    ("305", "achieved", "IMCA", "assessed"),
    ("A4A-IMCA", "trained", "IMCA", "trained"),
    ("310", "trained", "DOLS", "trained"),
    ("310", "achieved", "DOLS", "assessed"),
    ("A4A-DOLS", "trained", "DOLS", "trained"),
    ("306", "trained", "IMHA", "trained"),
    ("306", "achieved", "IMHA", "assessed"),
    ("3614-MCA", "achieved", "IMCA", "assessed"),
    ("WL4-433", "achieved", "IMCA", "assessed"),
]

CONVERSIONS = [("305", "A4A-IMCA"), ("310", "A4A-DOLS")]

AWARDS = [
    ("L3-CERT-IMCA", "Level 3 Certificate in Independent Advocacy (IMCA)", "certificate",
     ["301", "302", "303", "304", "305"]),
    ("L3-DIP-DOLS", "Level 3 Diploma in IMCA (DoLS)", "diploma",
     ["301", "302", "303", "304", "305", "310"]),
]


def load(apps, schema_editor):
    Competence = apps.get_model("qualifications", "Competence")
    Unit = apps.get_model("qualifications", "Unit")
    EvidenceRule = apps.get_model("qualifications", "EvidenceRule")
    Award = apps.get_model("qualifications", "Award")
    PriceList = apps.get_model("qualifications", "PriceList")
    comps = {}
    for code, name, label in COMPETENCES:
        comps[code], _ = Competence.objects.get_or_create(
            code=code, defaults={"name": name, "training_label": label}
        )
    units = {}
    for code, title, framework, kind, aliases, core in UNITS:
        units[code], _ = Unit.objects.get_or_create(
            code=code,
            defaults={"title": title, "framework": framework, "kind": kind, "aliases": aliases, "is_core": core},
        )
    for unit, legacy in CONVERSIONS:
        units[unit].conversion_from = units[legacy]
        units[unit].save(update_fields=["conversion_from"])
    for unit, stage, comp, level in EVIDENCE:
        EvidenceRule.objects.get_or_create(
            unit=units[unit], stage=stage, competence=comps[comp], defaults={"level": level}
        )
    for code, name, target, unit_codes in AWARDS:
        award, _ = Award.objects.get_or_create(code=code, defaults={"name": name, "target": target})
        award.units.set([units[c] for c in unit_codes])
    # The 2009 figures of the source guidance; the DH grant of April 2009.
    PriceList.objects.get_or_create(
        effective_from=date(2009, 4, 1),
        defaults={
            "unit_price": Decimal("550"),
            "conversion_price": Decimal("350"),
            "certificate_price": Decimal("1500"),
            "diploma_price": Decimal("2000"),
            "funding_per_advocate": Decimal("1000"),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("qualifications", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
