# The Candle model moves here from the signals app. Its table stays where it is
# (signals_candle, created by signals 0001 and 0002), so this migration only adds the
# model to market's state; signals 0004 then removes it from signals' state. Nothing
# touches the table. The content type follows the model, so permissions and admin log
# entries that point at it keep pointing at it.

from django.db import migrations, models


def content_type_move(apps, schema_editor, old_app, new_app):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=new_app, model='candle').exists():
        return
    ContentType.objects.using(db).filter(app_label=old_app, model='candle').update(
        app_label=new_app
    )
    ContentType.objects.clear_cache()


def candle_content_type_to_market(apps, schema_editor):
    content_type_move(apps, schema_editor, 'signals', 'market')


def candle_content_type_to_signals(apps, schema_editor):
    content_type_move(apps, schema_editor, 'market', 'signals')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        # The table must exist with all its columns before market takes the model over.
        ('signals', '0003_indicators_without_nul'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Candle',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('pair', models.CharField(max_length=25)),
                        ('timeframe', models.CharField(choices=[('1m', 'M1'), ('5m', 'M5'), ('15m', 'M15'), ('30m', 'M30'), ('1h', 'H1'), ('4h', 'H4'), ('1d', 'D1')], max_length=3)),
                        ('timestamp', models.DateTimeField(help_text='Open time of the candle (UTC).')),
                        ('open', models.DecimalField(decimal_places=8, max_digits=20)),
                        ('high', models.DecimalField(decimal_places=8, max_digits=20)),
                        ('low', models.DecimalField(decimal_places=8, max_digits=20)),
                        ('close', models.DecimalField(decimal_places=8, max_digits=20)),
                        ('volume', models.DecimalField(decimal_places=8, default=0, max_digits=24)),
                        ('source', models.CharField(db_default='import', help_text='Where the candle came from: import, or synthetic (demo data).', max_length=20)),
                    ],
                    options={
                        'db_table': 'signals_candle',
                        'ordering': ['pair', 'timeframe', 'timestamp'],
                        'constraints': [models.UniqueConstraint(fields=('pair', 'timeframe', 'timestamp'), name='uniq_candle_pair_tf_ts'), models.CheckConstraint(condition=models.Q(('high__gte', models.F('low'))), name='candle_high_not_below_low')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            candle_content_type_to_market, candle_content_type_to_signals
        ),
    ]
