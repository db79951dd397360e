"""Adapter for the Women's E-Commerce Clothing Reviews used by the sentiment evals: the rows with review
text, the classifier's input texts and the fixed product-grouped test split."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from assistant.sentiment.features import review_text

CLOTHING_CSV = "Womens_Clothing_E-Commerce_Reviews.csv"


class ClothingReviews(NamedTuple):
    path: Path  # the CSV read
    rows: pd.DataFrame  # its rows with non-empty review text
    texts: list[str]  # "<Title>. <Review Text>" per row, the classifiers' input
    n_raw: int  # rows in the file, with or without text


def load_clothing_reviews(data: str | Path) -> ClothingReviews:
    """The reviews with text; ``data`` is the CSV or the folder holding it."""
    data = Path(data)
    path = data / CLOTHING_CSV if data.is_dir() else data
    raw = pd.read_csv(path)
    df = raw[raw["Review Text"].fillna("").str.strip() != ""].reset_index(drop=True)
    texts = [review_text(t, x) for t, x in zip(df["Title"], df["Review Text"], strict=True)]
    return ClothingReviews(path, df, texts, len(raw))


def clothing_split(df: pd.DataFrame, test_size: float = 0.2, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Train / test row positions, split by Clothing ID (GroupShuffleSplit) so no product is in both."""
    from sklearn.model_selection import GroupShuffleSplit

    tr, te = next(GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
                  .split(np.arange(len(df)), groups=df["Clothing ID"].to_numpy()))
    return tr, te
