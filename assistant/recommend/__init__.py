"""Recommendations: implicit-feedback ALS + product-text content model (cold start for new products)."""

from assistant.recommend.audience import build_recommender, recommend_audience
from assistant.recommend.model import HybridRecommender

__all__ = ["HybridRecommender", "build_recommender", "recommend_audience"]
