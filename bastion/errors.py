"""The one error tree: every failure a client can see, with a stable ``type`` and status.

::

    BastionError (500 internal_error)
    ├── InvalidRequest (422 invalid_request)
    │   ├── MalformedBody (400 invalid_request)
    │   ├── ContextLengthExceeded (400 context_length_exceeded)
    │   ├── ContentPolicyViolation (400 content_policy_violation)
    │   ├── PayloadTooLarge (413 payload_too_large)
    │   └── UnsupportedMediaType (415 unsupported_media_type)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── Conflict (409 conflict)
    ├── PromotionGateFailed (409 promotion_gate_failed)
    ├── ArtifactTampered (409 artifact_tampered)
    ├── RateLimited (429 rate_limited)
    ├── BudgetExceeded (429 budget_exceeded)
    ├── BlockedByGuard (400 blocked_by_guard)
    ├── ModelNotReady (503 model_not_ready)
    ├── Overloaded (503 overloaded)
    ├── ShuttingDown (503 shutting_down)
    ├── ArtifactStoreUnavailable (503 artifact_store_unavailable)
    ├── Timeout (504 timeout)
    ├── UpstreamUnavailable (502 upstream_unavailable)
    ├── UpstreamError (502 upstream_error)
    │   ├── StreamTruncated (502 upstream_error)
    │   └── MalformedUpstreamResponse (502 upstream_error)
    ├── ModelOutputInvalid (500 model_output_invalid)
    ├── ArtifactIntegrityError (500 artifact_integrity_error)
    ├── DataIntegrityError (500 data_integrity_error)
    └── ConfigError (500 config_error)

Only ``bastion.api.render`` turns these into HTTP responses; nothing here imports web code.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar


class BastionError(Exception):
    """Root of every error Bastion raises on purpose."""

    type: ClassVar[str] = "internal_error"
    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.details = details or {}

    def status_on(self, api: str) -> int:
        """The HTTP status this error is answered with on ``api`` (a ``Call.api``, e.g.
        ``openai.chat``, or a wire: ``openai``, ``oip``). OpenAI's SDKs expect a contract
        error as a 400, and so does the Open Inference Protocol, so those routes answer 400
        where Bastion's own answer 422; this is the one place that rule lives."""
        status = int(self.status)
        if status == HTTPStatus.UNPROCESSABLE_ENTITY and api.startswith(("openai", "oip")):
            return int(HTTPStatus.BAD_REQUEST)
        return status


class InvalidRequest(BastionError):
    """The request body or parameters do not satisfy the contract."""

    type = "invalid_request"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class MalformedBody(InvalidRequest):
    """The body could not be parsed at all (bad JSON, bad UTF-8, NaN)."""

    status = HTTPStatus.BAD_REQUEST


class ContextLengthExceeded(InvalidRequest):
    """The prompt (plus ``max_tokens``) does not fit the upstream model's context window."""

    type = "context_length_exceeded"
    status = HTTPStatus.BAD_REQUEST


class ContentPolicyViolation(InvalidRequest):
    """The upstream's safety system refused the request."""

    type = "content_policy_violation"
    status = HTTPStatus.BAD_REQUEST


class PayloadTooLarge(InvalidRequest):
    type = "payload_too_large"
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedMediaType(InvalidRequest):
    type = "unsupported_media_type"
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class Unauthorized(BastionError):
    type = "unauthorized"
    status = HTTPStatus.UNAUTHORIZED


class Forbidden(BastionError):
    type = "forbidden"
    status = HTTPStatus.FORBIDDEN


class NotFound(BastionError):
    type = "not_found"
    status = HTTPStatus.NOT_FOUND


class Conflict(BastionError):
    type = "conflict"
    status = HTTPStatus.CONFLICT


class PromotionGateFailed(BastionError):
    """Moving an alias was refused: ``details["failed"]`` names each failed gate and why.

    Not a ``Conflict`` subclass on purpose: code that treats a Conflict as "already done"
    must never swallow a refused promotion.
    """

    type = "promotion_gate_failed"
    status = HTTPStatus.CONFLICT


class RateLimited(BastionError):
    type = "rate_limited"
    status = HTTPStatus.TOO_MANY_REQUESTS


class BudgetExceeded(BastionError):
    type = "budget_exceeded"
    status = HTTPStatus.TOO_MANY_REQUESTS


class BlockedByGuard(BastionError):
    type = "blocked_by_guard"
    status = HTTPStatus.BAD_REQUEST


class ModelNotReady(BastionError):
    type = "model_not_ready"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class Overloaded(BastionError):
    type = "overloaded"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class ShuttingDown(BastionError):
    """The server stopped while the request ran (past ``server.graceful_timeout_s``)."""

    type = "shutting_down"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class ArtifactStoreUnavailable(BastionError):
    """The shared artifact store (the database's blobs or an S3 bucket) did not answer."""

    type = "artifact_store_unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE


class Timeout(BastionError):
    type = "timeout"
    status = HTTPStatus.GATEWAY_TIMEOUT


class UpstreamUnavailable(BastionError):
    type = "upstream_unavailable"
    status = HTTPStatus.BAD_GATEWAY


class UpstreamError(BastionError):
    """The upstream answered with an error that is not the client's fault."""

    type = "upstream_error"
    status = HTTPStatus.BAD_GATEWAY


class ModelOutputInvalid(BastionError):
    """The model answered, but its output broke the deployment's output contract."""

    type = "model_output_invalid"
    status = HTTPStatus.INTERNAL_SERVER_ERROR


class StreamTruncated(UpstreamError):
    """The stream ended before any ``finish_reason``: the answer is incomplete."""


class MalformedUpstreamResponse(UpstreamError):
    """The upstream sent something that is not the JSON it promised."""


class ArtifactIntegrityError(BastionError):
    """A stored artifact's bytes no longer match the sha256 recorded at registration."""

    type = "artifact_integrity_error"
    status = HTTPStatus.INTERNAL_SERVER_ERROR


class ArtifactTampered(BastionError):
    """A version cannot take an alias: its stored artifact no longer matches its sha256."""

    type = "artifact_tampered"
    status = HTTPStatus.CONFLICT


class DataIntegrityError(BastionError):
    """Stored data failed its integrity check (e.g. an encrypted payload's tag is wrong)."""

    type = "data_integrity_error"
    status = HTTPStatus.INTERNAL_SERVER_ERROR


class ConfigError(BastionError):
    type = "config_error"
    status = HTTPStatus.INTERNAL_SERVER_ERROR
