"""Password hashing runs beside the event loop, at a lower CPU priority than the rest."""

import asyncio
import os
import sys
import threading

import pytest

from api import accounts


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_hashing_threads_yield_the_cpu_and_the_loop_does_not() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    password_hash = await accounts.hash_password("correct horse battery staple")
    assert await accounts.verify_password(password_hash, "correct horse battery staple")
    assert not await accounts.verify_password(password_hash, "wrong")

    def where() -> tuple[int, str]:
        return os.getpriority(os.PRIO_PROCESS, 0), threading.current_thread().name

    niceness, name = await asyncio.get_running_loop().run_in_executor(accounts._hashing, where)
    assert name.startswith("argon2")
    assert niceness >= accounts.HASHING_NICENESS > before
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the loop's thread is untouched
