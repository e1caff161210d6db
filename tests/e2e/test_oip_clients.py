"""The stock Open Inference Protocol client (``tritonclient.http``, what Triton and KServe
users run), unchanged, against a real server: binary tensor data (its default) and JSON,
requested outputs only, compressed bodies, and errors it can read."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from bastion.demo.tabular import sample_inputs
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

ROWS = np.array([list(r.values()) for r in sample_inputs(3)], dtype=np.float32)


@pytest.fixture(scope="module")
def client(demo_server: Server) -> Iterator[triton.InferenceServerClient]:
    c = triton.InferenceServerClient(url=f"127.0.0.1:{demo_server.port}", network_timeout=60)
    yield c
    c.close()


def _tabular(binary: bool) -> triton.InferInput:
    tensor = triton.InferInput("input-0", list(ROWS.shape), "FP32")
    return tensor.set_data_from_numpy(ROWS, binary_data=binary)


def _predict_api(demo_server: Server) -> list[dict[str, object]]:
    r = demo_server.post("/v1/deployments/breast-cancer/predict", json={"inputs": ROWS.tolist()})
    assert r.status_code == 200, r.text
    return list(r.json()["outputs"])


def test_health_and_metadata(client: triton.InferenceServerClient, demo_server: Server) -> None:
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("breast-cancer", headers=demo_server.auth)
    meta = client.get_model_metadata("breast-cancer", headers=demo_server.auth)
    assert meta["inputs"][0]["shape"] == [-1, 30]
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]


def test_default_binary_mode_returns_every_output_in_binary(
    client: triton.InferenceServerClient, demo_server: Server
) -> None:
    result = client.infer("breast-cancer", [_tabular(True)], headers=demo_server.auth)
    outputs = {o["name"]: o for o in result.get_response()["outputs"]}
    assert set(outputs) >= {"label", "probabilities", "confidence"}
    assert all("binary_data_size" in o["parameters"] for o in outputs.values())
    expected = _predict_api(demo_server)
    labels = result.as_numpy("label")
    assert labels is not None and labels.shape == (3,)
    assert [x.decode() for x in labels] == [o["output"]["label"] for o in expected]
    probs = result.as_numpy("probabilities")
    assert probs is not None and probs.shape == (3, 2)
    confidence = result.as_numpy("confidence")
    assert confidence is not None
    assert confidence.tolist() == pytest.approx([o["confidence"] for o in expected])


def test_json_mode_returns_only_the_requested_output(
    client: triton.InferenceServerClient, demo_server: Server
) -> None:
    wanted = [triton.InferRequestedOutput("label", binary_data=False)]
    result = client.infer(
        "breast-cancer", [_tabular(False)], outputs=wanted, headers=demo_server.auth
    )
    (only,) = result.get_response()["outputs"]
    assert only["name"] == "label" and "data" in only
    expected = [o["output"]["label"] for o in _predict_api(demo_server)]
    labels = result.as_numpy("label")
    assert labels is not None and labels.tolist() == expected
    assert result.as_numpy("confidence") is None


def test_mixed_binary_and_json_outputs_and_gzip(
    client: triton.InferenceServerClient, demo_server: Server
) -> None:
    wanted = [
        triton.InferRequestedOutput("confidence", binary_data=True),
        triton.InferRequestedOutput("label", binary_data=False),
    ]
    result = client.infer(
        "breast-cancer",
        [_tabular(True)],
        outputs=wanted,
        headers=demo_server.auth,
        request_compression_algorithm="gzip",
    )
    names = [o["name"] for o in result.get_response()["outputs"]]
    assert names == ["confidence", "label"]
    confidence = result.as_numpy("confidence")
    assert confidence is not None and confidence.shape == (3,)


def test_text_model_with_binary_bytes_input(
    client: triton.InferenceServerClient, demo_server: Server
) -> None:
    texts = np.array([b"I want my money back for the broken order", "é".encode()], dtype=object)
    tensor = triton.InferInput("text", [2], "BYTES").set_data_from_numpy(texts)
    result = client.infer("support-intent", [tensor], headers=demo_server.auth)
    labels = result.as_numpy("label")
    assert labels is not None and labels[0] == b"refund_request"


def test_errors_are_readable_by_the_client(
    client: triton.InferenceServerClient, demo_server: Server
) -> None:
    with pytest.raises(InferenceServerException) as info:
        client.infer("nope", [_tabular(True)], headers=demo_server.auth)
    assert info.value.status() == "404" and "nope" in str(info.value.message())
    wrong = triton.InferInput("input-0", [3, 10], "FP32")
    wrong.set_data_from_numpy(ROWS[:, :10].copy())
    with pytest.raises(InferenceServerException) as info:
        client.infer("breast-cancer", [wrong], headers=demo_server.auth)
    assert info.value.status() == "400" and info.value.message()
    with pytest.raises(InferenceServerException) as info:
        client.infer(
            "breast-cancer",
            [_tabular(True)],
            outputs=[triton.InferRequestedOutput("nonesuch")],
            headers=demo_server.auth,
        )
    assert info.value.status() == "400" and "nonesuch" in str(info.value.message())
    with pytest.raises(InferenceServerException) as info:
        client.infer("breast-cancer", [_tabular(True)])  # no key
    assert info.value.status() == "401" and info.value.message()


def test_raw_protocol_shapes(demo_server: Server) -> None:
    url = demo_server.url + "/v2/models/breast-cancer/infer"
    tensor = {"name": "x", "shape": [1, 30], "datatype": "FP32", "data": ROWS[0].tolist()}
    r = httpx.post(url, content=json.dumps({"inputs": [tensor]}), headers=demo_server.auth)
    assert r.status_code == 200, r.text  # no Content-Type: JSON, as the protocol's clients send
    assert r.headers["content-type"] == "application/json"
    bad = httpx.post(url, json={"inputs": []}, headers=demo_server.auth)
    assert bad.status_code == 400
    assert set(bad.json()) == {"error"} and bad.json()["error"].startswith("inputs:")
    assert bad.headers["x-bastion-error-type"] == "invalid_request"
    cut = httpx.post(
        url,
        content=b'{"inputs": []}',
        headers={**demo_server.auth, "Inference-Header-Content-Length": "99"},
    )
    assert cut.status_code == 400 and "Inference-Header-Content-Length" in cut.json()["error"]
