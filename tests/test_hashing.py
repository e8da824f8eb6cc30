"""Password hashing runs beside the event loop, at the lowest CPU priority there is."""

import asyncio
import os
import sys
import threading

import pytest

from api.identity import accounts


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread scheduling policies are Linux's")
async def test_hashing_threads_yield_the_cpu_and_the_loop_does_not() -> None:
    before = os.sched_getscheduler(0)
    password_hash = await accounts.hash_password("correct horse battery staple")
    parameters = accounts.parameters_of(password_hash)
    assert await accounts.hash_with(parameters, "correct horse battery staple") == password_hash
    assert await accounts.hash_with(parameters, "wrong") != password_hash

    def where() -> tuple[int, int, str]:
        thread = threading.get_native_id()
        return (
            os.sched_getscheduler(0),
            os.getpriority(os.PRIO_PROCESS, thread),
            threading.current_thread().name,
        )

    policy, niceness, name = await asyncio.get_running_loop().run_in_executor(
        accounts._hashing, where
    )
    assert name.startswith("argon2")
    if idle_policy_allowed():
        assert policy == os.SCHED_IDLE != before
    else:  # a sandbox that refuses SCHED_IDLE: the nice value instead
        assert niceness >= accounts.HASHING_NICENESS
    assert os.sched_getscheduler(0) == before  # the loop's thread is untouched


def idle_policy_allowed() -> bool:
    """Whether this system lets a thread take SCHED_IDLE (tried in a throwaway thread)."""
    allowed: list[bool] = []

    def attempt() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            allowed.append(True)
        except OSError:
            allowed.append(False)

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return allowed[0]
