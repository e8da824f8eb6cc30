"""GET /metrics in one process: what is counted, with which labels, and who may read it.
The counters belong to the process, which other tests share: each test compares before and
after."""

import asyncio

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from api.identity import accounts
from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.observability.metrics import parse, scrape, value
from tests.utils.tokens import auth

REQUESTS = "todo_api_http_requests_total"
ALICE = auth("alice")


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    ids = [
        (await client.post("/api/tasks", json={"title": f"t{n}"}, headers=ALICE)).json()["id"]
        for n in range(2)
    ]
    before = await scrape(client)
    for task_id in ids:
        assert (await client.get(f"/api/tasks/{task_id}", headers=ALICE)).status_code == 200
    await client.get("/api/tasks/999999", headers=ALICE)
    for path in ("/wp-admin", "/a/b/c", "/api/tasks/1/nope"):
        assert (await client.get(path)).status_code == 404
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    one = {"route": "/api/tasks/{task_id}", "method": "GET"}
    assert delta(REQUESTS, **one, status="200") == 2
    assert delta(REQUESTS, **one, status="404") == 1
    assert delta(REQUESTS, route="unmatched", method="GET", status="404") == 3
    assert delta("todo_api_http_request_duration_seconds_count", **one) == 3
    assert delta("todo_api_http_request_duration_seconds_bucket", **one, le="+Inf") == 3
    routes = {dict(labels).get("route") for name, labels in after if name == REQUESTS}
    assert not any(route and ("wp-admin" in route or route[-1].isdigit()) for route in routes)


async def test_the_pool_and_queues_are_sampled(client: httpx.AsyncClient) -> None:
    await client.get("/api/tasks", headers=ALICE)  # a connection is open
    samples = await scrape(client)
    assert value(samples, "todo_api_db_pool_max_size") == 4  # app_settings' POOL_MAX_SIZE
    assert 1 <= value(samples, "todo_api_db_pool_size") <= 4
    for name in ("todo_api_db_pool_connections_in_use", "todo_api_db_pool_requests_waiting"):
        assert (name, frozenset()) in samples  # their values move with other tests' pools
    assert value(samples, "todo_api_http_requests_in_flight") >= 1  # the scrape itself
    assert value(samples, "todo_api_admission_queue_length") == 0
    assert value(samples, "todo_api_password_hash_queue_limit") == accounts.queue.limit
    assert value(samples, "todo_api_password_hash_queue_length") == 0


async def test_an_admission_wait_is_observed(database_url: str) -> None:
    app = create_app(app_settings(database_url, max_active_requests=1))
    async with http_client(app) as client:
        before = await scrape(client)
        answers = await asyncio.gather(*(client.get("/api/tasks", headers=ALICE) for _ in range(4)))
        assert [answer.status_code for answer in answers] == [200] * 4
        after = await scrape(client)
    name = "todo_api_admission_wait_seconds_count"
    assert value(after, name, outcome="admitted") - value(before, name, outcome="admitted") >= 1


async def test_database_errors_are_counted_by_sqlstate_class(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    before = await scrape(client)
    conn.execute("drop function app.begin_request(app.request_context) cascade")  # 42883
    assert (await client.get("/api/tasks", headers=ALICE)).status_code == 500
    after = await scrape(client)
    name = "todo_api_db_errors_total"
    assert value(after, name, sqlstate_class="42") - value(before, name, sqlstate_class="42") == 1


async def test_authentication_failures_are_counted_by_reason(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    await client.get("/api/tasks", headers={"Authorization": "Bearer not-a-token"})
    await client.get("/api/tasks")
    await client.post("/api/auth/signin", json={"email": "no@example.com", "password": "x" * 12})
    await client.post("/api/auth/refresh", json={"refresh_token": "made-up"})
    after = await scrape(client)
    name = "todo_api_auth_failures_total"
    for reason, count in (("token_rejected", 2), ("sign_in_failed", 1), ("refresh_invalid", 1)):
        assert value(after, name, reason=reason) - value(before, name, reason=reason) == count


def client_from(app: object, address: str, **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1"])
async def test_loopback_clients_may_scrape_by_default(database_url: str, address: str) -> None:
    app = create_app(app_settings(database_url))
    async with http_client(app), client_from(app, address) as client:
        assert (await client.get("/metrics")).status_code == 200


@pytest.mark.parametrize("address", ["203.0.113.9", "10.0.0.2", "::ffff:203.0.113.9", "unknown"])
async def test_other_clients_may_not_by_default(database_url: str, address: str) -> None:
    app = create_app(app_settings(database_url))
    async with http_client(app), client_from(app, address) as client:
        response = await client.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.json()["detail"]
    assert "todo_api" not in response.text


async def test_with_a_token_only_its_bearer_may_scrape(database_url: str) -> None:
    token = "scrape-token-" + "s" * 32
    app = create_app(app_settings(database_url, metrics_token=SecretStr(token)))
    async with http_client(app):
        for address in ("127.0.0.1", "203.0.113.9"):
            async with client_from(app, address) as client:
                assert (await client.get("/metrics")).status_code == 401
                wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
                assert wrong.status_code == 401
                assert wrong.headers["www-authenticate"] == "Bearer"
                right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
                assert right.status_code == 200
                assert value(parse(right.text), "todo_api_db_pool_max_size") == 4


def test_the_dashboard_shows_only_metrics_the_service_has() -> None:
    import json
    import re
    from pathlib import Path

    from prometheus_client import REGISTRY

    dashboard = json.loads(
        (Path(__file__).parents[2] / "how-to/grafana-dashboard.json").read_text()
    )
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\b(todo_api_[a-z_]+)\{", expr)}
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    known = {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in suffixes.get(family.type, [])
    }
    assert used
    assert used <= known, used - known
