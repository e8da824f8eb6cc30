"""The dialects frontends written for other backends speak (api.web.paths, api.web.error_body,
the auth and toggle routes): register and login beside signup and signin, the OAuth2 password
form, tokens nested under `token`, `/complete` everywhere `/toggle` is, setting `completed`
instead of flipping it, `message` and `error` on every error, and DELETE's answer."""

from typing import Any

import httpx
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.errors import error_json
from tests.utils.tokens import auth

ALICE = auth("alice")
BOB = auth("bob")
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ADA = {"email": "ada@example.com", "password": "correct horse battery"}


async def new_task(client: httpx.AsyncClient, title: str = "t") -> dict[str, Any]:
    created = await client.post("/api/tasks", json={"title": title}, headers=ALICE)
    assert created.status_code == 201, created.text
    task: dict[str, Any] = created.json()
    return task


def tokens_work(session: dict[str, Any]) -> None:
    """The sign-in answer carries the pair at the top and again under `token`."""
    pair = {k: session[k] for k in ("access_token", "refresh_token", "token_type", "expires_in")}
    assert session["token"] == pair
    assert pair["token_type"] == "bearer"


# Sign-up and sign-in under the other names.


async def test_register_takes_username_for_the_name(client: httpx.AsyncClient) -> None:
    body = {**ADA, "username": "Ada Lovelace"}
    registered = await client.post("/api/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    session = registered.json()
    tokens_work(session)
    assert session["user"]["name"] == "Ada Lovelace"
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {session['token']['access_token']}"}
    )
    assert me.json()["name"] == me.json()["user"]["name"] == "Ada Lovelace"
    again = await client.post("/api/auth/signup", json={**ADA, "name": "Ada"})
    assert again.status_code == 409
    assert again.json() == error_json("Email already registered")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({**ADA, "name": "Ada", "username": "Ada"}, "username"),  # which one is meant?
        ({**ADA}, "name"),
        ({**ADA, "username": ""}, "username"),
        ({**ADA, "username": 5}, "username"),
    ],
)
async def test_register_refuses_a_name_it_cannot_take(
    client: httpx.AsyncClient, body: dict[str, Any], where: str
) -> None:
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 422, response.text
    assert any(issue["loc"] == ["body", where] for issue in response.json()["detail"])


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> dict[str, Any]:
    signed_up = await client.post("/api/auth/signup", json={**ADA, "name": "Ada"})
    assert signed_up.status_code == 201
    session: dict[str, Any] = signed_up.json()
    return session


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/signin"])
@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"email": "ada@example.com", "password": "correct horse battery"}', JSON),
        (b'{"username": "ADA@example.com", "password": "correct horse battery"}', JSON),
        (b"username=ada%40example.com&password=correct+horse+battery", FORM),
        (
            b"grant_type=password&username=ada%40example.com&password=correct%20horse%20battery"
            b"&scope=&client_id=web&client_secret=",
            {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        ),
    ],
)
async def test_login_as_json_or_as_the_oauth2_password_form(
    client: httpx.AsyncClient,
    ada: dict[str, Any],
    path: str,
    content: bytes,
    headers: dict[str, str],
) -> None:
    response = await client.post(path, content=content, headers=headers)
    assert response.status_code == 200, response.text
    session = response.json()
    tokens_work(session)
    assert session["user"]["id"] == ada["user"]["id"]
    bearer = {"Authorization": f"{session['token_type']} {session['token']['access_token']}"}
    assert (await client.get("/api/tasks", headers=bearer)).status_code == 200


@pytest.mark.parametrize(
    ("content", "headers", "status", "where"),
    [
        (b"username=ada%40example.com&password=wrong+password", FORM, 401, None),
        (b"username=nobody%40example.com&password=x", FORM, 401, None),
        (b"username=ada%40example.com", FORM, 422, "password"),
        (b"username=not-an-email&password=x", FORM, 422, "username"),
        (b"username=a%40example.com&password=x&grant_type=client_credentials", FORM, 422,
         "grant_type"),
        (b"username=a%40example.com&password=x&password=y", FORM, 422, "password"),
        (b"username=a%40example.com&password=x&role=admin", FORM, 422, "role"),
        (b"username=a%40example.com&password=%00", FORM, 422, "password"),
        (b"username=a%40example.com&password=%FF", FORM, 400, None),
        (b"&".join(b"f%d=1" % n for n in range(40)), FORM, 400, None),
        (b'{"username": "ada@example.com", "email": "ada@example.com", "password": "x"}', JSON,
         422, "username"),
        (b'{"email": "ada@example.com"', JSON, 400, None),
        (b"", JSON, 422, None),
        (b"[]", JSON, 422, None),
        (b"username=ada%40example.com&password=x", {"Content-Type": "text/plain"}, 415, None),
        (b"username=ada%40example.com&password=x", {}, 415, None),
    ],
)  # fmt: skip
async def test_a_login_it_cannot_take_gets_a_clear_error(
    client: httpx.AsyncClient,
    ada: dict[str, Any],
    content: bytes,
    headers: dict[str, str],
    status: int,
    where: str | None,
) -> None:
    response = await client.post("/api/auth/login", content=content, headers=headers)
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["message"], str)
    assert body["message"] == body["error"]
    if where is not None:
        assert any(issue["loc"] == ["body", where] for issue in body["detail"]), body
    if status == 401:
        assert body == error_json("Invalid email or password")


async def test_only_the_named_aliases_are_rewritten(client: httpx.AsyncClient) -> None:
    for path in ("/api/auth/login/", "/auth/login", "/api/auth/logins", "/api/auth/register/x"):
        assert (await client.post(path, json=ADA)).status_code == 404, path


# Toggle and complete.

FORMS = [
    "/api/tasks/{id}/toggle",
    "/api/tasks/{id}/complete",
    "/tasks/{id}/complete",
    "/api/alice/tasks/{id}/complete",
    "/api/alice/tasks/{id}/complete/",
]


@pytest.mark.parametrize("form", FORMS)
async def test_complete_flips_without_a_body_and_sets_with_one(
    client: httpx.AsyncClient, form: str
) -> None:
    task = await new_task(client)
    path = form.format(id=task["id"])
    answers = []
    for content, headers in [
        (None, ALICE),  # no body, no Content-Type
        (None, {**ALICE, **JSON}),  # no body, but the Content-Type frontends always send
        (b"{}", {**ALICE, **JSON}),
        (b'{"completed": true}', {**ALICE, **JSON}),
        (b'{"completed": true}', {**ALICE, **JSON}),  # sent twice: still done
        (b'{"completed": false}', {**ALICE, **JSON}),
    ]:
        response = await client.patch(path, content=content, headers=headers)
        assert response.status_code == 200, (path, content, response.text)
        answers.append((response.json()["completed"], response.headers["etag"]))
    assert answers == [
        (True, '"2"'), (False, '"3"'), (True, '"4"'), (True, '"5"'), (True, '"6"'), (False, '"7"'),
    ]  # fmt: skip
    assert (await client.get(f"/api/tasks/{task['id']}", headers=ALICE)).json()["version"] == 7


async def test_setting_the_state_keeps_optimistic_locking(client: httpx.AsyncClient) -> None:
    task = await new_task(client)
    path = f"/api/tasks/{task['id']}/complete"
    done = {"completed": True}
    stale_tag = await client.patch(path, json=done, headers={**ALICE, "If-Match": '"7"'})
    assert stale_tag.status_code == 412
    stale_body = await client.patch(path, json={**done, "version": 7}, headers=ALICE)
    assert stale_body.status_code == 409
    assert stale_body.json() == error_json("Version conflict: the task has changed, read it again")
    fresh = await client.patch(
        path, json={**done, "version": 1}, headers={**ALICE, "If-Match": '"1"'}
    )
    assert (fresh.status_code, fresh.json()["completed"]) == (200, True)
    flip_stale = await client.patch(path, json={"version": 1}, headers=ALICE)
    assert flip_stale.status_code == 409
    assert (await client.get(f"/api/tasks/{task['id']}", headers=ALICE)).json()["version"] == 2


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b'{"completed": null}', ["body"]),
        (b'{"completed": "true"}', ["body", "completed"]),
        (b'{"completed": 1}', ["body", "completed"]),
        (b'{"completed": true, "title": "x"}', ["body", "title"]),
        (b'{"version": 0}', ["body", "version"]),
        (b"[true]", ["body"]),
    ],
)
async def test_a_body_it_cannot_take_changes_nothing(
    client: httpx.AsyncClient, content: bytes, where: list[str]
) -> None:
    task = await new_task(client)
    response = await client.patch(
        f"/api/tasks/{task['id']}/complete", content=content, headers={**ALICE, **JSON}
    )
    assert response.status_code == 422, response.text
    assert [issue["loc"] for issue in response.json()["detail"]] == [where]
    assert (await client.get(f"/api/tasks/{task['id']}", headers=ALICE)).json() == task


async def test_completing_someone_elses_task_is_not_found(client: httpx.AsyncClient) -> None:
    task = await new_task(client)
    response = await client.patch(
        f"/api/tasks/{task['id']}/complete", json={"completed": True}, headers=BOB
    )
    assert response.status_code == 404
    assert (await client.get(f"/api/tasks/{task['id']}", headers=ALICE)).json() == task


# Errors: `message` and `error` beside `detail`.


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": ""}, "title: String should have at least 1 character"),
        (
            {"title": 5, "completed": "no"},
            "title: Input should be a valid string; completed: Input should be a valid boolean",
        ),
        ({}, "title: Field required"),
        ([], "body: Input should be a valid dictionary or object to extract fields from"),
    ],
)
async def test_a_422_says_what_is_wrong_in_one_sentence(
    client: httpx.AsyncClient, body: object, message: str
) -> None:
    response = await client.post("/api/tasks", json=body, headers=ALICE)
    assert response.status_code == 422
    answer = response.json()
    assert isinstance(answer["detail"], list)
    assert (answer["message"], answer["error"]) == (message, message)


async def test_a_422s_detail_can_be_the_sentence_too(database_url: str) -> None:
    app = create_app(app_settings(database_url, validation_detail="message"))
    async with http_client(app) as client:
        response = await client.post(
            "/api/tasks", json={"title": "", "completed": "no"}, headers=ALICE
        )
        assert response.status_code == 422
        assert response.json() == error_json(
            "title: String should have at least 1 character; completed: Input should be a valid"
            " boolean"
        )
        assert (await client.get("/api/tasks", headers=ALICE)).json() == []


async def test_a_422_from_a_patch_names_no_field_when_none_is_at_fault(
    client: httpx.AsyncClient,
) -> None:
    task = await new_task(client)
    response = await client.patch(f"/api/tasks/{task['id']}", json={}, headers=ALICE)
    assert response.json()["message"] == (
        "body: nothing to change: give title, description, completed or another field"
    )
    bad_id = await client.get("/api/tasks/x1", headers=ALICE)
    assert bad_id.json()["message"] == "task_id: must be a whole number written in digits 0-9"


async def test_the_openapi_error_schemas_name_message_and_error(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's, which has no message
    for name in ("ErrorResponse", "ValidationErrorResponse"):
        assert set(schemas[name]["required"]) == {"detail", "message", "error"}, name
    refs = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if int(code) < 400:
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                refs.add(ref)
                if code == "422":
                    assert ref.endswith("/ValidationErrorResponse"), (method, path)
    assert refs == {
        "#/components/schemas/ErrorResponse",
        "#/components/schemas/ValidationErrorResponse",
    }
    sign_in = spec["paths"]["/api/auth/signin"]["post"]["requestBody"]["content"]
    assert set(sign_in) == {"application/json", "application/x-www-form-urlencoded"}
    assert set(sign_in["application/x-www-form-urlencoded"]["schema"]["required"]) == {
        "username", "password",
    }  # fmt: skip
    session = schemas["Session"]
    assert {"token", "access_token", "user"} <= set(session["required"])
    delete = spec["paths"]["/api/tasks/{task_id}"]["delete"]["responses"]
    assert {"200", "204"} <= set(delete)


# DELETE's answer.


async def test_delete_is_an_empty_204_by_default(client: httpx.AsyncClient) -> None:
    task = await new_task(client)
    response = await client.delete(f"/api/tasks/{task['id']}", headers={**ALICE, **JSON})
    assert (response.status_code, response.content) == (204, b"")


async def test_delete_answers_json_when_asked_to(database_url: str) -> None:
    app = create_app(app_settings(database_url, delete_response="json"))
    async with http_client(app) as client:
        task = await new_task(client)
        response = await client.delete(f"/api/alice/tasks/{task['id']}", headers=ALICE)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"deleted": task["id"], "message": "Task deleted"}
        again = await client.delete(f"/api/tasks/{task['id']}", headers=ALICE)
        assert again.status_code == 404
        assert again.json() == error_json("Task not found")
        other = await new_task(client)
        stale = await client.delete(
            f"/api/tasks/{other['id']}", headers={**ALICE, "If-Match": '"9"'}
        )
        assert stale.status_code == 412
        assert (await client.get(f"/api/tasks/{other['id']}", headers=ALICE)).status_code == 200
