"""ReviewService: decisions, contract-checked corrections, overrides, roles, and what follows."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bastion.errors import Forbidden, InvalidRequest, NotFound
from bastion.pipeline import Call
from bastion.review import ReviewService
from bastion.review.hooks import Hooks
from bastion.review.payload import PayloadCodec
from bastion.services import Services
from tests.review.conftest import policy, principal

REVIEWER = principal("rita", "reviewer")
OPERATOR = principal("otto", "operator")


async def _queued(svc: Services, confidence: float = 0.2, rid: str = "req-1") -> str:
    call = Call(rid, "classifier", "predict", [{"confidence": confidence, "note": "x"}], False, 0.0)
    call.principal = principal("client", "client")
    call.started_at = time.perf_counter()
    await svc.pipeline(call)
    return str(call.review.to_dict()["items"][0]["review_id"])


def _review(svc: Services) -> ReviewService:
    assert svc.review is not None
    return svc.review


async def test_a_correction_must_satisfy_the_output_contract(make_services: Any) -> None:
    svc = await make_services([policy()])
    item_id = await _queued(svc)
    with pytest.raises(InvalidRequest) as bad:
        await _review(svc).decide(item_id, REVIEWER, "correct", {"label": "eggs"}, "typo")
    assert bad.value.details["field"] == "output.label"
    assert "output contract of classifier v1" in bad.value.message
    with pytest.raises(InvalidRequest, match="reason"):
        await _review(svc).decide(item_id, REVIEWER, "correct", {"label": "ham"}, " ")
    done = await _review(svc).decide(item_id, REVIEWER, "correct", {"label": "ham"}, "not spam")
    assert (done["status"], done["final_output"], done["decided_by"]) == (
        "corrected",
        {"label": "ham"},
        "rita",
    )
    status = await _review(svc).client_status(item_id, principal("client", "client"))
    assert (status["status"], status["output"]) == ("corrected", {"label": "ham"})


async def test_approve_reject_and_what_clients_see(make_services: Any) -> None:
    svc = await make_services([policy()])
    first, second = await _queued(svc, rid="r1"), await _queued(svc, rid="r2")
    client = principal("client", "client")
    assert (await _review(svc).client_status(first, client))["status"] == "pending_review"
    await _review(svc).decide(first, REVIEWER, "approve", None, "")
    assert (await _review(svc).client_status(first, client))["output"] == {"label": "spam"}
    await _review(svc).decide(second, REVIEWER, "reject", None, "cannot tell")
    rejected = await _review(svc).client_status(second, client)
    assert rejected["output"] == {"status": "rejected", "review_id": second}
    with pytest.raises(NotFound):
        await _review(svc).client_status(first, principal("eve", "client", tenant="other"))


async def test_only_queue_roles_work_the_queue(make_services: Any) -> None:
    svc = await make_services([policy()])
    item_id = await _queued(svc)
    with pytest.raises(Forbidden, match="reviewer or approver"):
        await _review(svc).claim(item_id, principal("client", "client"), None)
    with pytest.raises(Forbidden, match="operator"):
        await _review(svc).override("req-1", REVIEWER, index=0, output={"label": "ham"}, reason="x")


async def test_an_operator_overrides_a_reviewed_prediction(make_services: Any) -> None:
    svc = await make_services([policy()])
    item_id = await _queued(svc, rid="req-9")
    await _review(svc).decide(item_id, REVIEWER, "approve", None, "")
    done = await _review(svc).override(
        "req-9", OPERATOR, index=0, output={"label": "ham"}, reason="customer complaint"
    )
    assert (done["id"], done["status"], done["final_output"]) == (
        item_id,
        "overridden",
        {"label": "ham"},
    )
    history = [e.action for e in await _review(svc).queue.events(item_id)]
    assert history == ["queued", "approved", "overridden"]
    with pytest.raises(NotFound, match="prediction log"):
        await _review(svc).override("nope", OPERATOR, index=0, output={"label": "ham"}, reason="x")


async def test_payloads_are_pii_scrubbed_without_a_key(make_services: Any) -> None:
    svc = await make_services([policy()])
    call = Call(
        "r", "classifier", "predict", [{"confidence": 0.1, "text": "mail a@b.example"}], False, 0.0
    )
    await svc.pipeline(call)
    item_id = call.review.to_dict()["items"][0]["review_id"]
    item = await _review(svc).queue.get(item_id)
    assert item is not None and not item.encrypted
    assert b"a@b.example" not in item.payload
    assert orjson.loads(item.payload)["input"]["text"] == "mail [EMAIL]"


# -- the cross-team collaborators, as agreed (stand-ins until they land in Services) -------


class AesGcm:
    """An Encryptor with the agreed interface (``bastion.security.encryption``)."""

    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=128))

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, aad)

    def decrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        return self._aead.decrypt(data[:12], data[12:], aad)


@dataclass
class Recorder:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))

        return record


@dataclass(frozen=True)
class Logged:
    request_id: str
    deployment: str
    model: str
    version: int
    tenant: str
    inputs: list[Any]
    outputs: list[Any]
    confidences: list[float | None]
    segments: dict[str, str]
    at: datetime


class PredictionLog:
    async def get(self, request_id: str, *, tenant: str | None = None) -> Logged | None:
        if request_id != "logged-1":
            return None
        return Logged(
            "logged-1", "classifier", "classifier", 1, "default", [{"a": 1}],
            [{"label": "spam"}], [0.8], {}, datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip


async def test_decisions_reach_feedback_audit_and_encrypted_storage(make_services: Any) -> None:
    svc = await make_services([policy()])
    feedback, audit = Recorder(), Recorder()

    review = _review(svc)  # as if built with these collaborators
    review.hooks = Hooks(feedback=feedback, audit=audit, predictions=PredictionLog())
    review.codec = PayloadCodec(AesGcm(), None)
    item_id = await _queued(svc, rid="req-5")
    item = await _review(svc).queue.get(item_id)
    assert item is not None and item.encrypted and b"note" not in item.payload
    await _review(svc).decide(item_id, REVIEWER, "correct", {"label": "ham"}, "not spam")
    assert (await _review(svc).show(item_id, REVIEWER))["input"] == {"confidence": 0.2, "note": "x"}
    done = await _review(svc).override(
        "logged-1", OPERATOR, index=0, output={"label": "ham"}, reason="from the log"
    )
    assert (done["source"], done["model_output"], done["confidence"]) == (
        "override",
        {"label": "spam"},
        0.8,
    )
    assert [(c[1][0], c[2]["source"], c[2]["label"]) for c in feedback.calls] == [
        ("req-5", "review", {"label": "ham"}),
        ("logged-1", "override", {"label": "ham"}),
    ]
    # the audit names the deciding key and its tenant, not only a display name
    assert [(c[1][0].name, c[1][0].key_id, c[1][0].tenant, c[1][1]) for c in audit.calls] == [
        ("rita", REVIEWER.key_id, REVIEWER.tenant, "review.corrected"),
        ("otto", OPERATOR.key_id, OPERATOR.tenant, "prediction.override"),
    ]
