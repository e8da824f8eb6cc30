"""OpenAPI says what the service accepts: the mismatches schemathesis found
(tests/fuzz/test_schemathesis.py), each pinned here where it is quick to see."""

import re
from typing import Any

import httpx
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
    assert {"required": ["title"]} in schemas["TaskPatch"]["anyOf"]


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
