import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from journal.import_runs import import_run
from journal.imports import import_create
from journal.models import Account
from journal.parsers import FORMATS


class Command(BaseCommand):
    help = (
        "Import a file of trades into a user's account, as POST /api/journal/import/ "
        "does, in this process; rows the account already has are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The file.")
        parser.add_argument("--user", required=True, help="Username or id.")
        parser.add_argument("--account", required=True, help="Account id or name.")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--mapping", help="csv: JSON of our field → column.")
        parser.add_argument(
            "--no-atomic",
            action="store_true",
            help="Write the good rows even when some are refused.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        name = options["user"]
        user = users.filter(
            Q(username=name) | Q(pk=int(name) if name.isdigit() else None)
        ).first()
        if user is None:
            raise CommandError(f"no user {name!r}")
        wanted = options["account"]
        accounts = Account.objects.for_owner(user)
        account = accounts.filter(
            Q(name=wanted) | Q(pk=int(wanted) if wanted.isdigit() else None)
        ).first()
        if account is None:
            raise CommandError(f"{user.username} has no account {wanted!r}")
        try:
            content = Path(options["path"]).read_bytes()
            mapping = json.loads(options["mapping"]) if options["mapping"] else None
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from error
        job = import_create(
            owner_id=user.pk,
            account=account,
            format=options["format"],
            content=content,
            mapping=mapping,
            atomic=not options["no_atomic"],
            enqueue=False,
        )
        job = import_run(import_id=job.pk)
        for refusal in job.refused:
            self.stderr.write(f"row {refusal['row']}: {refusal['reason']}")
        if job.error:
            raise CommandError(job.error)
        self.stdout.write(
            f"import {job.pk}: {job.created} created, {job.skipped} skipped, "
            f"{len(job.refused)} refused"
        )
