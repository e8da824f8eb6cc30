"""The forms the routes answer under, brought to the one FastAPI routes.

The canonical form is `/api/tasks[/{task_id}[/toggle]]`, the only one registered and documented.
Frontends also call:
- `/tasks...`, the same without the `/api` prefix;
- `/api/{user_id}/tasks...`, naming the user in the URL. The user id is kept for the request
  (scope["state"]["path_user_id"]), and app.begin_request answers 403 unless it is the caller's;
- `.../complete` for `.../toggle`, under every form;
- any of these with one trailing slash.

The built-in accounts answer under the names other backends give them: `/api/auth/register`
is `/api/auth/signup`, `/api/auth/login` is `/api/auth/signin` (AUTH_ALIASES); the bodies those
frontends send are taken by the models (api.models.SignUp, SignIn) and by the sign-in form
reader (api.routes.auth).

Rewriting the path at the edge keeps the route table at one entry per route: FastAPI spends CPU
on every route it tries and skips, so registering each route four times would cost every
request (how-to/benchmark.md). `/api/tasks/{x}/...` is always the canonical form: a user id
of `tasks` is not told apart from it.
"""

from starlette.types import Scope

CANONICAL = "/api/tasks"
ALIASES = (CANONICAL, "/tasks")
AUTH_ALIASES = {"/api/auth/register": "/api/auth/signup", "/api/auth/login": "/api/auth/signin"}


def canonical_path(scope: Scope) -> None:
    """Rewrites scope["path"] to the canonical form when it is one of the others."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    # What Starlette routes on: the path under the root path a proxy mounted the app at.
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        route = path[len(root) :]
    else:
        root, route = "", path
    found = task_route(route)
    if found is None:
        alias = AUTH_ALIASES.get(route)
        if alias is not None:
            scope["path"] = root + alias
        return
    canonical, user_id = found
    if user_id is not None:
        scope["state"]["path_user_id"] = user_id
    if canonical != route:
        scope["path"] = root + canonical


def task_route(route: str) -> tuple[str, str | None] | None:
    """(the canonical path, the user id the URL names) for a task route's path, else None."""
    for alias in ALIASES:
        if route.startswith(alias):
            rest = route[len(alias) :]
            if not rest or rest[0] == "/":
                return CANONICAL + normal(rest), None
    if not route.startswith("/api/"):
        return None
    end = route.find("/", 5)
    if end < 6 or not route.startswith("/tasks", end):
        return None
    rest = route[end + 6 :]
    if rest and rest[0] != "/":
        return None
    return CANONICAL + normal(rest), route[5:end]


def normal(rest: str) -> str:
    """What follows /api/tasks, without a trailing slash and with /complete as /toggle."""
    if rest.endswith("/"):
        rest = rest[:-1]
    if rest.endswith("/complete"):
        rest = rest[: -len("complete")] + "toggle"
    return rest
