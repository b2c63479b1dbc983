"""Route lookup: the trailing-slash hint (Herald never redirects, it names the right path), the
methods a path allows, and literal path segments before path parameters."""

from __future__ import annotations

import re
from typing import Any

from starlette.convertors import StringConvertor
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


def segment_except(*words: str) -> StringConvertor:
    """A path segment, any but ``words``: the convertor of a path parameter beside a literal
    path that spells one of them. OpenAPI matches a literal path before a templated one; so does
    Herald, so that a method only the templated route has answers 405 on the literal path."""
    excluded = "|".join(re.escape(word) for word in words)

    class SegmentExcept(StringConvertor):
        regex = f"(?!(?:{excluded})(?:/|$))[^/]+"

    return SegmentExcept()
