"""The garbage collector of a server process, tuned for many requests in flight.

CPython runs a collection every 700 net allocations of container objects, and a collection of
an older generation visits every object that has survived to it. A request in flight is a few
hundred such objects (scope, headers, coroutines, futures, timers), and under overload thousands
of requests wait at once: they survive young collections, and the older collections that follow
visit all of them, and every module, class and function loaded at startup, again and again. With
10,000 connections that was a third of the event loop's time, enough to leave connections in the
listen queue for seconds (how-to/benchmark.md).

So, once the application is built: everything alive is moved out of the collector's sight
(gc.freeze: modules, classes, the app; none of it is garbage), and collections run far less often.
Reference counting still frees almost everything at once; only reference cycles wait longer.
"""

import gc

# (young, middle, old): a young collection every 20,000 net allocations instead of 700, a middle
# one every 20 young ones, an old one every 20 middle ones (CPython's defaults: 700, 10, 10).
THRESHOLDS = (20_000, 20, 20)


def tune_for_serving() -> None:
    """Call once per server process, after the application is built and before it serves."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
