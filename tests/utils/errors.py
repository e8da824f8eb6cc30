"""What an error's body is, written out independently of the service's code."""


def error_json(detail: str) -> dict[str, str]:
    """The body of an error whose detail is a sentence: the same words under the three keys
    frontends read."""
    return {"detail": detail, "message": detail, "error": detail}
