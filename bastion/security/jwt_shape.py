"""Whether a bearer token is shaped like a JWT: a cheap test that needs no JWT library, so
that the request path and the console load PyJWT (and ``cryptography``) only when JWTs are
configured (``security.jwt``)."""

from __future__ import annotations

import re

# Three base64url parts, the header starting '{"' (eyJ); the signature may be empty so that an
# unsigned ('alg: none') token is recognised, and refused with a clear message.
_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and _SHAPE.fullmatch(token) is not None
