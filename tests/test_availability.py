"""What the service concludes from one connection attempt (api.database.availability), against
a real PostgreSQL of the test's own."""

from collections.abc import Iterator

import psycopg
import pytest

from api.database.availability import Availability, DatabaseUnavailableError
from tests.utils.server import StoppableServer, stoppable_server


@pytest.fixture
def own_server() -> Iterator[StoppableServer]:
    with stoppable_server() as server:
        yield server


def availability(url: str) -> Availability:
    return Availability(url, min_delay=0.1, max_delay=0.2, connect_timeout=2)


async def test_a_full_database_is_up_and_a_stopped_one_down(own_server: StoppableServer) -> None:
    url = own_server.server.url("postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("alter system set max_connections = 5")
    own_server.stop()
    own_server.start()
    held = []
    try:
        with pytest.raises(psycopg.OperationalError) as full:  # noqa: PT012
            while True:
                held.append(psycopg.connect(url))
        assert "too many clients" in str(full.value)  # psycopg gives it no SQLSTATE

        full_one = availability(url)
        await full_one.start()
        full_one.check()  # up: it answers, it is only full
    finally:
        for conn in held:
            conn.close()

    own_server.stop()
    stopped = availability(url)
    await stopped.start()
    with pytest.raises(DatabaseUnavailableError):
        stopped.check()
    await stopped.stop()
