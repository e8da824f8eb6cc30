"""The garbage collector of a server process, tuned for many requests in flight.

CPython runs a young collection every few hundred to few thousand net allocations of container
objects, and the older collections that follow visit every object that has survived to them. A
request in flight is a few hundred such objects (scope, headers, coroutines, futures, timers), and
under overload thousands of requests wait at once: they survive young collections, and the
older collections visit all of them, and every module, class and function loaded at startup,
again and again, enough to leave connections in the listen queue for seconds
(how-to/benchmark.md).

So, once the application is built: everything alive is moved out of the collector's sight
(gc.freeze: modules, classes, the app; none of it is garbage), and collections run far less often.
Reference counting still frees almost everything at once; only reference cycles wait longer.

The thresholds mean different things in CPython's two collectors:
- the generational one (3.11 to 3.13, and again from 3.15): (young, middle, old), a young
  collection every `young` net allocations, a middle one every `middle` young ones, an old one
  every `old` middle ones (defaults 700 or 2000, 10, 10);
- the incremental one of 3.14: (young, old scan rate), a young collection every `young` net
  allocations, each with an increment of the old generation whose size goes down as the rate
  goes up (defaults 2000, 10); a third value is ignored, and reported as 0.
The collector in use is told by that 0, not by the version number.
"""

import gc

YOUNG = 20_000  # a young collection every 20,000 net allocations
GENERATIONAL = (YOUNG, 20, 20)  # a middle one every 20 young ones, an old one every 20 middle
INCREMENTAL = (YOUNG, 20)  # the old generation scanned at half the default rate

_INCREMENTAL_COLLECTOR = gc.get_threshold()[2] == 0  # read at import, before any tuning


def thresholds() -> tuple[int, ...]:
    """What tune_for_serving sets, for the collector this interpreter has."""
    return INCREMENTAL if _INCREMENTAL_COLLECTOR else GENERATIONAL


def tune_for_serving() -> None:
    """Call once per server process, after the application is built and before it serves."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds())
