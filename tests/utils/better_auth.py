"""A real Better Auth server (tests/better_auth/server.mjs, on Node) for tests that need the
tokens a Next.js frontend would really hold: a session token and a JWT-plugin JWT."""

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

import httpx
import pytest

PROJECT = Path(__file__).resolve().parents[1] / "better_auth"
NPM_TIMEOUT = 300.0  # seconds for `npm ci` on a cold cache
START_TIMEOUT = 30.0  # seconds for node to migrate and answer /api/auth/ok
HTTP_TIMEOUT = 10.0


class SignedUp(NamedTuple):
    user_id: str
    session_token: str  # the `set-auth-token` header: "<token>.<signature>", as a client sends it
    jwt: str  # GET /api/auth/token's JWT: EdDSA, kid in its header

    @property
    def stored_token(self) -> str:
        """The session token as public.session.token holds it: without the signature."""
        return self.session_token.split(".", 1)[0]


@dataclass(frozen=True)
class BetterAuth:
    base_url: str  # also the JWTs' issuer and audience
    secret: str = field(repr=False)  # BETTER_AUTH_SECRET: signs session tokens and cookies

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/api/auth/jwks"

    def sign_up(self, email: str, password: str, name: str) -> SignedUp:
        """Signs a user up by email and password, then trades the session for a JWT."""
        with httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT) as http:
            response = http.post(
                "/api/auth/sign-up/email",
                json={"email": email, "password": password, "name": name},
            )
            assert response.status_code == 200, f"sign-up: {response.status_code} {response.text}"
            user_id = response.json()["user"]["id"]
            session_token = response.headers.get("set-auth-token")
            assert session_token, f"sign-up answered no set-auth-token: {dict(response.headers)}"
            response = http.get(
                "/api/auth/token", headers={"Authorization": f"Bearer {session_token}"}
            )
            assert response.status_code == 200, f"token: {response.status_code} {response.text}"
            return SignedUp(user_id, session_token, response.json()["token"])

    def session_data_cookie(self, email: str, password: str) -> str:
        """Signs in and returns the `better-auth.session_data` cookie: with COOKIE_CACHE=jwt
        (better_auth_server(cookie_cache="jwt")), an HS256 JWT of `{session, user}` under the
        secret, which frontends send as their bearer token."""
        with httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT) as http:
            response = http.post(
                "/api/auth/sign-in/email", json={"email": email, "password": password}
            )
            assert response.status_code == 200, f"sign-in: {response.status_code} {response.text}"
            cookie = response.cookies.get("better-auth.session_data")
            assert cookie, f"sign-in set no session_data cookie: {dict(response.headers)}"
            return cookie


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: the Better Auth tests need Node.js 20+ and npm "
            "(e.g. `apt-get install nodejs npm`), then `npm ci --prefix tests/better_auth`",
            pytrace=False,
        )
    return path


def _installed() -> bool:
    """node_modules is complete and has the versions package-lock.json asks for."""
    try:
        lock = json.loads((PROJECT / "package-lock.json").read_text())
        for name in ("better-auth", "pg"):
            wanted = lock["packages"][f"node_modules/{name}"]["version"]
            manifest = PROJECT / "node_modules" / name / "package.json"
            if json.loads(manifest.read_text())["version"] != wanted:
                return False
    except (OSError, KeyError, ValueError):
        return False
    return (PROJECT / "node_modules" / ".package-lock.json").exists()


def ensure_node_modules() -> None:
    """Runs `npm ci` in tests/better_auth unless node_modules is already in place; one test
    process at a time (pytest-xdist workers share the folder)."""
    if _installed():
        return
    npm = _tool("npm")
    lock_path = Path(tempfile.gettempdir()) / "todo-api-better-auth-npm-ci.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():  # another worker did it while we waited
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {PROJECT} failed ({result.returncode}):\n{result.stderr[-4000:]}",
                pytrace=False,
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: IO[bytes]) -> bool:
    """True once /api/auth/ok answers; False if node exited first (e.g. the port was taken)."""
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if http.get(f"{base_url}/api/auth/ok").status_code == 200:
                    return True
            time.sleep(0.1)
    log.flush()
    pytest.fail(
        f"Better Auth did not answer within {START_TIMEOUT} s:\n{_tail(log)}", pytrace=False
    )


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read()[-4000:].decode(errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def better_auth_server(
    database_url: str, secret: str, *, cookie_cache: str | None = None
) -> Iterator[BetterAuth]:
    """Better Auth on 127.0.0.1 with its tables in `database_url`'s database (public schema),
    email and password sign-up, and the jwt and bearer plugins; `cookie_cache="jwt"` adds the
    session cookie cache as a JWT. Stopped on exit."""
    node = _tool("node")
    ensure_node_modules()
    for _attempt in range(3):  # a port picked free can be taken before node binds it
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "BETTER_AUTH_SECRET": secret,
            "BETTER_AUTH_URL": base_url,
            "PORT": str(port),
            **({"COOKIE_CACHE": cookie_cache} if cookie_cache else {}),
        }
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                [node, "server.mjs"], cwd=PROJECT, env=env, stdout=log, stderr=log
            )
            try:
                if _wait_until_ready(process, base_url, log):
                    yield BetterAuth(base_url, secret)
                    return
                output = _tail(log)
                if "EADDRINUSE" not in output:
                    pytest.fail(
                        f"Better Auth exited ({process.returncode}) before answering:\n{output}",
                        pytrace=False,
                    )
            finally:
                _stop(process)
    pytest.fail("Better Auth found no free port in 3 attempts", pytrace=False)
