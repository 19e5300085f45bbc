"""Text fields take text only (api/fields.py), as the schema says."""

import pytest

from journal.tests.factories import entry_payload
from signals.tests.factories import signal_payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", [0, 1.5, True, ["x"], {"a": 1}])
def test_a_signal_with_a_number_for_its_reasoning_is_a_400_naming_it(
    staff_client, value
):
    response = staff_client.post(
        "/api/signals/", signal_payload(reasoning=value), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["reasoning"]


def test_a_journal_entry_with_a_number_for_its_notes_is_a_400_naming_it(user_client):
    response = user_client.post(
        "/api/journal/", entry_payload(notes=0, setup=7), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"notes", "setup"}


def test_text_is_still_taken(staff_client):
    response = staff_client.post(
        "/api/signals/", signal_payload(reasoning="breakout"), format="json"
    )
    assert response.status_code == 201 and response.json()["reasoning"] == "breakout"
