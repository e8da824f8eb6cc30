"""OpenAPI says what the service accepts: the mismatches schemathesis found
(tests/fuzz/test_schemathesis.py), each pinned here where it is quick to see."""

import re
from typing import Any

import httpx
import jsonschema_rs
import pytest

from tests.utils.tokens import auth

ALICE = auth("alice")


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def parameter(schema: dict[str, Any], method: str, name: str) -> dict[str, Any]:
    found = schema["paths"]["/api/tasks/{task_id}"][method]["parameters"]
    return next(p["schema"] for p in found if p["name"] == name)


async def test_a_task_id_has_its_bounds_as_json_schema_keywords(schema: dict[str, Any]) -> None:
    task_id = parameter(schema, "get", "task_id")
    assert (task_id["minimum"], task_id["maximum"]) == (1, 2**63 - 1)
    assert "ge" not in task_id
    assert "le" not in task_id


@pytest.mark.parametrize(
    ("value", "valid"),
    [('"3"', True), ("*", True), ('W/"3"', True), ("0", False), ("", False), ("W/3", False)],
)
async def test_if_match_documents_the_values_it_takes(
    schema: dict[str, Any], client: httpx.AsyncClient, value: str, valid: bool
) -> None:
    pattern = parameter(schema, "put", "If-Match")["pattern"]
    assert bool(re.search(pattern, value)) is valid
    created = await client.post("/api/tasks", json={"title": "t"}, headers=ALICE)
    response = await client.delete(
        f"/api/tasks/{created.json()['id']}", headers={**ALICE, "If-Match": value}
    )
    assert (response.status_code != 400) is valid, response.text


async def test_null_is_not_offered_where_it_is_refused(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    assert schemas["TaskPatch"]["properties"]["completed"] == {
        "type": "boolean",
        "title": "Completed",
    }
    assert "anyOf" not in schemas["TaskPatch"]["properties"]["title"]
    assert schemas["TaskToggle"]["properties"]["completed"]["type"] == "boolean"
    assert "anyOf" not in schemas["TaskPatch"]["properties"]["status"]
    assert schemas["TaskPatch"]["minProperties"] == 1
    # A status and a completed that disagree are refused; the schema says so too.
    for model in ("TaskCreate", "TaskPatch"):
        assert [clause["not"]["required"] for clause in schemas[model]["allOf"]] == [
            ["status", "completed"], ["status", "completed"],
        ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "DONE", "completed": False}, 422),
        ({"status": "Todo", "completed": True}, 422),
        ({"status": "done", "completed": True}, 201),
        ({"status": None, "completed": False}, 201),
        ({"priority": "HIGH"}, 201),
        ({"priority": " high"}, 422),
        ({"tags": None, "position": None}, 201),
        ({"due_date": "2026-12-24T17:30"}, 422),
        ({"due_date": "2026-W52-4"}, 422),
        ({"due_date": "9999-12-31T23:00:00-05:00"}, 201),  # year 10000 in UTC: PostgreSQL has it
    ],
)
async def test_what_the_task_schema_says_is_what_the_service_does(
    schema: dict[str, Any], client: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    """Each body, checked against the OpenAPI schema by jsonschema itself, is valid exactly
    when the service takes it."""
    create = {**schema["components"]["schemas"]["TaskCreate"], "components": schema["components"]}
    validator = jsonschema_rs.validator_for(create, validate_formats=True)
    valid = validator.is_valid({"title": "t", **body})
    response = await client.post("/api/tasks", json={"title": "t", **body}, headers=ALICE)
    assert response.status_code == status, response.text
    assert valid == (status == 201)


@pytest.mark.parametrize("title", ["   ", "\x1c\x85", "a\x00b"])
async def test_a_title_the_pattern_refuses_is_refused(
    schema: dict[str, Any], client: httpx.AsyncClient, title: str
) -> None:
    pattern = schema["components"]["schemas"]["TaskCreate"]["properties"]["title"]["pattern"]
    assert re.search(pattern, title) is None
    response = await client.post("/api/tasks", json={"title": title}, headers=ALICE)
    assert response.status_code == 422


async def test_a_version_written_as_a_whole_float_is_that_integer(
    client: httpx.AsyncClient,
) -> None:
    """JSON Schema's `integer` takes 3.0; so does the service. 1.5 is still refused."""
    created = await client.post("/api/tasks", json={"title": "t"}, headers=ALICE)
    path = f"/api/tasks/{created.json()['id']}"
    refused = await client.patch(path, json={"title": "u", "version": 1.5}, headers=ALICE)
    assert refused.status_code == 422
    changed = await client.patch(path, json={"title": "u", "version": 1.0}, headers=ALICE)
    assert (changed.status_code, changed.json()["version"]) == (200, 2)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/tasks", "GET, POST"),
        ("/api/tasks/1", "DELETE, GET, PATCH, PUT"),
        ("/api/tasks/1/toggle", "PATCH"),
        ("/api/auth/signup", "POST"),
    ],
)
async def test_405_names_every_method_of_the_path(
    client: httpx.AsyncClient, path: str, allowed: str
) -> None:
    response = await client.request("TRACE", path, headers=ALICE)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["detail"] == "Method Not Allowed"


async def test_sign_out_documents_a_body_too_large(schema: dict[str, Any]) -> None:
    assert "413" in schema["paths"]["/api/auth/signout"]["post"]["responses"]
    assert "413" in schema["paths"]["/api/tasks/{task_id}/toggle"]["patch"]["responses"]
