"""Password hashing runs beside the event loop, at the lowest CPU priority there is."""

import asyncio
import os
import sys
import threading

import pytest

from api import accounts


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread scheduling policies are Linux's")
async def test_hashing_threads_yield_the_cpu_and_the_loop_does_not() -> None:
    before = os.sched_getscheduler(0)
    password_hash = await accounts.hash_password("correct horse battery staple")
    assert await accounts.verify_password(password_hash, "correct horse battery staple")
    assert not await accounts.verify_password(password_hash, "wrong")

    def where() -> tuple[int, str]:
        return os.sched_getscheduler(0), threading.current_thread().name  # 0: this thread

    policy, name = await asyncio.get_running_loop().run_in_executor(accounts._hashing, where)
    assert name.startswith("argon2")
    assert policy == os.SCHED_IDLE != before
    assert os.sched_getscheduler(0) == before  # the loop's thread is untouched
