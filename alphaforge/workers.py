"""The gunicorn worker class of the realtime server (`-k alphaforge.workers.
RealtimeWorker`): uvicorn's worker with its `websockets-sansio` WebSocket
implementation. Measured by bench/ws_frames.py (BENCHMARKS.md, "What a WebSocket
frame costs"): it spends the least server CPU per frame of uvicorn's three, where
the worker's default ("auto", the `websockets` implementation) spent about 1.5× as
much; the live channels' fan-out is bound by that cost."""

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker


class RealtimeWorker(UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "ws": "websockets-sansio",
    }
