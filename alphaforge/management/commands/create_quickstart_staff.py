"""The quick start's staff account: made once, its random password printed once."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "On the embedded development default (DEBUG on) only: create a superuser "
        f"'{USERNAME}' with a random password when there is no superuser yet, and "
        "print where the admin is and, this once, the password. Does nothing with "
        "DEBUG off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="the server's base URL"
        )

    def handle(self, *args: Any, url: str, **options: Any) -> None:
        if not settings.DEBUG:
            return
        users = get_user_model()
        admin_url = url.rstrip("/") + "/admin/"
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write(f"Admin: {admin_url} (staff account exists already)")
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(USERNAME, password=password)
        self.stdout.write(
            f"Admin: {admin_url}  user {USERNAME!r}  password {password!r} "
            "(shown this once; change it with `manage.py changepassword admin`)"
        )
