"""The Flask class the service runs on: Flask, with its per-request sync check answered once per function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

# More distinct hooks, views and error handlers than any app of ours registers: past it, no caching.
_MAX_REMEMBERED = 4096


class ServiceFlask(Flask):
    """Flask with ``ensure_sync`` remembered per function.

    Flask asks ``inspect.iscoroutinefunction`` about every hook and view on every request (a dozen
    times for one API call). The answer never changes for a function, so it is worked out once.
    Flask documents ``ensure_sync`` as the method to override to change how functions are run.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synced: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer for ``func``, remembered."""
        try:
            return self._synced[func]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable: ask Flask each time
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if len(self._synced) < _MAX_REMEMBERED:
            self._synced[func] = synced
        return synced
