from tests.utils.tokens import auth


async def test_create_and_list(client):
    r = await client.post("/api/tasks", json={"title": "x"}, headers=auth())
    assert r.status_code == 201, r.text
    r = await client.get("/api/tasks", headers=auth())
    assert len(r.json()) == 1
    r = await client.get("/api/tasks", headers=auth("bob"))
    assert r.json() == []
