# Adds EPCIS event ids, linked batches, a caller reference and the recorder to trace events.
# event_uuid is added nullable, filled per row, then made unique (a callable default alone would give
# every existing row the same value).

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_ids_and_links(apps, schema_editor):
    TraceEvent = apps.get_model("quality", "TraceEvent")
    for event in TraceEvent.objects.all().only("pk", "batch_id"):
        event.event_uuid = uuid.uuid4()
        event.save(update_fields=["event_uuid"])
        event.linked_batches.add(event.batch_id)


class Migration(migrations.Migration):

    dependencies = [
        ('producers', '0001_initial'),
        ('quality', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='traceevent',
            name='event_uuid',
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name='traceevent',
            name='linked_batches',
            field=models.ManyToManyField(blank=True, related_name='linked_trace_events', to='producers.harvestbatch'),
        ),
        migrations.AddField(
            model_name='traceevent',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='traceevent',
            name='reference',
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(fill_ids_and_links, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='traceevent',
            name='event_uuid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
