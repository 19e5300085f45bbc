"""Fees and swap: the gross and net pnl of entries and the stats' cost totals."""

import pytest

from journal.models import JournalEntry
from journal.tests.factories import entry_payload

pytestmark = pytest.mark.django_db
LIST, STATS = "/api/journal/", "/api/journal/stats/"


def money(body: dict) -> tuple:
    return tuple(body[k] for k in ("gross_pnl", "fees", "swap", "pnl", "outcome"))


def test_costs_turn_the_gross_pnl_into_the_net_pnl(user_client):
    body = user_client.post(
        LIST, entry_payload(fees=7.5, swap=-1.25), format="json"
    ).json()
    assert money(body) == (50.0, 7.5, -1.25, 41.25, "win")
    # Costs may turn a gross win into a net loss; the R multiple ignores them.
    body = user_client.post(LIST, entry_payload(fees=60), format="json").json()
    assert money(body) == (50.0, 60.0, 0.0, -10.0, "loss") and body["r_multiple"] == 1


def test_a_clients_net_pnl_keeps_its_gross_when_the_costs_change(user_client):
    body = user_client.post(
        LIST, entry_payload(pnl=20, fees=5, swap=1), format="json"
    ).json()
    assert money(body) == (24.0, 5.0, 1.0, 20.0, "win")
    changed = user_client.patch(f"{LIST}{body['id']}/", {"fees": 30}, format="json")
    assert money(changed.json()) == (24.0, 30.0, 1.0, -5.0, "loss")


def test_a_clients_gross_pnl_is_kept_and_costs_come_off_it(user_client):
    body = user_client.post(
        LIST, entry_payload(gross_pnl=-3, fees=1, swap=0.5), format="json"
    ).json()
    assert money(body) == (-3.0, 1.0, 0.5, -3.5, "loss")
    # Giving both is fine when they agree.
    body = user_client.post(
        LIST, entry_payload(gross_pnl=10, pnl=8, fees=2), format="json"
    ).json()
    assert money(body) == (10.0, 2.0, 0.0, 8.0, "win")


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"fees": -1}, "fees"),
        ({"fees": "x"}, "fees"),
        ({"swap": None}, "swap"),
        ({"gross_pnl": 10, "pnl": 9, "fees": 2}, "pnl"),
        ({"pnl": 9999999999999998, "fees": 5}, "fees"),
        ({"exit_price": None, "closed_at": None, "gross_pnl": 5}, "gross_pnl"),
    ],
)
def test_bad_costs_are_400_naming_the_field_and_write_nothing(
    user_client, overrides, field
):
    response = user_client.post(LIST, entry_payload(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not JournalEntry.objects.exists()


def test_stats_total_the_costs_of_closed_entries(user_client):
    for overrides in (
        {"fees": 2.5, "swap": -1},
        {"fees": 1, "swap": 3, "exit_price": 1.09},
        {"fees": 100, "swap": 100, "exit_price": None, "closed_at": None},  # open
    ):
        response = user_client.post(LIST, entry_payload(**overrides), format="json")
        assert response.status_code == 201
    stats = user_client.get(STATS).json()
    assert stats["total_fees"] == 3.5 and stats["total_swap"] == 2
    assert stats["gross_pnl"] == 50 - 100
    assert stats["total_pnl"] == 50 - 100 - 3.5 + 2
    filtered = user_client.get(f"{STATS}?pair=EUR/USD").json()
    assert {k: filtered[k] for k in ("total_fees", "total_swap", "gross_pnl")} == {
        "total_fees": 3.5,
        "total_swap": 2,
        "gross_pnl": -50,
    }
