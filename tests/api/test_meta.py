"""The service's own endpoints, and the OpenAPI document a client is generated from."""

import httpx
import pytest


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
        "/", "/healthz", "/readyz", "/api/tasks", "/api/tasks/{task_id}",
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
