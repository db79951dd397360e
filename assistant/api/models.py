"""Request and response bodies of the HTTP API (they define docs/openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Tone = Literal["neutral", "playful", "premium", "technical", "friendly", "formal"]


class _Open(BaseModel):
    """Responses whose core payload may carry extra fields (passed through as-is)."""

    model_config = ConfigDict(extra="allow")


def _not_blank(text: str) -> str:
    if not any(c.isalnum() for c in text):
        raise ValueError("must contain words, not only spaces or punctuation")
    return text


class _Request(BaseModel):
    """Request bodies: unknown fields are refused, and so are values of the wrong JSON type (``"k": "3"`` or
    ``"k": true`` for a number), NaN and infinities; a whole number is fine where a decimal is expected."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong and what to do about it.")
    type: str = Field(default="error", description="Error class, e.g. DataValidationError.")
    request_id: str | None = Field(default=None, description="Quote this id when reporting a problem.")
    problems: list[dict[str, Any]] = Field(default_factory=list, description="Bad input cells, if any.")


# ---------------------------------------------------------------------------- ask
class AskRequest(_Request):
    question: str = Field(min_length=1, max_length=4000, description="A question about the catalog.")


class Source(_Open):
    id: str
    kind: Literal["review", "product"]
    product_id: str | None = None
    title: str | None = None
    text: str | None = None
    rating: float | None = None


class ToolCallInfo(_Open):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: Any = None


class KeyFigureOut(BaseModel):
    subject: str = Field(description="Product id, a new product's title, or 'launch plan'.")
    figure: str = Field(description="What the number is, e.g. 'forecast, next 12 weeks (units)'.")
    value: float
    low: float | None = Field(default=None, description="Lower bound of the interval, if any.")
    high: float | None = Field(default=None, description="Upper bound of the interval, if any.")
    level: int | None = Field(default=None, description="The interval's coverage in percent.")
    source: str = Field(description="Tool and key it comes from, e.g. 'forecast_demand.total_units'.")


class AskResponse(_Open):
    answer: str
    citations: list[str] = Field(default_factory=list, description="Ids cited in the answer.")
    sources: list[Source] = Field(default_factory=list, description="The cited reviews/products.")
    tool_calls: list[ToolCallInfo] = Field(default_factory=list)
    figures: list[KeyFigureOut] = Field(default_factory=list, description=(
        "The key numbers of the tool results (forecast totals with intervals, recent sales, review counts and "
        "ratings, a launch plan's margin), taken from the results by code, to check the answer against."))
    artifacts: list[dict[str, Any]] = Field(default_factory=list, description="Plots (PNG, base64).")


# ---------------------------------------------------------------------------- search
class SearchRequest(_Request):
    query: str = Field(min_length=1, max_length=1000)
    k: int = Field(default=10, ge=1, le=100)
    kind: Literal["product", "review"] | None = None
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    category: Annotated[str, AfterValidator(_not_blank)] | None = Field(default=None, max_length=300, description=(
        "Category filter on whole levels of the path, case-insensitive: 'Dresses' matches 'Dresses', "
        "'Dresses > Maxi' and 'General > Dresses'; 'Dress' matches none of them."))
    product_ids: list[str] | None = Field(default=None, max_length=1000)
    min_rating: float | None = Field(default=None, ge=1, le=5)
    max_rating: float | None = Field(default=None, ge=1, le=5)

    @model_validator(mode="after")
    def _rating_range(self) -> SearchRequest:
        if self.min_rating is not None and self.max_rating is not None and self.min_rating > self.max_rating:
            raise ValueError(f"min_rating {self.min_rating:g} is above max_rating {self.max_rating:g}: swap them.")
        return self


class HitOut(_Open):
    chunk_id: str
    kind: Literal["product", "review"]
    text: str
    score: float
    product_id: str
    cite_id: str
    review_id: str | None = None
    rating: float | None = None
    date: str | None = None
    category: str | None = None
    title: str | None = None


class SearchResponse(BaseModel):
    hits: list[HitOut]


# ---------------------------------------------------------------------------- reviews
class ReviewSummaryRequest(_Request):
    product_id: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=300)
    words: int = Field(default=120, ge=20, le=400, description="Word budget of the prose (kept by code).")


class AspectStat(_Open):
    aspect: str = Field(description="fit, size, fabric, quality, price, ...")
    n_reviews: int = Field(description="Reviews that mention the aspect.")
    share: float = Field(description="n_reviews / all reviews in scope (0-1).")
    positive: int
    negative: int
    neutral: int
    positive_review_ids: list[str] = Field(default_factory=list)
    negative_review_ids: list[str] = Field(default_factory=list)


class ProCon(_Open):
    aspect: str
    count: int = Field(description="Reviews praising (pros) or criticising (cons) the aspect.")
    share: float = Field(description="count / all reviews in scope (0-1).")
    text: str
    review_ids: list[str] = Field(description="Reviews that back the point.")


class ReviewSummaryResponse(_Open):
    """Summary from the grounded generator (pros/cons with cited review ids) plus aspect stats computed over
    every review in scope."""

    subject: str
    summary: str = Field(description="The summary; every claim cites review ids in brackets, e.g. [W12].")
    n_reviews: int
    rating_mean: float | None = None
    aspects: list[AspectStat] = Field(default_factory=list)
    pros: list[ProCon] = Field(default_factory=list)
    cons: list[ProCon] = Field(default_factory=list)


# ---------------------------------------------------------------------------- copy
class ProductIn(_Request):
    product_id: str = Field(default="draft", min_length=1, max_length=200, description=(
        "Your id for the product; in a batch, products sent without one are numbered item-1, item-2, ..."))
    title: Annotated[str, AfterValidator(_not_blank)] = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=5000)
    category: str = Field(default="", max_length=300)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=100)
    price: float | None = Field(default=None, ge=0, le=1e9)
    launch_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description=(
        "Planned launch date, YYYY-MM-DD (new-product forecasts; default: the week after the store's sales)."))


class CopyOptions(_Request):
    tone: Tone = "friendly"
    length: int = Field(default=80, ge=10, le=400, description="Target length in words.")
    lang: str = Field(default="English", min_length=2, max_length=40, pattern=r"^[A-Za-z][A-Za-z \-]+$",
                      description="Language to write in, e.g. English, French.")
    variants: int = Field(default=1, ge=1, le=5)


class CopyRequest(CopyOptions):
    product: ProductIn | None = Field(default=None, description="A draft product's attributes...")
    product_id: str | None = Field(default=None, min_length=1, max_length=200,
                                   description="...or the id of a catalog product.")


class CopyVariant(_Open):
    title: str
    description: str
    bullets: list[str] = Field(default_factory=list)
    seo_keywords: list[str] = Field(default_factory=list)
    tone: str | None = None
    flags: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Claims the spec guard found in no attribute: {type, claim, reason}; the variant needs review."))
    regenerated: bool = Field(default=False, description="The first draft had flags and was written again.")
    needs_review: bool = Field(default=False, description=(
        "Flags remain after the rewrite, catalog text was withheld, or the copy is not in English (the guard's "
        "claim words are English)."))
    removed: list[str] = Field(default_factory=list, description=(
        "What was taken out of the draft: lines about buyers (a new product has none), then bullets and sentences "
        "with claims still unsupported after the rewrite, each with its claim."))
    length: dict[str, Any] = Field(default_factory=dict, description="{words, target, min, max, ok}.")


class CopyResponse(_Open):
    """Copy variants with the spec guard's flags (claims not backed by the attributes), the similar products
    used as context and what their buyers praise or complain about."""

    variants: list[CopyVariant]
    similar: list[dict[str, Any]] = Field(default_factory=list, description="{product_id, title, score}.")
    praise: list[str] = Field(default_factory=list)
    complaints: list[str] = Field(default_factory=list)
    withheld: list[str] = Field(default_factory=list, description=(
        "Catalog text that reads as an instruction and was left out of the prompt."))
    guard_note: str | None = Field(default=None, description="Set when the spec guard cannot check the language.")


class BatchRequest(CopyOptions):
    products: list[ProductIn] = Field(min_length=1, max_length=1000)
    concurrency: int = Field(default=1, ge=1, le=16, description="Parallel requests to the model.")


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "cancelling", "done", "cancelled", "failed"] = Field(
        description="cancelling: a cancel was asked for; the product being written finishes first.")
    error: str | None = None
    total: int
    done: int
    flagged: int
    failed: int
    skipped: int
    cancelled: int = Field(default=0, description="Products a cancelled job never started.")
    elapsed_s: float = Field(description="Seconds from start to end (to now while the job runs).")


class JobResults(BaseModel):
    job: JobOut
    items: list[dict[str, Any]] = Field(description="One record per product: status ok|flagged|failed|cancelled.")


# ---------------------------------------------------------------------------- forecast
class DemandRequest(_Request):
    unique_ids: list[str] = Field(min_length=1, max_length=100, description="Series ids (usually product ids).")
    h: int = Field(default=12, ge=1, le=104, description="Horizon in periods of the series' frequency.")
    level: list[Annotated[int, Field(ge=50, le=99)]] = Field(default_factory=lambda: [80, 95], min_length=1, max_length=4)
    models: list[str] | None = Field(default=None, max_length=10)


class NewProductRequest(_Request):
    product: ProductIn
    horizon: int = Field(default=12, ge=1, le=52)


class DemandSeries(_Open):
    """One series' forecast; per level L also ``lo_L`` / ``hi_L`` (lists, one per period) and ``total_lo_L`` /
    ``total_hi_L`` (the interval of the horizon's total)."""

    unique_id: str
    model: str | None = Field(description="The model chosen for the series by cross-validation.")
    cv_score: float | None = Field(description="Its cross-validated error (see the response's metric).")
    pattern: str | None = Field(default=None, description="smooth, intermittent, ... (demand classification).")
    ds: list[str] = Field(description="Period start dates, YYYY-MM-DD.")
    yhat: list[float | None] = Field(description="Point forecast per period.")
    total: float | None = Field(description="Sum of yhat over the horizon.")


class DemandResponse(_Open):
    freq: str = Field(description="The series' frequency, e.g. W-MON.")
    h: int
    levels: list[int]
    n_series: int
    metric: str = Field(description="Cross-validation metric, e.g. mase.")
    mean_cv_score: float | None = None
    models_used: dict[str, int] = Field(description="Model -> number of series it was chosen for.")
    series: list[DemandSeries] = Field(description="Every requested series, in the request's order.")
    truncated: bool = False
    notes: list[str] = Field(default_factory=list)
    plot_png: str | None = Field(default=None, description="Base64 PNG, when a plot was asked for.")


class NewProductResponse(_Open):
    """The first weeks of sales of a product with no history, learned from similar past launches."""

    weeks: list[int] = Field(description="Weeks after launch, from 1.")
    yhat: list[float]
    lo: list[float] = Field(description="Lower bound per week, at the given level.")
    hi: list[float]
    total: float
    total_lo: float
    total_hi: float
    level: int = Field(description="Coverage of the intervals in percent.")
    analogues: list[dict[str, Any]] = Field(description="Most similar past launches: {product_id, similarity, weight}.")
    model: str
    launch_date: str | None = None
    past_launches: int | None = Field(default=None, description="Past launches the curves were learned from.")
    notes: list[str] = Field(default_factory=list, description="Caveats: weak analogues, a launch date outside "
                             "the history.")


# ---------------------------------------------------------------------------- launch analytics
class SentimentRequest(_Request):
    texts: list[Annotated[str, Field(min_length=1, max_length=5000)]] = Field(
        min_length=1, max_length=500, description="Review texts to classify.")


class SentimentResponse(_Open):
    source: str = Field(description="Which model labelled the texts (trained model or lexicon fallback).")
    predictions: list[dict[str, Any]] = Field(
        description="Per text: label (negative/neutral/positive), rating (1-5 estimate), probabilities.")


class AudienceRequest(_Request):
    product: str = Field(min_length=1, max_length=500,
                         description="A catalog product id, or a description of a new product.")
    k: int = Field(default=20, ge=1, le=1000, description="How many customers.")


class AudienceResponse(_Open):
    mode: str = Field(description="Collaborative filtering (existing product) or cold start (new product).")
    customers: list[dict[str, Any]] = Field(description="customer_id and score, best first.")
    segment: dict[str, Any] = Field(description="What these customers have in common.")


class PlanProductIn(_Request):
    product_id: str = Field(min_length=1, max_length=200)
    title: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=5000)
    category: str = Field(default="", max_length=300)
    price: float = Field(ge=0, le=1e9)
    unit_cost: float | None = Field(default=None, ge=0, le=1e9, description="Default: price x cost_share.")
    attributes: dict[str, str] = Field(default_factory=dict, max_length=100)
    launch_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class CandidateIn(_Request):
    product_id: str = Field(min_length=1, max_length=200)
    forecast_mean: float = Field(ge=0, le=1e12, description="Units expected over the planning horizon.")
    forecast_low: float | None = Field(default=None, ge=0, le=1e12, description="Lower forecast bound (default: mean).")
    unit_cost: float = Field(ge=0, le=1e9)
    price: float = Field(ge=0, le=1e9)
    category: str = Field(default="", max_length=300)
    title: str = Field(default="", max_length=500)
    fixed_cost: float = Field(default=0.0, ge=0, le=1e12)
    order_qty: float | None = Field(default=None, ge=0, le=1e12, description="Units bought up front (default: mean).")


class PlanRequest(_Request):
    budget: float = Field(ge=0, le=1e12, description="Budget for launch stock (+ fixed costs).")
    products: list[str | PlanProductIn] | None = Field(
        default=None, min_length=1, max_length=2000,
        description="Catalog ids and/or draft products, forecast by the assistant (sales history or similar "
                    "past launches)...")
    candidates: list[CandidateIn] | None = Field(
        default=None, min_length=1, max_length=5000, description="...or candidates with their own forecasts.")
    horizon: int = Field(default=12, ge=1, le=52, description="Weeks the launch stock should cover.")
    max_per_category: int | None = Field(default=None, ge=1)
    shelf_slots: int | None = Field(default=None, ge=1, description="At most this many launches in total.")
    risk: float = Field(default=0.5, ge=0, le=1, description="0 plans on the mean forecast, 1 on the lower bound.")
    cost_share: float = Field(default=0.5, ge=0.01, le=0.99,
                              description="Unit cost as a share of price where a product has no unit_cost.")
    plot: bool = Field(default=False, description="Add a PNG margin chart (base64) as plot_png.")


class PlanResponse(_Open):
    status: str
    expected_margin: float
    budget_used: float
    n_candidates: int
    n_selected: int
    selected: list[dict[str, Any]] = Field(description="Products to launch, each with margin, cost and reason.")
    excluded: list[dict[str, Any]] = Field(description="Products to skip, each with the reason.")
    constraints: dict[str, Any]


# ---------------------------------------------------------------------------- status
class HealthResponse(_Open):
    status: Literal["ok", "degraded"]


class ModelsResponse(BaseModel):
    models: list[dict[str, Any]]
    configured: dict[str, str]
