"""A correction names what a person knows; the review service completes the output contract."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bastion.demo.training import classifier_output_schema
from bastion.errors import InvalidRequest
from bastion.pipeline import Call
from bastion.review.completion import complete_correction
from bastion.services import Services
from tests.review.conftest import policy, principal
from tests.review.models import INTENTS

SCHEMA = classifier_output_schema(INTENTS)
ONE_HOT = {"billing_question": 1.0, "cancel": 0.0, "refund": 0.0}
FULL = {"label": "billing_question", "class_id": 0, "probability": 1.0, "probabilities": ONE_HOT}


@pytest.mark.parametrize("given", ["billing_question", {"label": "billing_question"}])
def test_a_label_completes_to_a_one_hot_answer(given: Any) -> None:
    done = complete_correction(SCHEMA, given)
    assert done.output == FULL
    assert "probabilities" in done.filled and done.source == "human"


def test_a_class_id_names_the_label_and_given_fields_are_kept() -> None:
    assert complete_correction(SCHEMA, {"class_id": 0}).output == FULL
    kept = complete_correction(SCHEMA, {"label": "cancel", "probability": 0.9})
    assert kept.output["probability"] == 0.9 and kept.output["class_id"] == 1
    assert "probability" not in kept.filled


def test_what_cannot_be_completed_is_left_for_the_contract_check() -> None:
    assert complete_correction(SCHEMA, {"label": "eggs"}).output == {"label": "eggs"}
    assert complete_correction(SCHEMA, 7).output == 7
    assert complete_correction(None, {"label": "x"}).filled == ()
    assert complete_correction(SCHEMA, FULL).filled == ()


def test_a_single_field_contract_takes_the_bare_value() -> None:
    schema = {"type": "object", "properties": {"value": {"type": "number"}}, "required": ["value"]}
    assert complete_correction(schema, 3.5).output == {"value": 3.5}
    assert complete_correction(schema, {"value": 1}).filled == ()


async def _intent_item(svc: Services) -> str:
    await svc.registry.register(
        "intent",
        flavor="python",
        artifact=None,
        params={"entry_point": "tests.review.models:intent"},
        signature={"output_schema": SCHEMA},
    )
    await svc.registry.promote("intent", 1, alias="production", actor="test")
    await svc.deployments.refresh()
    call = Call("req-intent", "intent", "predict", ["I was charged twice"], False, 0.0)
    call.principal = principal("client", "client")
    call.started_at = time.perf_counter()
    await svc.pipeline(call)
    return str(call.review.to_dict()["items"][0]["review_id"])


async def test_the_service_completes_a_reviewers_label(make_services: Any) -> None:
    svc = await make_services([policy(deployment="intent")])
    assert svc.review is not None
    item_id = await _intent_item(svc)
    reviewer = principal("rita", "reviewer")
    with pytest.raises(InvalidRequest) as bad:
        await svc.review.decide(item_id, reviewer, "correct", {"label": "eggs"}, "typo")
    assert bad.value.details["field"] == "output.label"
    assert (await svc.review.show(item_id, reviewer))["status"] == "pending"  # unchanged
    done = await svc.review.decide(item_id, reviewer, "correct", "billing_question", "billing")
    assert done["final_output"] == FULL
    assert done["completed_fields"] == ["label", "class_id", "probability", "probabilities"]
    history = (await svc.review.show(item_id, reviewer))["history"]
    assert history[-1].details["output_source"] == "human"
    client = await svc.review.client_status(item_id, principal("client", "client"))
    assert client["output"] == FULL


async def test_an_override_is_completed_too(make_services: Any) -> None:
    svc = await make_services([policy(deployment="intent")])
    assert svc.review is not None
    await _intent_item(svc)
    operator = principal("otto", "operator")
    done = await svc.review.override(
        "req-intent", operator, index=0, output={"label": "cancel"}, reason="customer said so"
    )
    assert done["final_output"]["probabilities"]["cancel"] == 1.0
    assert done["final_output"]["class_id"] == 1
