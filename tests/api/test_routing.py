"""How requests reach the task routes (api.web.paths, api.deps): every path form, strict task
ids, the bearer header, and what OpenAPI says. A script of good and bad requests runs in
order against one database, each with the answer it must get."""

from typing import Any

import httpx
import pytest

from api.main import create_app
from api.web.paths import task_route
from tests.conftest import app_settings, fresh_database, http_client
from tests.utils.server import Server
from tests.utils.tokens import auth, make_token

ALICE = auth("alice")
BOB = auth("bob")
JSON = {"Content-Type": "application/json"}

# (method, path, headers, body, status): in this order, so later requests see earlier writes.
# Alice's tasks are 1, 2, 3; Bob's is 4.
SCRIPT: list[tuple[str, str, Any, bytes | None, int]] = [
    ("GET", "/api/tasks", ALICE, None, 200),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": " first ", "description": "d"}', 201),
    ("POST", "/tasks", {**ALICE, **JSON}, b'{"title": "second", "completed": true}', 201),
    ("POST", "/api/alice/tasks", {**ALICE, **JSON}, b'{"title": "third"}', 201),
    ("POST", "/api/tasks", {**BOB, **JSON}, b'{"title": "bob\'s"}', 201),
    ("GET", "/api/tasks", ALICE, None, 200),
    ("GET", "/tasks", ALICE, None, 200),
    ("GET", "/api/alice/tasks", ALICE, None, 200),
    ("GET", "/api/bob/tasks", ALICE, None, 403),
    ("GET", "/api/al%00ice/tasks", ALICE, None, 403),
    ("GET", "/api/tasks/1", ALICE, None, 200),
    ("GET", "/api/tasks/4", ALICE, None, 404),
    ("GET", "/api/tasks/007", ALICE, None, 404),
    ("GET", "/api/tasks/0", ALICE, None, 422),
    ("GET", "/api/tasks/-1", ALICE, None, 422),
    ("GET", "/api/tasks/+1", ALICE, None, 422),
    ("GET", "/api/tasks/1.0", ALICE, None, 422),
    ("GET", "/api/tasks/%201", ALICE, None, 422),
    ("GET", "/api/tasks/1%20", ALICE, None, 422),
    ("GET", "/api/tasks/1_0", ALICE, None, 422),
    ("GET", "/api/tasks/1e0", ALICE, None, 422),
    ("GET", "/api/tasks/9223372036854775807", ALICE, None, 404),
    ("GET", "/api/tasks/9223372036854775808", ALICE, None, 422),
    ("GET", "/api/tasks/99999999999999999999", ALICE, None, 422),
    ("GET", "/api/tasks/1x", ALICE, None, 422),
    ("GET", "/api/tasks/\u0661", ALICE, None, 422),
    ("GET", "/api/tasks/", ALICE, None, 200),  # one trailing slash: answered, not redirected
    ("GET", "/api/tasks/1/", ALICE, None, 200),
    ("GET", "/api/tasks/1%2F", ALICE, None, 200),  # the same path once decoded
    ("GET", "/api/tasks//", ALICE, None, 404),
    ("GET", "/api/tasks/tasks", ALICE, None, 422),  # /api/tasks/{x} is always canonical
    ("GET", "/api/tasks/tasks/1", ALICE, None, 404),
    ("GET", "/api/tasks2/tasks", ALICE, None, 403),  # a user id "tasks2"
    ("GET", "/api/taskstasks", ALICE, None, 404),
    ("GET", "/api/tasks/1/complete", ALICE, None, 405),
    ("PATCH", "/api/tasks/1/complete", ALICE, None, 200),  # /complete is /toggle everywhere
    ("PATCH", "/tasks/1/complete", ALICE, None, 200),
    ("HEAD", "/api/tasks", ALICE, None, 405),
    ("OPTIONS", "/api/tasks", ALICE, None, 405),
    ("POST", "/api/tasks/1", {**ALICE, **JSON}, b'{"title": "x"}', 405),
    ("GET", "/api/tasks", {}, None, 401),
    ("GET", "/api/tasks", {"Authorization": "Basic YWxpY2U6eA=="}, None, 401),
    ("GET", "/api/tasks", {"Authorization": "bearer " + make_token("alice")}, None, 200),
    ("GET", "/api/tasks", {"Authorization": "Bearer  " + make_token("alice")}, None, 200),
    ("GET", "/api/tasks", {"Authorization": "Bearer "}, None, 401),
    ("GET", "/api/tasks", {"Authorization": "Bearer not-a-jwt"}, None, 401),
    ("GET", "/api/tasks", {"Authorization": "Bearer a.b.c"}, None, 401),
    ("GET", "/api/tasks", auth("alice", expires_in=-60), None, 401),
    ("GET", "/api/tasks", auth("alice", secret="another-secret-" * 4), None, 401),
    ("GET", "/api/tasks", [("Authorization", ALICE["Authorization"])] * 2, None, 400),
    ("GET", "/api/tasks", [("Authorization", ALICE["Authorization"]), *BOB.items()], None, 400),
    ("POST", "/api/tasks", {**ALICE, "Content-Type": "text/plain"}, b'{"title": "x"}', 415),
    ("POST", "/api/tasks", ALICE, b'{"title": "x"}', 415),
    ("POST", "/api/tasks", {**ALICE, "Content-Type": "application/x+json"}, b'{"title": "y"}', 201),
    ("POST", "/api/tasks", {**ALICE, "Content-Type": "text/plain+json"}, b'{"title": "y"}', 415),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "x"', 400),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b"", 422),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b"[]", 422),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": ""}', 422),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "x", "completed": "true"}', 422),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "x", "priority": "top"}', 422),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "a\\u0000b"}', 422),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "' + b"t" * 201 + b'"}', 422),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": '"3"'}, b'{"title": "put"}', 200),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": '"3"'}, b'{"title": "again"}', 412),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON}, b'{"title": "v", "version": 1}', 409),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": "nonsense"}, b'{"title": "x"}', 400),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": 'W/"4"'}, b'{"title": "x"}', 412),
    ("PUT", "/api/tasks/4", {**ALICE, **JSON}, b'{"title": "not mine"}', 404),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON}, b'{"description": null}', 200),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON}, b'{"title": null}', 422),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON, "If-Match": "*"}, b'{"completed": false}', 200),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON}, b"{}", 422),
    ("PATCH", "/api/tasks/2/toggle", ALICE, None, 200),
    ("PATCH", "/api/tasks/2/toggle", {**ALICE, "If-Match": '"1"'}, None, 412),
    ("PATCH", "/tasks/2/toggle", {**ALICE, "If-Match": '"99999999999"'}, None, 412),
    ("PATCH", "/api/alice/tasks/3/complete", ALICE, None, 200),
    ("PATCH", "/api/bob/tasks/3/complete", ALICE, None, 403),
    ("PATCH", "/api/alice/tasks/3/toggle/", ALICE, None, 200),
    ("DELETE", "/api/tasks/3", {**ALICE, "If-Match": '"1"'}, None, 412),
    ("DELETE", "/api/tasks/3", ALICE, None, 204),
    ("DELETE", "/api/tasks/3", ALICE, None, 404),
    ("DELETE", "/api/tasks/4", ALICE, None, 404),
    ("GET", "/api/tasks", BOB, None, 200),
]

# Under a root path (a proxy mounting the app at /api), routing strips it first.
UNDER_ROOT_PATH: list[tuple[str, str, Any, bytes | None, int]] = [
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "mounted"}', 201),
    ("GET", "/api/tasks", ALICE, None, 200),
    ("GET", "/api/api/tasks", ALICE, None, 200),
    ("GET", "/api/tasks/1", ALICE, None, 200),
    ("GET", "/api/api/alice/tasks", ALICE, None, 200),
    ("GET", "/api/alice/tasks", ALICE, None, 404),
]


async def run(server: Server, template: str, script: list[Any], root_path: str = "") -> None:
    with fresh_database(server, template) as url:
        async with http_client(create_app(app_settings(url)), root_path) as client:
            for method, path, headers, body, expected in script:
                response = await client.request(method, path, headers=headers, content=body)
                assert (method, path, response.status_code) == (method, path, expected), (
                    response.text
                )
                if response.status_code >= 400 and method != "HEAD":
                    assert isinstance(response.json()["detail"], str | list)
                assert "location" not in response.headers or response.status_code == 201


async def test_every_form_and_every_mistake_gets_its_answer(
    pg_server: Server, template_db: str
) -> None:
    await run(pg_server, template_db, SCRIPT)


async def test_under_a_root_path_too(pg_server: Server, template_db: str) -> None:
    await run(pg_server, template_db, UNDER_ROOT_PATH, root_path="/api")


async def test_answers_in_the_other_forms_are_the_canonical_ones(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/api/alice/tasks/", json={"title": "same"}, headers=ALICE)
    task_id = created.json()["id"]
    answers = [
        (await client.get(path, headers=ALICE)).json()
        for path in (f"/api/tasks/{task_id}", f"/tasks/{task_id}", f"/api/alice/tasks/{task_id}")
    ]
    assert answers == [created.json()] * 3


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/tasks", ("/api/tasks", None)),
        ("/api/tasks/", ("/api/tasks", None)),
        ("/tasks/5", ("/api/tasks/5", None)),
        ("/tasks/5/complete", ("/api/tasks/5/toggle", None)),
        ("/api/u-1/tasks/5/complete/", ("/api/tasks/5/toggle", "u-1")),
        ("/api/u-1/tasks", ("/api/tasks", "u-1")),
        ("/api/tasks/tasks/5", ("/api/tasks/tasks/5", None)),
        ("/api/tasks2/tasks", ("/api/tasks", "tasks2")),
        ("/api//tasks", None),
        ("/api/u/tasksx", None),
        ("/tasksx", None),
        ("/api/auth/me", None),
        ("/healthz", None),
    ],
)
def test_task_route(path: str, expected: tuple[str, str | None] | None) -> None:
    assert task_route(path) == expected


async def test_openapi_documents_only_the_canonical_form(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    task_paths = sorted(p for p in schema["paths"] if "tasks" in p)
    assert task_paths == [
        "/api/tasks", "/api/tasks/changes", "/api/tasks/{task_id}", "/api/tasks/{task_id}/toggle"
    ]  # fmt: skip
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path in [*task_paths, "/api/auth/me", "/api/auth/signout"]:
        for operation in schema["paths"][path].values():
            assert operation["security"] == [{"HTTPBearer": []}], path
            assert "401" in operation["responses"], path
    assert "security" not in schema["paths"]["/api/auth/signin"]["post"]
