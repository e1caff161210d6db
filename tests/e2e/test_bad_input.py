"""Whatever a client sends, the answer is a clean 4xx in the one error shape, never a 5xx."""

from __future__ import annotations

import httpx
import pytest

from bastion.demo.tabular import sample_inputs
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

PREDICT = "/v1/deployments/breast-cancer/predict"


def _raw(
    server: Server,
    body: bytes,
    ctype: str = "application/json",
    path: str = PREDICT,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    hdrs = {**server.auth, "content-type": ctype, **(headers or {})}
    return httpx.post(server.url + path, content=body, headers=hdrs, timeout=30)


def _assert_error(r: httpx.Response, status: int, type_: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["type"] == type_
    assert err["message"]
    assert err["request_id"] == r.headers["x-request-id"]
    return err


def _assert_oip_error(r: httpx.Response, status: int, type_: str) -> str:
    """The Open Inference Protocol's error shape: ``{"error": "<message>"}``."""
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error"} and r.json()["error"]
    assert r.headers["x-bastion-error-type"] == type_
    return str(r.json()["error"])


def test_field_level_contract_error_names_the_field(demo_server: Server) -> None:
    row = sample_inputs(1)[0]
    row["mean_radius"] = "big"
    err = _assert_error(demo_server.post(PREDICT, json={"input": row}), 422, "invalid_request")
    assert err["param"] == "input.mean_radius"
    assert "'big' is not of type 'number'" in str(err["message"])


def test_missing_and_extra_fields(demo_server: Server) -> None:
    row = sample_inputs(1)[0]
    del row["mean_radius"]
    err = _assert_error(
        demo_server.post(PREDICT, json={"inputs": [sample_inputs(1)[0], row]}),
        422,
        "invalid_request",
    )
    assert "inputs[1]" in str(err["message"]) and "mean_radius" in str(err["message"])
    _assert_error(
        demo_server.post(PREDICT, json={"input": {**sample_inputs(1)[0], "x": 1}}),
        422,
        "invalid_request",
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"input": 1, "inputs": [1]}, {"inputs": "notalist"}, {"inputs": []}, {"inpt": 1}],
)
def test_bad_envelopes(demo_server: Server, body: dict[str, object]) -> None:
    _assert_error(demo_server.post(PREDICT, json=body), 422, "invalid_request")


def test_an_unknown_envelope_field_is_named(demo_server: Server) -> None:
    row = sample_inputs(1)[0]
    body = {"input": row, "zeta": 1, "alpha": 2}
    err = _assert_error(demo_server.post(PREDICT, json=body), 422, "invalid_request")
    assert err["message"] == "unknown fields: alpha, zeta" and err["param"] == "alpha"


def test_text_too_long_for_the_contract(demo_server: Server) -> None:
    r = demo_server.post("/v1/deployments/support-intent/predict", json={"input": "x" * 5000})
    _assert_error(r, 422, "invalid_request")


@pytest.mark.parametrize(
    ("body", "ctype", "status", "type_"),
    [
        (b'{"input": NaN}', "application/json", 400, "invalid_request"),
        (b'{"input": Infinity}', "application/json", 400, "invalid_request"),
        (b'{"input": "\xff\xfe"}', "application/json", 400, "invalid_request"),
        (b'{"input": ', "application/json", 400, "invalid_request"),
        (b"", "application/json", 400, "invalid_request"),
        (b"[1, 2]", "application/json", 400, "invalid_request"),
        (b'{"input": 1}', "text/plain", 415, "unsupported_media_type"),
        (b"input=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies(
    demo_server: Server, body: bytes, ctype: str, status: int, type_: str
) -> None:
    _assert_error(_raw(demo_server, body, ctype), status, type_)


def test_body_too_large(demo_server: Server) -> None:
    big = b'{"input": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    _assert_error(_raw(demo_server, big), 413, "payload_too_large")


def test_chunked_body_too_large(demo_server: Server) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"input": "'
        for _ in range(80):
            yield b"a" * 65536
        yield b'"}'

    r = httpx.post(
        demo_server.url + PREDICT,
        content=chunks(),
        headers={**demo_server.auth, "content-type": "application/json"},
        timeout=30,
    )
    _assert_error(r, 413, "payload_too_large")


def test_deep_nesting_and_long_lists(demo_server: Server) -> None:
    deep = b'{"input": ' + b"[" * 200 + b"]" * 200 + b"}"
    _assert_error(_raw(demo_server, deep), 422, "invalid_request")
    very_deep = b'{"input": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = _raw(demo_server, very_deep)
    assert r.status_code in (400, 422), r.text
    long_list = {"inputs": [1] * 20_000}
    _assert_error(demo_server.post(PREDICT, json=long_list), 422, "invalid_request")
    _assert_error(
        demo_server.post(PREDICT, json={"inputs": sample_inputs(1) * 300}), 422, "invalid_request"
    )


def test_auth_errors(demo_server: Server) -> None:
    row = {"input": sample_inputs(1)[0]}
    _assert_error(demo_server.post(PREDICT, json=row, headers={}), 401, "unauthorized")
    _assert_error(
        demo_server.post(PREDICT, json=row, headers={"Authorization": "Bearer nope"}),
        401,
        "unauthorized",
    )
    _assert_error(
        demo_server.post(PREDICT, json=row, headers={"Authorization": "Basic abc"}),
        401,
        "unauthorized",
    )


def test_unknown_things_are_404(demo_server: Server) -> None:
    _assert_error(
        demo_server.post("/v1/deployments/nope/predict", json={"input": 1}), 404, "not_found"
    )
    _assert_error(demo_server.get("/v1/nowhere"), 404, "not_found")
    _assert_oip_error(
        demo_server.post("/v2/models/nope/infer", json={"inputs": []}), 400, "invalid_request"
    )
    r = demo_server.post(
        "/v2/models/nope/infer",
        json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]},
    )
    _assert_oip_error(r, 404, "not_found")
    abc = demo_server.get("/v2/models/breast-cancer/versions/abc")
    _assert_oip_error(abc, 400, "invalid_request")
    _assert_oip_error(demo_server.get("/v2/models/breast-cancer/versions/999"), 404, "not_found")


def test_oip_tensor_errors(demo_server: Server) -> None:
    bad = {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP32", "data": [1.0] * 29}]}
    _assert_oip_error(
        demo_server.post("/v2/models/breast-cancer/infer", json=bad), 400, "invalid_request"
    )
    wrong_width = {
        "inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]
    }
    _assert_oip_error(
        demo_server.post("/v2/models/breast-cancer/infer", json=wrong_width), 400, "invalid_request"
    )


def test_request_id_is_echoed_or_made(demo_server: Server) -> None:
    r = demo_server.get("/v1/deployments", headers={**demo_server.auth, "x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = demo_server.get(
        "/v1/deployments", headers={**demo_server.auth, "x-request-id": "bad id with spaces"}
    )
    assert r.headers["x-request-id"] != "bad id with spaces"


def test_unknown_flavor_registers_nothing(demo_server: Server) -> None:
    before = demo_server.get("/v1/admin/models/breast-cancer").json()["versions"]
    r = demo_server.post("/v1/admin/models/breast-cancer/versions", json={"flavor": "keras"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["type"] == "invalid_request" and "known flavors:" in error["message"]
    assert demo_server.get("/v1/admin/models/breast-cancer").json()["versions"] == before


def test_server_is_healthy_after_abuse(demo_server: Server) -> None:
    assert demo_server.get("/readyz").status_code == 200
    r = demo_server.post(PREDICT, json={"input": sample_inputs(1)[0]})
    assert r.status_code == 200
