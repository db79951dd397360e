"""Launch-analytics endpoints: review sentiment, audiences for a product, launch-portfolio plans. Each
validates its body and calls one MerchAssistant method."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from assistant.api import models as m
from assistant.api.routes import ERRORS, jsonable
from assistant.service import MerchAssistant


def build_analytics_router(get_service: Any) -> APIRouter:
    r = APIRouter(prefix="/v1", responses=ERRORS)

    def svc() -> MerchAssistant:
        return get_service()  # type: ignore[no-any-return]

    @r.post("/sentiment", response_model=m.SentimentResponse, tags=["analytics"])
    def sentiment(body: m.SentimentRequest) -> Any:
        if any(not t.strip() for t in body.texts):
            raise HTTPException(422, detail="Every text must contain more than whitespace.")
        return jsonable(svc().classify_reviews(body.texts))

    @r.post("/recommend/audience", response_model=m.AudienceResponse, tags=["analytics"])
    def audience(body: m.AudienceRequest) -> Any:
        return jsonable(svc().audience(body.product, body.k))

    @r.post("/plan", response_model=m.PlanResponse, tags=["analytics"])
    def plan(body: m.PlanRequest) -> Any:
        if (body.products is None) == (body.candidates is None):
            raise HTTPException(422, detail="Give exactly one of products (ids or drafts to forecast) or "
                                            "candidates (with their own forecasts).")
        products = None if body.products is None else [
            p if isinstance(p, str) else p.model_dump(exclude_none=True) for p in body.products]
        candidates = None if body.candidates is None else [c.model_dump() for c in body.candidates]
        return jsonable(svc().plan_launch(body.budget, products=products, candidates=candidates,
                                          horizon=body.horizon, max_per_category=body.max_per_category,
                                          shelf_slots=body.shelf_slots, risk=body.risk,
                                          cost_share=body.cost_share, plot=body.plot))

    return r
