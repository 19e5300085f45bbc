from django.db import migrations


def assign_default_accounts(apps, schema_editor):
    """Each user owning entries gets a default account, which takes their entries."""
    Account = apps.get_model("journal", "Account")
    JournalEntry = apps.get_model("journal", "JournalEntry")
    owners = (
        JournalEntry.objects.filter(account__isnull=True)
        .values_list("owner_id", flat=True)
        .distinct()
        .order_by()
    )
    for owner_id in list(owners):
        account = (
            Account.objects.filter(owner_id=owner_id).order_by("id").first()
            or Account.objects.create(owner_id=owner_id, name="Default")
        )
        JournalEntry.objects.filter(owner_id=owner_id, account__isnull=True).update(
            account=account
        )


class Migration(migrations.Migration):
    dependencies = [
        ("journal", "0003_accounts"),
    ]

    operations = [
        migrations.RunPython(assign_default_accounts, migrations.RunPython.noop),
    ]
