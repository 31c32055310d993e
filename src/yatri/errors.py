"""Domain errors. Services raise these; one middleware turns them into responses."""

from __future__ import annotations


class YatriError(Exception):
    """Base of every error a user may be shown. `detail` is safe to display.

    `title` heads the HTML error page. In problem+json (RFC 9457) a class with a `problem`
    slug is `type: /problems/<slug>` with its own title; without one it is `about:blank`
    with the HTTP status phrase as title."""

    status = 400
    title = "Something is not right"
    problem = ""

    def __init__(self, detail: str = "", *, field: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field


class ValidationError(YatriError):
    """Input that breaks a rule; `errors` maps field names to messages."""

    status = 422
    title = "Please check the form"
    problem = "validation"

    def __init__(self, errors: dict[str, str], detail: str = "") -> None:
        super().__init__(detail or "; ".join(errors.values()))
        self.errors = errors


class NotFound(YatriError):
    status = 404
    title = "Not found"


class PermissionDenied(YatriError):
    status = 403
    title = "Not allowed"


class LoginRequired(YatriError):
    status = 401
    title = "Please log in"


class Unauthorized(LoginRequired):
    """A missing or bad bearer token on the JSON API; answered with WWW-Authenticate."""

    title = "Authentication required"

    @property
    def challenge(self) -> str:
        detail = self.detail.replace('"', "'")
        return f'Bearer realm="yatri", error="invalid_token", error_description="{detail}"'


class BadRequest(YatriError):
    """A request that cannot even be read (a form body that is not UTF-8)."""

    title = "Bad request"


class UnsupportedMediaType(YatriError):
    status = 415
    title = "Unsupported media type"


class PreconditionFailed(YatriError):
    status = 412
    title = "Precondition failed"


class PreconditionRequired(YatriError):
    """An update that must name the version it read (If-Match) did not (RFC 6585)."""

    status = 428
    title = "Precondition required"


class Conflict(YatriError):
    status = 409
    title = "Conflict"


class TooManyRequests(YatriError):
    status = 429
    title = "Too many attempts"

    def __init__(self, detail: str = "", *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
