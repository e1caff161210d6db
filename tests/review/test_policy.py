"""Review policies and their settings: triggers, priorities, fallbacks, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bastion.backends.base import Prediction
from bastion.errors import ConfigError
from bastion.review import ReviewPolicy
from bastion.settings import load_settings
from bastion.settings.review import ReviewPolicySettings, ReviewSettings


def _policy(rng: float = 0.5, **kw: object) -> ReviewPolicy:
    return ReviewPolicy(ReviewPolicySettings(deployment="d", **kw), rng=lambda: rng)  # type: ignore[arg-type]


def test_triggers_most_serious_first() -> None:
    p = _policy(confidence_below=0.6, on_guard_flags=True, sample_rate=0.6)
    low = Prediction("x", 0.5)
    assert p.triggers(low, flagged=True, requested=True) == (
        "guard",
        "confidence",
        "client",
        "sample",
    )
    assert p.triggers(Prediction("x", 0.7), flagged=False, requested=False) == ("sample",)
    assert _policy(rng=0.9, sample_rate=0.6).triggers(low, flagged=True, requested=False) == ()
    assert p.triggers(Prediction("x", None), flagged=False, requested=False) == ("sample",)
    missing = p.triggers(low, flagged=True, requested=False, missing_features=True)
    assert missing == ("guard", "features", "confidence", "sample")  # features/: missing: review


def test_priorities_take_the_most_serious_trigger() -> None:
    p = _policy(priority=5, priorities={"guard": 100, "sample": 1})
    assert p.priority(("guard", "sample")) == 105
    assert p.priority(("sample",)) == 6
    assert p.priority(("confidence",)) == 5  # not in the table: 0


def test_client_requests_count_only_when_the_policy_allows_them() -> None:
    headers = {"x-bastion-review": "Request"}
    assert _policy(client_may_request=True).client_requested(headers)
    assert not _policy().client_requested(headers)
    assert not _policy(client_may_request=True).client_requested({})


def test_fallbacks_and_answers_after_a_decision() -> None:
    model = Prediction({"label": "spam"}, 0.2)
    assert _policy().fallback("rev_1", model).output == {
        "status": "pending_review",
        "review_id": "rev_1",
    }
    assert _policy(fallback="model").fallback("rev_1", model) is model
    static = _policy(fallback="static", fallback_output={"label": "unknown"})
    assert static.fallback("rev_1", model).output == {"label": "unknown"}
    assert static.decided("rejected", "rev_1", {"label": "spam"}, None) == {"label": "unknown"}
    assert _policy().decided("approved", "rev_1", "m", None) == "m"
    assert _policy().decided("corrected", "rev_1", "m", "c") == "c"


def test_escalation_only_for_low_confidence_alone() -> None:
    p = _policy(confidence_below=0.5, escalate_to={"to": "big", "min_confidence": 0.8})
    assert p.escalates(("confidence",))
    assert not p.escalates(("guard", "confidence"))
    assert p.accepts_escalation(Prediction("x", 0.85))
    assert not p.accepts_escalation(Prediction("x", None))
    anything = _policy(escalate_to={"to": "big"})
    assert anything.accepts_escalation(Prediction("x", None))


def test_settings_are_checked_with_clear_messages() -> None:
    with pytest.raises(ValidationError, match="fallback_output"):
        ReviewPolicySettings(deployment="d", fallback="static")
    with pytest.raises(ValidationError, match="one review policy per deployment"):
        ReviewSettings(policies=[{"deployment": "d"}, {"deployment": "d"}])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=r"review\.policies\.0\.mode"):
        load_settings(review={"policies": [{"deployment": "d", "mode": "later"}]})
