"""What else runs when a transaction that recorded events commits.

The event log imports no other app, so an app that must react to new events at once
(webhooks wakes its dispatcher) registers a hook here at start-up. Hooks run after
the commit, never inside the writing transaction, and a failing hook is logged and
does not fail the write: every reader of the log also polls it.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)
COMMIT_HOOKS: list[Callable[[], None]] = []


def register_commit_hook(hook: Callable[[], None]) -> None:
    if hook not in COMMIT_HOOKS:
        COMMIT_HOOKS.append(hook)


def commit_hooks_run() -> None:
    """Call every registered hook once (transaction.on_commit calls this)."""
    for hook in COMMIT_HOOKS:
        try:
            hook()
        except Exception:
            logger.warning("event commit hook %s failed", hook.__name__, exc_info=True)
