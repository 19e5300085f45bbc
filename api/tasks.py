"""The HTTP layer's scheduled work."""

from core.background import shared_task

from .idempotency import idempotency_prune


@shared_task(name="api.prune_idempotency")
def prune_idempotency() -> int:
    """Delete expired Idempotency-Key records (safe to run twice)."""
    return idempotency_prune()
