"""Statements that write many rows at once, and how many rows a statement may carry."""

# PostgreSQL takes at most 65,535 bind parameters a statement; stay well under it.
MAX_BIND_PARAMS = 60000


def bulk_batch_size(field_count: int) -> int:
    """Rows a statement may carry when each binds `field_count` parameters."""
    return max(1, MAX_BIND_PARAMS // field_count)
