"""Security: the first-start admin key retired, TLS, encryption keys, keys required."""

from __future__ import annotations

from urllib.parse import urlsplit

from bastion.readiness.base import Check, Context, Outcome, listed

SECTION = "security"
FIRST_START_KEY = "admin (first start)"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def admin_key(ctx: Context) -> Outcome:
    keys = ctx.once("/v1/admin/keys")["data"]
    live = [k for k in keys if k["revoked_at"] is None]
    first = [k["id"] for k in live if k["name"] == FIRST_START_KEY]
    if first:
        return Outcome(
            "fail",
            f"the first-start admin key is still active ({listed(first)})",
            "create a named admin key (`bastion keys create --name NAME --role admin`), "
            "use it, then revoke the first one (`bastion keys revoke ID`)",
        )
    admins = [k for k in live if "admin" in k["roles"]]
    return Outcome("pass", f"first-start key retired; {len(admins)} named admin keys")


def tls(ctx: Context) -> Outcome:
    url = urlsplit(ctx.api.base_url)
    served = ctx.facts["security"]["tls"]
    if url.scheme == "https":
        return Outcome("pass", f"reached over TLS at {url.netloc}")
    if url.hostname in _LOOPBACK:
        evidence = "checked over loopback http"
        if served:
            return Outcome("pass", evidence + "; the server itself has a TLS certificate")
        return Outcome(
            "warn",
            evidence + "; the server has no certificate, so TLS must end at a proxy in front",
            "serve with --ssl-certfile/--ssl-keyfile, or confirm the proxy terminates TLS",
            automated=False,
        )
    return Outcome(
        "fail",
        f"the API is reached in clear text at {url.netloc}",
        "put TLS in front (or serve with --ssl-certfile/--ssl-keyfile) and use https://",
    )


def encryption(ctx: Context) -> Outcome:
    enc = ctx.facts["security"]["encryption"]
    if not enc["key_ids"]:
        return Outcome(
            "fail",
            "no encryption key: audit payloads are not kept, review and prediction payloads "
            "only PII-scrubbed, and no tenant may opt into payloads as sent",
            "`bastion audit gen-key`, then set BASTION_ENCRYPTION_KEYS (docs/audit.md)",
        )
    return Outcome(
        "pass", f"payloads encrypted with key {enc['active']} ({len(enc['key_ids'])} known)"
    )


def require_keys(ctx: Context) -> Outcome:
    if not ctx.facts["security"]["require_keys"]:
        return Outcome(
            "fail", "requests without a key are served", "set security.require_keys: true"
        )
    return Outcome("pass", "every request needs a key (or an identity provider's JWT)")


CHECKS = [
    Check("admin-key", SECTION, "The first-start admin key is retired", admin_key),
    Check("tls", SECTION, "TLS on the API", tls),
    Check("encryption-keys", SECTION, "Encryption keys configured", encryption),
    Check("require-keys", SECTION, "Every request authenticated", require_keys),
]
