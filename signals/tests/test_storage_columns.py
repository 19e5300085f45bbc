"""Every column of Signal is in the storage declaration, so no form or write leaves
one out: a field added to the model without its line in signals.storage.columns
fails here (ARCHITECTURE.md, "Adding a field to Signal")."""

from signals.models import Signal
from signals.serializers import SignalListSerializer, SignalSerializer
from signals.storage.columns import (
    COLUMNS,
    DETAIL_FIELDS,
    GENERATED,
    INSERT_FIELDS,
    INSERT_STAMPS,
    MINIMAL,
    MINIMAL_FIELDS,
    UPDATE_FIELDS,
    UPDATE_STAMP,
)
from signals.storage.forms import CONVERTERS

# Column names as the forms give them: a foreign key by its attname (`calibration_id`).
MODEL_COLUMNS = [field.attname for field in Signal._meta.concrete_fields]
# Deliberately not in each form or write, and why.
NOT_MINIMAL = {
    # The list and the feed carry what a row of a table shows; the detail, the
    # rest.
    "risk_reward",
    "strategy",
    "indicators",
    "reasoning",
    "exit_price",
    "pips",
    "mae_pips",
    "mfe_pips",
    "closed_at",
    "created_at",
    "updated_at",
    "score",
    "calibration_id",
}
NOT_DETAIL: set[str] = set()  # the detail form is the whole row
NOT_INSERTED = {
    "id"
}  # the sequence gives it (created_at, updated_at: the batch's time)
NOT_UPDATED = {"id", "created_at"}  # the key; the time of the insert


def test_the_declaration_lists_every_model_column_once():
    names = [name for name, _ in COLUMNS]
    assert sorted(names) == sorted(MODEL_COLUMNS)
    assert len(set(names)) == len(names)


def test_the_minimal_form_has_every_column_but_the_deliberate_exclusions():
    assert set(MINIMAL_FIELDS) == set(MODEL_COLUMNS) - NOT_MINIMAL
    assert [n for n, form in COLUMNS if form == MINIMAL] == list(MINIMAL_FIELDS)
    assert list(SignalListSerializer.Meta.fields) == list(MINIMAL_FIELDS)


def test_the_detail_form_has_every_column():
    assert set(DETAIL_FIELDS) == set(MODEL_COLUMNS) - NOT_DETAIL
    assert [name for name, _ in CONVERTERS] == list(DETAIL_FIELDS)
    assert list(SignalSerializer.Meta.fields) == list(DETAIL_FIELDS)


def test_the_insert_writes_every_column_the_database_does_not_give():
    assert set(INSERT_FIELDS) | set(INSERT_STAMPS) == set(MODEL_COLUMNS) - NOT_INSERTED
    assert set(GENERATED) == NOT_INSERTED
    stamps = {
        field.name
        for field in Signal._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    }
    assert set(INSERT_STAMPS) == stamps


def test_the_update_may_write_every_column_but_the_key_and_the_creation_time():
    assert set(UPDATE_FIELDS) == set(MODEL_COLUMNS) - NOT_UPDATED
    assert UPDATE_STAMP in UPDATE_FIELDS
