# Candle now lives in the market app (market 0001 took it over with the same table):
# signals forgets the model without dropping its table.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('signals', '0003_indicators_without_nul'),
        ('market', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='Candle',
                ),
            ],
            database_operations=[],
        ),
    ]
