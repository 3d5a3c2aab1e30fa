"""Inspection certificates leave MEDIA_ROOT (served at /media/) for CERTIFICATE_ROOT (served by nothing)."""

import shutil
from pathlib import Path

from django.conf import settings
from django.db import migrations, models

import zhunong.quality.storage


def move_certificates(apps, schema_editor):  # noqa: ANN001, ANN201
    """Files uploaded before this migration sit under MEDIA_ROOT with the same relative name: move them."""
    Inspection = apps.get_model("quality", "Inspection")
    old_root, new_root = Path(settings.MEDIA_ROOT).resolve(), Path(settings.CERTIFICATE_ROOT).resolve()
    for name in Inspection.objects.exclude(certificate="").values_list("certificate", flat=True):
        source, target = (old_root / name).resolve(), (new_root / name).resolve()
        if not source.is_relative_to(old_root) or not target.is_relative_to(new_root):
            continue
        if source.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(target))


class Migration(migrations.Migration):

    dependencies = [
        ("quality", "0002_trace_event_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inspection",
            name="certificate",
            field=models.FileField(blank=True, max_length=200, storage=zhunong.quality.storage.certificate_storage,
                                   upload_to="certificates/%Y/", verbose_name="检测报告"),
        ),
        migrations.RunPython(move_certificates, migrations.RunPython.noop),
    ]
