import time

import pytest

from bastion.contracts import check_limits
from bastion.contracts.stage import ValidateStage
from bastion.errors import InvalidRequest
from bastion.pipeline import Call, Result
from bastion.settings import LimitsSettings

LIMITS = LimitsSettings(max_depth=4, max_string_length=10, max_list_length=3)


def test_within_limits_passes() -> None:
    check_limits({"a": [1, 2, {"b": "short"}]}, LIMITS)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": {"b": {"c": {"d": {}}}}}, "$.a.b.c.d"),
        ({"text": "x" * 11}, "$.text"),
        ({"items": [1, 2, 3, 4]}, "$.items"),
        ([[[[[1]]]]], "$[0][0][0][0]"),
    ],
)
def test_violations_name_the_place(value: object, where: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        check_limits(value, LIMITS)
    assert info.value.details["field"] == where
    assert where in info.value.message


def test_deep_nesting_does_not_recurse() -> None:
    deep: list[object] = []
    cur = deep
    for _ in range(10_000):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    with pytest.raises(InvalidRequest):
        check_limits(deep, LimitsSettings())


async def test_a_deployments_own_max_batch_is_enforced() -> None:
    async def answer(call: Call) -> Result:
        return Result(call.deployment, "m", 1, [])

    stage = ValidateStage(256, {"small": 4})
    five = [{"x": i} for i in range(5)]
    await stage(Call("r", "other", "predict", five, True, time.perf_counter()), answer)
    with pytest.raises(InvalidRequest, match="batch limit of 4"):
        await stage(Call("r", "small", "predict", five, True, time.perf_counter()), answer)


async def test_a_jobs_calls_have_their_own_bound_and_a_deployments_still_applies() -> None:
    async def answer(call: Call) -> Result:
        return Result(call.deployment, "m", 1, [])

    stage = ValidateStage(4, {"small": 2}, job_batch=8)
    eight = [{"x": i} for i in range(8)]
    await stage(Call("r", "other", "batch", eight, True, time.perf_counter()), answer)
    with pytest.raises(InvalidRequest, match="batch limit of 4"):
        await stage(Call("r", "other", "predict", eight, True, time.perf_counter()), answer)
    nine = [*eight, {"x": 9}]
    with pytest.raises(InvalidRequest, match="batch limit of 8"):
        await stage(Call("r", "other", "batch", nine, True, time.perf_counter()), answer)
    with pytest.raises(InvalidRequest, match="batch limit of 2"):
        await stage(Call("r", "small", "batch", eight[:3], True, time.perf_counter()), answer)
