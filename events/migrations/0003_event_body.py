"""The log stores each event's JSON as text, encoded once (events.serializers.
event_json), instead of its data as JSON to be decoded and encoded per reader."""

from django.db import migrations, models

BATCH = 2000


def bodies_fill(apps, schema_editor):
    from events.serializers import event_json

    Event = apps.get_model("events", "Event")
    batch = []
    for event in Event.objects.order_by("id").iterator(chunk_size=BATCH):
        event.body = event_json(
            id=event.id, type=event.type, occurred_at=event.occurred_at, data=event.data
        )
        batch.append(event)
        if len(batch) == BATCH:
            Event.objects.bulk_update(batch, ["body"])
            batch = []
    Event.objects.bulk_update(batch, ["body"])


def data_fill(apps, schema_editor):
    import orjson

    Event = apps.get_model("events", "Event")
    batch = []
    for event in Event.objects.order_by("id").iterator(chunk_size=BATCH):
        event.data = orjson.loads(event.body)["data"]
        batch.append(event)
        if len(batch) == BATCH:
            Event.objects.bulk_update(batch, ["data"])
            batch = []
    Event.objects.bulk_update(batch, ["data"])


class Migration(migrations.Migration):
    dependencies = [("events", "0002_event_cause")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="body",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="event",
            name="data",
            field=models.JSONField(null=True),
        ),
        migrations.RunPython(bodies_fill, data_fill, elidable=True),
        migrations.RemoveField(model_name="event", name="data"),
    ]
