"""Route lookup for the trailing-slash hint: Herald never redirects, it names the right path."""

from __future__ import annotations

from typing import Any

from starlette.routing import Match
from starlette.types import Scope


def alternative_path(app: Any, scope: Scope) -> str | None:
    """The same path with the trailing slash toggled, when a route answers that spelling."""
    path: str = scope["path"]
    if path == "/":
        return None
    other = path[:-1] if path.endswith("/") else path + "/"
    probe = {**scope, "path": other}
    for route in app.router.routes:
        match, _ = route.matches(probe)
        if match is not Match.NONE:
            return other
    return None


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method some route answers on this path (Starlette names only the first route's)."""
    allowed = []
    for method in METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in app.router.routes):
            allowed.append(method)
    return allowed
