"""HTTP plumbing below the routes: ASGI middleware, admission control, error answers."""
