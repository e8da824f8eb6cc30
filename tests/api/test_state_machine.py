"""A model of two users' task lists, and the API driven to agree with it: hypothesis picks
sequences of creates, replaces, toggles and deletes, with current, stale and absent If-Match,
and reaches for the other user's tasks; after every step each user's list must equal the
model. So no update is lost, a stale precondition writes nothing, versions go up by exactly
one, and no foreign task is ever seen or changed. A fixed seed keeps runs repeatable."""

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.tokens import auth

TITLES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]),
    min_size=1,
    max_size=20,
)


class BlockingClient:
    """The app's HTTP client (tests.conftest.http_client, over ASGI, its lifespan open) on an
    event loop of its own thread, called synchronously, as hypothesis's state machines are."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
        self.loop = loop
        self.client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        call = self.client.request(method, url, **kwargs)
        return asyncio.run_coroutine_threadsafe(call, self.loop).result(timeout=30)


@contextmanager
def blocking_client(database_url: str) -> Iterator[BlockingClient]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = http_client(create_app(app_settings(database_url)))
    client = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result(timeout=30)
    try:
        yield BlockingClient(loop, client)
    finally:
        closing = context.__aexit__(None, None, None)
        asyncio.run_coroutine_threadsafe(closing, loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# What another user's task is reached with: (method, path suffix, JSON body).
FOREIGN_ACTIONS: dict[str, tuple[str, str, object]] = {
    "get": ("GET", "", None),
    "put": ("PUT", "", {"title": "mine now"}),
    "delete": ("DELETE", "", None),
    "toggle": ("PATCH", "/toggle", None),
}


@dataclass
class Task:
    title: str
    completed: bool
    version: int


class TwoUsers(RuleBasedStateMachine):
    client: BlockingClient  # set by the test: one app and database for all runs

    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:8]  # users of their own per run: each starts with no tasks
        self.users = [f"alice-{run}", f"bob-{run}"]
        self.headers = {user: auth(user) for user in self.users}
        self.model: dict[str, dict[int, Task]] = {user: {} for user in self.users}

    def pick(self, data: st.DataObject, user: str) -> int | None:
        ids = sorted(self.model[user])
        return data.draw(st.sampled_from(ids)) if ids else None

    def if_match(self, data: st.DataObject, task: Task) -> tuple[dict[str, str], bool]:
        """An If-Match header (or none) and whether it is stale."""
        kind = data.draw(st.sampled_from(["none", "current", "stale", "star"]))
        if kind == "none":
            return {}, False
        if kind == "star":
            return {"If-Match": "*"}, False
        if kind == "current":
            return {"If-Match": f'"{task.version}"'}, False
        stale = data.draw(st.sampled_from([task.version - 1, task.version + 1]))
        return {"If-Match": f'"{max(stale, 0)}"'}, True

    @rule(user=st.sampled_from([0, 1]), title=TITLES, completed=st.booleans())
    def create(self, user: int, title: str, completed: bool) -> None:
        name = self.users[user]
        body = {"title": title, "completed": completed}
        response = self.client.request("POST", "/api/tasks", json=body, headers=self.headers[name])
        assert response.status_code == 201, response.text
        task = response.json()
        assert (task["title"], task["completed"], task["version"]) == (title.strip(), completed, 1)
        self.model[name][task["id"]] = Task(title.strip(), completed, 1)

    def write(
        self, data: st.DataObject, user: int, method: str, suffix: str = "", **kwargs: Any
    ) -> tuple[int, Task, httpx.Response] | None:
        """Sends a write to one of the user's tasks with a drawn If-Match. A stale one must be
        refused with 412 (and the model stays); else (task id, task before, response)."""
        name = self.users[user]
        task_id = self.pick(data, name)
        if task_id is None:
            return None
        task = self.model[name][task_id]
        header, stale = self.if_match(data, task)
        response = self.client.request(
            method,
            f"/api/tasks/{task_id}{suffix}",
            headers={**self.headers[name], **header},
            **kwargs,
        )
        if stale:
            assert response.status_code == 412, response.text
            return None
        return task_id, task, response

    @rule(user=st.sampled_from([0, 1]), title=TITLES, data=st.data())
    def replace(self, user: int, title: str, data: st.DataObject) -> None:
        completed = data.draw(st.booleans())
        written = self.write(data, user, "PUT", json={"title": title, "completed": completed})
        if written is None:
            return
        task_id, task, response = written
        assert response.status_code == 200, response.text
        assert response.json()["version"] == task.version + 1
        self.model[self.users[user]][task_id] = Task(title.strip(), completed, task.version + 1)

    @rule(user=st.sampled_from([0, 1]), data=st.data())
    def toggle(self, user: int, data: st.DataObject) -> None:
        written = self.write(data, user, "PATCH", "/toggle")
        if written is None:
            return
        task_id, task, response = written
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == f'"{task.version + 1}"'
        model = Task(task.title, not task.completed, task.version + 1)
        self.model[self.users[user]][task_id] = model

    @rule(user=st.sampled_from([0, 1]), data=st.data())
    def delete(self, user: int, data: st.DataObject) -> None:
        written = self.write(data, user, "DELETE")
        if written is None:
            return
        task_id, _, response = written
        assert response.status_code == 204, response.text
        del self.model[self.users[user]][task_id]

    @rule(
        user=st.sampled_from([0, 1]),
        data=st.data(),
        action=st.sampled_from(sorted(FOREIGN_ACTIONS)),
    )
    def reach_for_the_other_users_task(self, user: int, data: st.DataObject, action: str) -> None:
        name, other = self.users[user], self.users[1 - user]
        task_id = self.pick(data, other)
        if task_id is None:
            return
        method, suffix, body = FOREIGN_ACTIONS[action]
        url = f"/api/tasks/{task_id}{suffix}"
        response = self.client.request(method, url, json=body, headers=self.headers[name])
        assert response.status_code == 404, response.text

    @invariant()
    def each_list_is_the_model(self) -> None:
        for name in self.users:
            response = self.client.request("GET", "/api/tasks", headers=self.headers[name])
            assert response.status_code == 200
            listed = {
                t["id"]: Task(t["title"], t["completed"], t["version"]) for t in response.json()
            }
            assert all(t["user_id"] == name for t in response.json())
            assert listed == self.model[name]


def test_two_users_agree_with_the_model(database_url: str) -> None:
    with blocking_client(database_url) as client:
        TwoUsers.client = client
        run_state_machine_as_test(
            TwoUsers,
            settings=settings(
                max_examples=30,
                stateful_step_count=25,
                deadline=None,
                derandomize=True,  # a fixed seed: the same sequences on every run
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
