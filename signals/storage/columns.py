"""The Signal's columns, declared once, and what each form and write takes of them.

Every column of the model is listed here (signals/tests/test_storage_columns.py
fails on one that is not), in the order the detail form gives them, with the
smallest form it belongs to. The minimal form (list, feed) and the detail form
(detail, events, SignalSerializer) are built from this list, and so are the insert
and the update (signals.storage.writes). No model import: the queryset module,
which the model imports, reads the minimal form's columns from here.
"""

MINIMAL, DETAIL = "minimal", "detail"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", MINIMAL),
    ("pair", MINIMAL),
    ("timeframe", MINIMAL),
    ("direction", MINIMAL),
    ("entry_price", MINIMAL),
    ("stop_loss", MINIMAL),
    ("take_profit", MINIMAL),
    ("confidence", MINIMAL),
    ("status", MINIMAL),
    ("outcome", MINIMAL),
    ("timestamp", MINIMAL),
    ("risk_reward", DETAIL),
    ("strategy", DETAIL),
    ("indicators", DETAIL),
    ("reasoning", DETAIL),
    ("exit_price", DETAIL),
    ("pips", DETAIL),
    ("mae_pips", DETAIL),
    ("mfe_pips", DETAIL),
    ("closed_at", DETAIL),
    ("created_at", DETAIL),
    ("updated_at", DETAIL),
    ("score", DETAIL),
    ("calibration_id", DETAIL),
)

# The list and the feed: in the order of COLUMNS.
MINIMAL_FIELDS = tuple(name for name, form in COLUMNS if form == MINIMAL)
# The detail and the event payloads: every column.
DETAIL_FIELDS = tuple(name for name, _ in COLUMNS)
# The database gives the id; an insert stamps both times with the batch's time.
GENERATED = ("id",)
INSERT_STAMPS = ("created_at", "updated_at")
INSERT_FIELDS = tuple(
    name for name in DETAIL_FIELDS if name not in (*GENERATED, *INSERT_STAMPS)
)
# What an update may write: every column but the key and the creation time.
UPDATE_STAMP = "updated_at"
UPDATE_FIELDS = tuple(
    name for name in DETAIL_FIELDS if name not in ("id", "created_at")
)
