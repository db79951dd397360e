"""Review sentiment: aspect statistics (lexicon-based, exact counts) and a trained classifier."""

from assistant.sentiment.aspects import AspectMention, aspect_stats, extract_aspects, split_sentences
from assistant.sentiment.model import SentimentModel, load_sentiment_model, train_sentiment_model

__all__ = ["AspectMention", "aspect_stats", "extract_aspects", "split_sentences", "SentimentModel",
           "load_sentiment_model", "train_sentiment_model"]
