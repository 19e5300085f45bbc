"""The data migration giving existing entries a default account."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_existing_entries_move_to_a_default_account_per_owner():
    before, after = (
        [("journal", "0003_accounts")],
        [("journal", "0004_default_accounts")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        User = apps.get_model("auth", "User")
        Account = apps.get_model("journal", "Account")
        Entry = apps.get_model("journal", "JournalEntry")
        ann, ben = (User.objects.create(username=name) for name in ("ann", "ben"))
        User.objects.create(username="carl")  # no entries: no account
        kept = Account.objects.create(owner=ben, name="Ben's own")
        for owner in (ann, ann, ben):
            Entry.objects.create(
                owner=owner,
                pair="EUR/USD",
                direction="buy",
                entry_price=1,
                quantity=1,
                opened_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        apps = executor.loader.project_state(after).apps
        Account = apps.get_model("journal", "Account")
        Entry = apps.get_model("journal", "JournalEntry")
        assert Entry.objects.filter(account__isnull=True).count() == 0
        assert sorted(Account.objects.values_list("owner__username", "name")) == [
            ("ann", "Default"),
            ("ben", "Ben's own"),
        ]
        ben_entries = Entry.objects.filter(owner_id=ben.id)
        assert set(ben_entries.values_list("account", flat=True)) == {kept.id}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
