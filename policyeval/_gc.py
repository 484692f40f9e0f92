"""Pause Python's cyclic garbage collector around whole-estate runs.

Loading and auditing a large estate allocates millions of small objects that all stay
alive; each automatic collection then walks the whole live heap, which made big runs
several times slower and their time grow faster than the input. Reference counting still
frees everything as usual while paused; only cycles wait until the collector is resumed
at the end of the run (it is resumed only if it was running before).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore its previous state after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
