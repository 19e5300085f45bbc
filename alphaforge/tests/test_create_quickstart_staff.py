import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run(settings, debug: bool) -> str:  # type: ignore[no-untyped-def]
    from io import StringIO

    settings.DEBUG = debug
    out = StringIO()
    call_command(
        "create_quickstart_staff", "--url", "http://127.0.0.1:9000", stdout=out
    )
    return out.getvalue()


def test_the_first_start_makes_a_superuser_whose_password_is_printed_once(
    settings, client
):
    first = run(settings, debug=True)
    password = re.search(r"password '([^']+)'", first).group(1)
    assert "http://127.0.0.1:9000/admin/" in first
    assert client.login(username="admin", password=password)
    assert get_user_model().objects.get(username="admin").is_superuser
    second = run(settings, debug=True)
    assert password not in second and "exists already" in second
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_with_debug_off_it_makes_and_prints_nothing(settings):
    assert run(settings, debug=False) == ""
    assert not get_user_model().objects.exists()
