"""The service's own endpoints, and the OpenAPI document a client is generated from."""

import json
from pathlib import Path

import httpx
import pytest

from api.cli import openapi_document


async def test_root_names_the_service_and_links_its_docs(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()
    assert body["name"] == "todo-api"
    assert body["version"]
    assert body["links"]["docs"] == "/docs"
    assert body["links"]["tasks"] == "/api/tasks"


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_are_served(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


async def test_openapi_documents_auth_routes_and_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert set(paths) == {
        "/", "/healthz", "/readyz", "/api/tasks", "/api/tasks/changes", "/api/tasks/{task_id}",
        "/api/tasks/{task_id}/toggle", "/api/auth/signup", "/api/auth/signin",
        "/api/auth/refresh", "/api/auth/signout", "/api/auth/me", "/api/account",
        "/api/account/export",
    }  # fmt: skip
    expected = {
        ("get", "/api/tasks"): {"200", "401", "503"},
        ("post", "/api/tasks"): {"201", "400", "401", "413", "415", "422", "503"},
        ("get", "/api/tasks/{task_id}"): {"200", "401", "404", "422", "503"},
        ("put", "/api/tasks/{task_id}"): {"200", "400", "401", "404", "409", "412", "415"},
        ("patch", "/api/tasks/{task_id}"): {"200", "400", "401", "404", "409", "412", "415"},
        ("patch", "/api/tasks/{task_id}/toggle"): {"200", "400", "401", "404", "412", "503"},
        ("delete", "/api/tasks/{task_id}"): {"204", "400", "401", "404", "412", "503"},
    }
    for (method, path), statuses in expected.items():
        operation = paths[path][method]
        assert statuses <= set(operation["responses"]), (method, path)
        assert operation["security"] == [{"HTTPBearer": []}]
    task = spec["components"]["schemas"]["TaskPublic"]
    assert set(task["required"]) == {
        "id", "title", "description", "completed", "user_id", "version", "created_at",
        "updated_at", "status", "priority", "due_date", "tags", "position",
    }  # fmt: skip
    assert task["additionalProperties"] is True  # the fields the API does not model
    create = spec["components"]["schemas"]["TaskCreate"]
    assert create["properties"]["title"]["maxLength"] == 200
    assert create["additionalProperties"] == {"$ref": "#/components/schemas/UnknownValue"}
    assert spec["components"]["schemas"]["TaskToggle"]["additionalProperties"] is False
    etag = paths["/api/tasks/{task_id}"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in etag
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_cors_allows_the_frontend_origin(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    other = await client.options(
        "/api/tasks",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in other.headers


CONTRACT = Path(__file__).resolve().parents[2] / "openapi.json"
REGENERATE = "uv run todo-api openapi --output openapi.json"


async def test_the_committed_openapi_json_is_the_running_apps_schema(
    client: httpx.AsyncClient,
) -> None:
    """openapi.json at the root is the contract clients/typescript is generated from: it must
    be what the service serves, byte for byte once parsed."""
    served = (await client.get("/openapi.json")).json()
    committed = json.loads(CONTRACT.read_text(encoding="utf-8"))
    assert served == committed, f"openapi.json differs from the app's schema: run `{REGENERATE}`"
    assert CONTRACT.read_text(encoding="utf-8") == openapi_document(), f"run `{REGENERATE}`"


async def test_every_operation_documents_its_answers_with_examples(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), (method, path)
            for code, response in operation["responses"].items():
                assert response.get("description"), (method, path, code)
                assert "X-Request-ID" in response["headers"], (method, path, code)
                if code in ("429", "503"):
                    assert "Retry-After" in response["headers"], (method, path, code)
                content = response.get("content", {}).get("application/json")
                if content is None or not code.startswith(("4", "5")):
                    continue
                assert "example" in content, (method, path, code)
    for name in ("TaskCreate", "TaskPatch", "TaskPublic", "TaskChanges", "ErrorResponse",
                 "SignUp", "UserPublic"):  # fmt: skip
        assert schemas[name].get("examples"), name


async def test_patch_offers_null_only_where_the_service_takes_it(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    patch = spec["components"]["schemas"]["TaskPatch"]["properties"]
    assert patch["title"]["type"] == "string"
    assert patch["completed"] == {"type": "boolean", "title": "Completed"}
    assert {"type": "null"} in patch["description"]["anyOf"]
    toggle = spec["components"]["schemas"]["TaskToggle"]["properties"]
    assert toggle["completed"]["type"] == "boolean"


async def test_the_caller_routes_document_401_and_503(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for method, path in (("get", "/api/auth/me"), ("post", "/api/auth/signout")):
        assert {"401", "503"} <= set(paths[path][method]["responses"]), path
    changes = paths["/api/tasks/changes"]["get"]["responses"]
    assert {"200", "400", "410", "422"} <= set(changes)
    assert "304" in paths["/api/tasks"]["get"]["responses"]
