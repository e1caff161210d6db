"""No server error from any input: schemathesis over the whole OpenAPI spec of a real server.

Every operation gets a bounded number of generated requests, schema-conforming and not
(``BASTION_FUZZ_EXAMPLES`` per operation and mode, default 6; derandomized so that a run is
repeatable — set ``BASTION_FUZZ_SEED`` to explore other inputs). The test fails on any 5xx,
listing each operation, the request that broke it and the answer. The server runs with the
admin key, so that requests get past authentication into the handlers, and without the demo
models, so that it starts in seconds; a second key would only meet the same validation.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.e2e.server import Server, make_server

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("BASTION_FUZZ_EXAMPLES", "6"))
SEED = os.environ.get("BASTION_FUZZ_SEED")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "bastion.yaml").write_text(yaml.safe_dump({"demo": False}))
    srv = make_server(root / "srv", BASTION_CONFIG=str(root / "bastion.yaml")).start()
    yield srv
    srv.stop()


def _fuzz(server: Server, operation: Any, mode: Any, failures: list[str]) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def run(case: Any) -> None:
        try:
            response = case.call(base_url=server.url, headers=server.auth, timeout=60)
        except Exception as exc:  # a broken stream or a dropped connection is a failure too
            outcome = f"{type(exc).__name__}: {exc}"[:300]
        else:
            if response.status_code < 500:
                return
            outcome = f"{response.status_code} {response.text[:300]}"
        failures.append(
            f"{operation.label} [{mode}]: {outcome}\n    {case.as_curl_command()[:600]}"
        )

    if SEED is not None:
        run = hypothesis.seed(int(SEED))(run)
    # Unsatisfiable: nothing to break, e.g. no invalid request exists for an operation
    # without inputs.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()


def test_no_input_makes_a_server_error(server: Server) -> None:
    from schemathesis.generation.modes import GenerationMode

    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(server, operation, mode, failures)
    assert operations >= 60  # the whole spec was walked
    assert server.get("/readyz").status_code == 200  # and the server still serves
    assert not failures, "\n".join(failures)


BIG = str(2**64)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", f"/v1/admin/audit?from_seq={BIG}", None, "from_seq"),
        ("GET", f"/v1/admin/audit/export?from_seq={BIG}", None, "from_seq"),
        ("POST", "/v1/admin/audit/verify", {"from_seq": 2**64}, "from_seq"),
        ("POST", "/v1/admin/audit/verify", {"anchor": "²:" + "0" * 64}, "anchor"),
        ("GET", f"/v1/admin/alerts/{BIG}", None, "alert_id"),
        ("POST", f"/v1/admin/alerts/{BIG}/ack", None, "alert_id"),
        ("GET", f"/v1/admin/quarantine/{BIG}", None, "item_id"),
        ("GET", f"/v1/admin/models/m/versions/{BIG}", None, "version"),
        ("GET", "/v2/models/m/versions/²/ready", None, None),
        ("POST", "/v1/admin/artifacts/migrate", {"to": "s3://\u00c0]\u00a2]"}, "to"),
        ("POST", "/v1/admin/predictions/r1/override", {"output": [], "index": 2**64}, "index"),
    ],
)
def test_the_numbers_the_fuzz_found_are_clear_4xx(
    server: Server, method: str, path: str, body: Any, field: str | None
) -> None:
    r = server.request(method, path, json=body)
    assert 400 <= r.status_code < 500, r.text
    error = r.json()["error"]
    message = error if isinstance(error, str) else error["message"]
    assert message
    if field is not None:  # e.g. "query.from_seq", "path.version", "from_seq" (a body field)
        assert error["param"].split(".")[-1] == field, r.text
