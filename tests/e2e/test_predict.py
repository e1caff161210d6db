"""Predict, OIP v2, embeddings and listings through a real server with the demo models."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai
import pytest

from bastion.demo.tabular import sample_inputs
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def test_tabular_predict_single_and_batch(demo_server: Server) -> None:
    rows = sample_inputs(3)
    one = demo_server.post("/v1/deployments/breast-cancer/predict", json={"input": rows[0]})
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["output"]["label"] in ("malignant", "benign")
    assert 0.5 <= body["confidence"] <= 1.0
    assert body["version"] == int(one.headers["x-bastion-model-version"])
    assert one.headers["x-request-id"] == body["id"]

    many = demo_server.post("/v1/deployments/breast-cancer/predict", json={"inputs": rows})
    outputs = many.json()["outputs"]
    assert len(outputs) == 3
    assert outputs[0]["output"] == body["output"]


def test_tabular_accepts_a_feature_array(demo_server: Server) -> None:
    row = list(sample_inputs(1)[0].values())
    r = demo_server.post("/v1/deployments/breast-cancer/predict", json={"input": row})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I want my money back for the order that arrived broken", "refund_request"),
        ("where is my package? it was supposed to arrive monday", "order_status"),
        ("I can't log in, the password reset email never comes", "account_access"),
    ],
)
def test_support_intent(demo_server: Server, text: str, intent: str) -> None:
    r = demo_server.post("/v1/deployments/support-intent/predict", json={"input": text})
    assert r.status_code == 200, r.text
    assert r.json()["output"]["label"] == intent
    assert 0 < r.json()["confidence"] <= 1


def test_embeddings_with_the_openai_sdk(demo_server: Server) -> None:
    client = openai.OpenAI(base_url=demo_server.url + "/v1", api_key=demo_server.admin_key)
    res = client.embeddings.create(
        model="minilm", input=["the cat sat", "a cat was sitting", "tax law"]
    )
    vectors = np.array([d.embedding for d in res.data])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]
    floats = client.embeddings.create(model="minilm", input="the cat sat", encoding_format="float")
    assert np.allclose(floats.data[0].embedding, vectors[0], atol=1e-5)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="no-such-model", input="x")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=demo_server.url + "/v1", api_key="bst_wrong").embeddings.create(
            model="minilm", input="x"
        )


def test_concurrent_embeddings_of_mixed_lengths_match_one_by_one(demo_server: Server) -> None:
    """Concurrent requests share micro-batches (on by default for embeddings) whose texts
    differ in length; each still gets the vector it gets alone."""
    texts = ["hi", "refund please", "the parcel is late " * 30, "ok", "word " * 120, "a b"] * 4

    def embed(text: str) -> list[float]:
        r = demo_server.post("/v1/embeddings", json={"model": "minilm", "input": text})
        assert r.status_code == 200, r.text
        return list(r.json()["data"][0]["embedding"])

    alone = np.array([embed(t) for t in texts[:6]])
    with ThreadPoolExecutor(12) as pool:
        together = np.array(list(pool.map(embed, texts)))
    cosine = np.sum(together * np.tile(alone, (4, 1)), axis=1)
    assert np.all(cosine >= 0.999999), cosine.min()


def test_oip_v2(demo_server: Server) -> None:
    assert demo_server.get("/v2/health/live").json() == {"live": True}
    assert demo_server.get("/v2/health/ready").json() == {"ready": True}
    meta = demo_server.get("/v2/models/breast-cancer").json()
    assert meta["name"] == "breast-cancer" and meta["platform"] == "onnx"
    assert meta["inputs"] == [{"name": "input-0", "datatype": "FP32", "shape": [-1, 30]}]
    version = meta["versions"][-1]
    assert demo_server.get(f"/v2/models/breast-cancer/versions/{version}/ready").json()["ready"]

    rows = [list(r.values()) for r in sample_inputs(2)]
    req = {
        "id": "abc",
        "inputs": [{"name": "input-0", "shape": [2, 30], "datatype": "FP32", "data": rows}],
    }
    r = demo_server.post("/v2/models/breast-cancer/infer", json=req)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == "abc" and out["model_name"] == "breast-cancer"
    tensors = {t["name"]: t for t in out["outputs"]}
    assert tensors["label"]["shape"] == [2] and tensors["label"]["datatype"] == "BYTES"
    assert tensors["probabilities"]["shape"] == [2, 2]

    text = {
        "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["refund please"]}]
    }
    r = demo_server.post(f"/v2/models/support-intent/versions/{version}/infer", json=text)
    assert r.status_code == 200, r.text
    assert r.json()["model_version"] == version


def test_listings_and_openapi(demo_server: Server) -> None:
    deps = {d["name"]: d for d in demo_server.get("/v1/deployments").json()["data"]}
    assert set(deps) >= {"breast-cancer", "support-intent", "minilm"}
    assert all(d["ready"] for d in deps.values())
    assert deps["breast-cancer"]["input_schema"] is not None
    spec = demo_server.get("/openapi.json").json()
    assert "/v1/deployments/{name}/predict" in spec["paths"]
    assert "/v2/models/{name}/infer" in spec["paths"]
    models = demo_server.get("/v1/models").json()["data"]
    assert {m["id"] for m in models} >= {"minilm"}
