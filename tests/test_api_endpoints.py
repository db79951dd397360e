"""Every HTTP endpoint against a tiny fixture store (hashing embedder, real FAISS/BM25 index, real
SQLite catalog) and a scripted LLM."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedLLM
from fastapi.testclient import TestClient
from fixtures.frontends.store import make_service

from assistant.api.app import create_app
from assistant.gen.citations import strip_citations

COPY_JSON = json.dumps({"title": "Linen midi dress", "description": "A breezy blue linen midi dress with pockets.",
                        "bullets": ["Linen", "Blue"], "seo_keywords": ["linen dress"]})


def _llm_for(messages: list[Any], tools: Any, schema: Any) -> str:
    """Answers by task: JSON copy when a schema is asked for, cited prose otherwise."""
    if schema is not None:
        return COPY_JSON
    return "Buyers like the soft linen fabric [W1] but say it runs small [W2]."


@pytest.fixture()
def service(tmp_path: Path) -> Any:
    return make_service(tmp_path, ScriptedLLM([_llm_for], repeat_last=True))


@pytest.fixture()
def client(service: Any) -> TestClient:
    return TestClient(create_app(service), raise_server_exceptions=False)


def test_health_and_models(client: TestClient) -> None:
    r = client.get("/v1/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["catalog"]["products"] == 8 and body["index"]["n_reviews"] == 8
    assert r.headers["x-request-id"]
    r = client.get("/v1/models")
    assert r.status_code == 200
    assert r.json()["configured"]["backend"] == "llamacpp"
    assert any(m["key"] == "smollm2-135m" for m in r.json()["models"])


def test_search_filters_and_cite_ids(client: TestClient) -> None:
    r = client.post("/v1/search", json={"query": "runs small in the shoulders", "k": 3, "kind": "review"})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert hits[0]["review_id"] == "W2" and hits[0]["cite_id"] == "W2"
    assert all(h["kind"] == "review" for h in hits)
    r = client.post("/v1/search", json={"query": "fabric", "category": "General > Tops", "k": 5})
    assert {h["product_id"] for h in r.json()["hits"]} == {"C2"}


def test_reviews_summary_cites_real_reviews(client: TestClient) -> None:
    r = client.post("/v1/reviews/summary", json={"product_id": "C1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n_reviews"] == 4
    assert "[W1]" in body["summary"]
    assert body["aspects"] and all(0 <= a["share"] <= 1 for a in body["aspects"])
    r = client.post("/v1/reviews/summary", json={"category": "General > Tops"})
    assert r.status_code == 200 and r.json()["n_reviews"] == 3
    full = client.post("/v1/reviews/summary", json={"product_id": "C1"}).json()
    short = client.post("/v1/reviews/summary", json={"product_id": "C1", "words": 20}).json()
    assert len(strip_citations(full["summary"]).split()) > 23 >= len(strip_citations(short["summary"]).split())
    assert short["trimmed_sentences"] and not full["trimmed_sentences"]


def test_reviews_summary_bad_input(client: TestClient) -> None:
    r = client.post("/v1/reviews/summary", json={})
    assert r.status_code == 422 and "product_id or category" in r.json()["error"]
    r = client.post("/v1/reviews/summary", json={"product_id": "NOPE"})
    assert r.status_code == 400
    assert "NOPE" in r.json()["error"] and r.json()["request_id"]
    r = client.post("/v1/reviews/summary", json={"product_id": "C1", "words": 5})
    assert r.status_code == 422 and "words" in r.text


def test_copy_single_from_attributes_and_from_catalog(client: TestClient) -> None:
    product = {"product_id": "N1", "title": "Linen midi dress", "attributes": {"material": "linen", "color": "blue"}}
    r = client.post("/v1/copy", json={"product": product, "variants": 2, "tone": "premium", "length": 40})
    assert r.status_code == 200, r.text
    variants = r.json()["variants"]
    assert len(variants) == 2 and variants[0]["title"] == "Linen midi dress"
    assert "flags" in variants[0]
    r = client.post("/v1/copy", json={"product_id": "C1"})
    assert r.status_code == 200 and r.json()["variants"]
    r = client.post("/v1/copy", json={"product_id": "C1", "product": product})
    assert r.status_code == 422


def test_copy_batch_job_lifecycle(client: TestClient) -> None:
    products = [{"product_id": f"N{i}", "title": f"Dress {i}", "attributes": {"material": "linen"}} for i in range(3)]
    r = client.post("/v1/copy/batch", json={"products": products, "length": 30})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    deadline = time.time() + 30
    while time.time() < deadline:
        status = client.get(f"/v1/copy/batch/{job_id}").json()
        if status["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert status["status"] == "done" and status["done"] == 3 and status["failed"] == 0
    r = client.get(f"/v1/copy/batch/{job_id}/results")
    items = r.json()["items"]
    assert sorted(i["product_id"] for i in items) == ["N0", "N1", "N2"]
    assert all(i["status"] in ("ok", "flagged") and i["variants"] for i in items)
    assert client.delete(f"/v1/copy/batch/{job_id}").json()["status"] == "done"
    assert client.get("/v1/copy/batch/unknown").status_code == 404
    assert client.delete("/v1/copy/batch/unknown").status_code == 404
    dup = client.post("/v1/copy/batch", json={"products": products[:1] * 2})
    assert dup.status_code == 422 and "sent more than once: N0" in dup.json()["error"]
    # products sent without ids are numbered, not all called "draft"
    anon = client.post("/v1/copy/batch", json={"products": [{"title": "Mug"}, {"title": "Bowl"}]}).json()
    for _ in range(100):
        if client.get(f"/v1/copy/batch/{anon['id']}").json()["status"] in ("done", "failed"):
            break
        __import__("time").sleep(0.05)
    items = client.get(f"/v1/copy/batch/{anon['id']}/results").json()["items"]
    assert sorted(i["product_id"] for i in items) == ["item-1", "item-2"]


def test_forecast_demand(client: TestClient) -> None:
    r = client.post("/v1/forecast/demand", json={"unique_ids": ["R1"], "h": 4, "level": [80]})
    assert r.status_code == 200, r.text
    series = r.json()["series"]
    assert series[0]["unique_id"] == "R1" and len(series[0]["yhat"]) == 4
    assert all(lo <= y <= hi for lo, y, hi in zip(series[0]["lo_80"], series[0]["yhat"], series[0]["hi_80"],
                                                   strict=True))
    r = client.post("/v1/forecast/demand", json={"unique_ids": ["NOPE"], "h": 4})
    assert r.status_code == 400 and "sales" in r.json()["error"].lower()
    # an unknown id among known ones is named, not dropped
    r = client.post("/v1/forecast/demand", json={"unique_ids": ["R1", "NOPE", "R2"], "h": 2})
    assert r.status_code == 400 and "1 of the requested series: NOPE." in r.json()["error"]
    # every requested series comes back, in the request's order (no silent cut to the top 10)
    ids = ["R6", "R1", "R4", "R2", "R5", "R3"]
    body = client.post("/v1/forecast/demand", json={"unique_ids": ids, "h": 2, "level": [80]}).json()
    assert [s["unique_id"] for s in body["series"]] == ids and body["truncated"] is False
    # a series' forecast does not depend on which others are asked for with it
    # (grouped selection gave R5 Naive with the other five, AutoETS alone)
    alone = client.post("/v1/forecast/demand", json={"unique_ids": ["R5"], "h": 2, "level": [80]}).json()["series"][0]
    assert {k: alone[k] for k in ("model", "yhat", "hi_80")} == {k: body["series"][4][k] for k in ("model", "yhat", "hi_80")}
    body = client.post("/v1/forecast/demand", json={"unique_ids": ["R2", "R1", "R2"], "h": 2}).json()
    assert [s["unique_id"] for s in body["series"]] == ["R2", "R1"] and "forecast once: R2" in body["notes"][-1]
    r = client.post("/v1/forecast/demand", json={"unique_ids": ["R1"], "h": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "h"


def test_validation_errors_are_readable(client: TestClient) -> None:
    r = client.post("/v1/search", json={"query": "", "k": 1000, "extra": 1})
    assert r.status_code == 422
    body = r.json()
    fields = {d["field"] for d in body["detail"]}
    assert {"query", "k", "extra"} <= fields
    assert body["error"].startswith("Invalid request:")
    r = client.post("/v1/search", content=b'{"query": "x" "k": 1}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body"], "field": "body", "type": "json_invalid",
                                   "msg": "Malformed JSON at character 14: Expecting ',' delimiter"}]
    # a body that is not JSON at all: 415 saying how to send it
    r = client.post("/v1/search", content=b"query=linen", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and "Content-Type: application/json" in r.json()["error"]
    # values of the wrong JSON type are refused, not coerced; so are NaN and a reversed rating range
    for bad, field in (({"query": "x", "k": True}, "k"), ({"query": "x", "k": "3"}, "k"),
                       ({"query": "x", "min_rating": float("nan")}, "min_rating")):
        r = client.post("/v1/search", content=__import__("json").dumps(bad), headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, r.text
    assert client.post("/v1/search", json={"query": "x", "min_rating": 4, "max_rating": 5}).status_code == 200
    r = client.post("/v1/search", json={"query": "x", "min_rating": 4, "max_rating": 2})
    assert r.status_code == 422 and "swap them" in r.json()["error"]
    for category in ("   ", ">"):
        r = client.post("/v1/search", json={"query": "x", "category": category})
        assert r.status_code == 422 and "must contain words" in r.json()["error"]
    r = client.post("/v1/forecast/new-product", json={"product": {"title": "  "}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "product.title"


def test_unexpected_error_is_500_without_trace(service: Any, client: TestClient, monkeypatch: Any) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "search", boom)
    r = client.post("/v1/search", json={"query": "linen"})
    assert r.status_code == 500
    body = r.json()
    assert "secret" not in r.text and "Traceback" not in r.text
    assert body["request_id"] == r.headers["x-request-id"]


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    paths = client.get("/v1/openapi.json").json()["paths"]
    for p in ("/v1/ask", "/v1/search", "/v1/reviews/summary", "/v1/copy", "/v1/copy/batch",
              "/v1/copy/batch/{job_id}", "/v1/copy/batch/{job_id}/results", "/v1/forecast/demand",
              "/v1/forecast/new-product", "/v1/health", "/v1/models"):
        assert p in paths, p


def test_forecast_new_product(client: TestClient) -> None:
    product = {"title": "Stoneware teapot", "category": "Gifts > Kitchen", "attributes": {"material": "ceramic"},
               "price": 12.0}
    r = client.post("/v1/forecast/new-product", json={"product": product, "horizon": 8})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["weeks"] == list(range(1, 9)) and len(body["yhat"]) == 8
    assert all(lo <= y <= hi for lo, y, hi in zip(body["lo"], body["yhat"], body["hi"], strict=True))
    assert body["analogues"] and body["analogues"][0]["product_id"].startswith("R")
    assert body["past_launches"] >= 5
    later = client.post("/v1/forecast/new-product", json={"product": {**product, "launch_date": "2024-06-03"},
                                                          "horizon": 8}).json()
    assert later["launch_date"] == "2024-06-03" and later["notes"] == []
    early = client.post("/v1/forecast/new-product", json={"product": {**product, "launch_date": "1999-01-04"},
                                                          "horizon": 8}).json()
    assert early["analogues"] == [] and "No past launch is earlier than 1999-01-04" in early["notes"][0]
    # a shorter horizon is the same forecast cut short: week n does not depend on how many weeks are asked for
    for h in (1, 4, 12):
        short = client.post("/v1/forecast/new-product", json={"product": product, "horizon": h}).json()
        assert short["yhat"] == body["yhat"][:h] if h <= 8 else short["yhat"][:8] == body["yhat"]
    r = client.post("/v1/forecast/new-product", json={"product": {"title": "x"}, "horizon": 99})
    assert r.status_code == 422
