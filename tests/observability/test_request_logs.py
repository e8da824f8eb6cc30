"""Each request's log line, and that no credential reaches a log line whatever the traffic."""

import re

import httpx
import psycopg

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.observability.capture import captured, records, request_lines
from tests.utils.tokens import SECRET, auth, make_token

PASSWORD = "correct horse battery staple 7"
WRONG_PASSWORD = "Tr0ub4dor&3-wrong"


async def test_a_request_line_names_the_route_template_and_the_caller(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/api/tasks", json={"title": "a"}, headers=auth("alice"))
    task_id = created.json()["id"]
    with captured() as stream:
        got = await client.get(
            f"/api/tasks/{task_id}",
            headers={
                **auth("alice"),
                "X-Request-ID": "req-42",
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            },
        )
    assert got.status_code == 200
    [line] = request_lines(stream)
    assert line["method"] == "GET"
    assert line["route"] == "/api/tasks/{task_id}"
    assert line["status"] == 200
    assert line["request_id"] == "req-42" == got.headers["x-request-id"]
    assert line["user_id"] == "alice"
    assert line["client"] == "127.0.0.1"
    assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert 0 < line["duration_ms"] < 10_000
    assert "path" not in line  # the template says it; the id is not a field of its own


async def test_an_unsane_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    with captured() as stream:
        response = await client.get("/healthz", headers={"X-Request-ID": "a b\tc;" + "x" * 200})
    [line] = request_lines(stream)
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert response.headers["x-request-id"] == line["request_id"]


async def test_an_unknown_path_is_one_label_with_the_path_escaped(
    client: httpx.AsyncClient,
) -> None:
    with captured("text") as stream:
        await client.get("/no/such/%0a%1b[31mroute")
    [line] = [text for text in stream.getvalue().splitlines() if "api.request" in text]
    assert "route=unmatched" in line
    assert "path=/no/such/\\x0a\\x1b[31mroute" in line


async def test_no_credential_reaches_a_log_line(
    database_url: str, conn: psycopg.Connection
) -> None:
    """Real traffic of every kind, logged as `serve` logs it; then a search of every line for
    what must never be there."""
    session_like = "opaque-session-token-" + "z" * 24
    with captured() as stream:
        async with http_client(create_app(app_settings(database_url))) as client:
            email = "leak-test@example.com"
            up = await client.post(
                "/api/auth/signup", json={"email": email, "password": PASSWORD, "name": "L"}
            )
            assert up.status_code == 201, up.text
            session = up.json()
            wrong = await client.post(
                "/api/auth/signin", json={"email": email, "password": WRONG_PASSWORD}
            )
            assert wrong.status_code == 401
            signed_in = (
                await client.post("/api/auth/signin", json={"email": email, "password": PASSWORD})
            ).json()
            refreshed = await client.post(
                "/api/auth/refresh", json={"refresh_token": signed_in["refresh_token"]}
            )
            assert refreshed.status_code == 200
            reused = await client.post(
                "/api/auth/refresh", json={"refresh_token": signed_in["refresh_token"]}
            )
            assert reused.status_code == 401
            bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
            created = await client.post("/api/tasks", json={"title": "t"}, headers=bearer)
            assert created.status_code == 201
            await client.get("/api/tasks", headers=bearer)
            await client.get("/api/auth/me", headers=bearer)
            forged = make_token("mallory", secret="another-secret-long-enough-to-sign-with!!")
            await client.get("/api/tasks", headers={"Authorization": f"Bearer {forged}"})
            await client.get("/api/tasks", headers={"Authorization": f"Bearer {session_like}"})
            await client.post(
                "/api/auth/signin",
                content=f'{{"email": "{email}", "password": "{PASSWORD}"',  # malformed JSON
                headers={"Content-Type": "application/json"},
            )
            await client.post("/api/auth/signup", json={"email": "x", "password": PASSWORD})
            # An error no handler names: a 500, its traceback in the log alone.
            conn.execute("drop function app.begin_request(app.request_context) cascade")
            failed = await client.get("/api/tasks", headers=bearer)
            assert failed.status_code == 500
            assert "Traceback" not in failed.text
            await client.post("/api/auth/signout", headers=bearer)
    text = stream.getvalue()
    lines = records(stream)  # every line is one JSON object
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert any("Traceback" in line.get("exc_info", "") for line in errors), errors
    assert len([line for line in lines if line["logger"] == "api.request"]) == 14
    secrets = {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "signing secret": SECRET,
        "session token": session_like,
        "forged token": forged,
        "sign-up access token": session["access_token"],
        "sign-up refresh token": session["refresh_token"],
        "refresh token": signed_in["refresh_token"],
        "new refresh token": refreshed.json()["refresh_token"],
        "access token": refreshed.json()["access_token"],
    }
    password = psycopg.conninfo.conninfo_to_dict(database_url).get("password")
    if password:
        secrets["database password"] = str(password)
    for name, value in secrets.items():
        assert value not in text, f"the {name} is in the log"
    assert "Bearer ey" not in text
