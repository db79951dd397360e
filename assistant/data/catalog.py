"""The catalog store: products, reviews, sales (and demo transactions) in one SQLite file.

``{settings.store_path}/catalog.sqlite``. Upserts replace rows by id inside one transaction, so a
failed write leaves the store as it was. Frames going in are validated (``validate_frame``); frames
coming out have the canonical columns of ``assistant.data.schema`` (attributes as dicts, dates as
Timestamps).
"""

from __future__ import annotations

import difflib
import json
import math
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assistant.data.dates import parse_dates
from assistant.data.schema import PRODUCT_COLUMNS, REVIEW_COLUMNS, SALES_COLUMNS
from assistant.data.validate import LoadResult, as_text, parse_numbers, validate_frame_checked
from assistant.errors import AssistantError, DataValidationError

if TYPE_CHECKING:
    from assistant.config import Settings

TRANSACTION_COLUMNS: tuple[str, ...] = ("customer_id", "product_id", "ts", "quantity")
_CHUNK = 500  # ids per IN (...) query, below SQLite's variable limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    product_id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '', attributes TEXT NOT NULL DEFAULT '{}', price REAL, launch_date TEXT);
CREATE INDEX IF NOT EXISTS products_category ON products(category);
CREATE TABLE IF NOT EXISTS reviews (
    review_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, rating REAL, title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL, date TEXT);
CREATE INDEX IF NOT EXISTS reviews_product ON reviews(product_id);
CREATE TABLE IF NOT EXISTS sales (
    unique_id TEXT NOT NULL, ds TEXT NOT NULL, y REAL NOT NULL, exog TEXT, PRIMARY KEY (unique_id, ds));
CREATE TABLE IF NOT EXISTS transactions (
    customer_id TEXT NOT NULL, product_id TEXT NOT NULL, ts TEXT NOT NULL, quantity REAL NOT NULL,
    PRIMARY KEY (customer_id, product_id, ts));
CREATE INDEX IF NOT EXISTS transactions_product ON transactions(product_id);
"""


def _iso(s: pd.Series) -> list[str | None]:
    """Datetime column -> ISO strings (None for NaT), vectorised."""
    values = pd.to_datetime(s).to_numpy(dtype="datetime64[s]")
    return [None if v == "NaT" else v for v in np.datetime_as_string(values, unit="s").tolist()]


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i: i + _CHUNK])


def _dates_out(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="ISO8601").astype("datetime64[ns]")


class Catalog:
    """SQLite-backed store of the merchant's catalog. Safe to share between threads (one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        with self._conn:
            self._conn.executescript(_SCHEMA)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Catalog:
        """The catalog of the configured store: ``{settings.store_path}/catalog.sqlite``."""
        if settings is None:
            from assistant.config import get_settings

            settings = get_settings()
        return cls(settings.store_path / "catalog.sqlite")

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({str(self.path)!r})"

    def _write(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> int:
        with self._lock, self._conn:  # one transaction: all rows or none
            cur = self._conn.executemany(sql, rows)
            return max(cur.rowcount, 0)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _select(self, base: str, key: str, ids: list[str] | None, extra: str = "",
                params: Sequence[Any] = (), order: str = "") -> list[tuple[Any, ...]]:
        if ids is None:
            where = f" WHERE {extra}" if extra else ""
            return self._query(f"{base}{where}{order}", params)
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks([str(i) for i in ids]):
            cond = f"{key} IN ({','.join('?' * len(chunk))})" + (f" AND {extra}" if extra else "")
            rows.extend(self._query(f"{base} WHERE {cond}{order}", [*chunk, *params]))
        return rows

    # -- writes ---------------------------------------------------------------------------------
    def upsert(self, kind: str, loaded: LoadResult) -> int:
        """Write a loaded file (``load_table``) of ``kind`` products, reviews or sales; returns rows written."""
        if kind == "products":
            return self.upsert_products(loaded.frame, loaded.columns)
        if kind == "reviews":
            return self.upsert_reviews(loaded.frame, loaded.columns)
        return self.upsert_sales(loaded.frame)

    def upsert_products(self, df: pd.DataFrame, columns: Collection[str] | None = None) -> int:
        """Insert or update products by ``product_id``; returns the number of rows written. ``columns``: the
        columns the input really had (``LoadResult.columns``): a stored product keeps the others, so a file of
        ``product_id,title,price`` changes prices without erasing descriptions or categories; a blank cell keeps
        the stored value too."""
        frame = validate_frame_checked(df, "products")
        rows = [(r.product_id, r.title, r.description, r.category,
                 json.dumps(r.attributes, ensure_ascii=False, sort_keys=True), _num(r.price), d)
                for r, d in zip(frame.itertuples(index=False), _iso(frame["launch_date"]), strict=True)]
        return self._write("INSERT INTO products VALUES (?,?,?,?,?,?,?) ON CONFLICT(product_id) DO UPDATE SET " +
                           _updates(PRODUCT_FIELDS, columns), rows)

    def upsert_reviews(self, df: pd.DataFrame, columns: Collection[str] | None = None) -> int:
        """Insert or update reviews by ``review_id`` (``columns`` as in :meth:`upsert_products`)."""
        frame = validate_frame_checked(df, "reviews")
        rows = [(r.review_id, r.product_id, _num(r.rating), r.title, r.text, d)
                for r, d in zip(frame.itertuples(index=False), _iso(frame["date"]), strict=True)]
        return self._write("INSERT INTO reviews VALUES (?,?,?,?,?,?) ON CONFLICT(review_id) DO UPDATE SET " +
                           _updates(REVIEW_FIELDS, columns), rows)

    def upsert_sales(self, df: pd.DataFrame) -> int:
        """Insert or replace sales rows by ``(unique_id, ds)``; extra numeric columns are kept as exogenous."""
        frame = validate_frame_checked(df, "sales")
        exog = [c for c in frame.columns if c not in SALES_COLUMNS]
        ds = _iso(frame["ds"])
        ex: list[str | None] = [None] * len(frame)
        if exog:
            vals = frame[exog].astype(object).where(frame[exog].notna(), None).to_dict("records")
            ex = [json.dumps(v) for v in vals]
        rows = zip(frame["unique_id"], ds, frame["y"].astype(float), ex, strict=True)
        return self._write(
            "INSERT INTO sales VALUES (?,?,?,?) ON CONFLICT(unique_id, ds) DO UPDATE SET "
            "y=excluded.y, exog=excluded.exog", rows)

    def upsert_transactions(self, df: pd.DataFrame) -> int:
        """Insert or replace (customer_id, product_id, ts) purchase lines with their quantity."""
        missing = [c for c in TRANSACTION_COLUMNS if c not in df.columns]
        if missing:
            raise DataValidationError(f"transactions need columns {', '.join(TRANSACTION_COLUMNS)}; "
                                      f"missing {', '.join(missing)}.")
        ts, bad_ts = parse_dates(df["ts"])
        qty, bad_q = parse_numbers(df["quantity"])
        cust, prod = as_text(df["customer_id"]), as_text(df["product_id"])
        bad = bad_ts | ts.isna() | bad_q | qty.isna() | cust.eq("") | prod.eq("")
        if bad.any():
            raise DataValidationError(f"{int(bad.sum())} transaction rows lack a customer_id, product_id, "
                                      "a ts date or a numeric quantity (first at row "
                                      f"{int(bad.to_numpy().argmax()) + 1}).")
        rows = zip(cust, prod, _iso(ts), qty.astype(float), strict=True)
        return self._write(
            "INSERT INTO transactions VALUES (?,?,?,?) ON CONFLICT(customer_id, product_id, ts) DO UPDATE "
            "SET quantity=excluded.quantity", rows)

    def delete_products(self, ids: list[str]) -> int:
        """Delete products and their reviews (sales history is kept); returns products deleted."""
        n = 0
        with self._lock, self._conn:
            for chunk in _chunks([str(i) for i in ids]):
                marks = ",".join("?" * len(chunk))
                self._conn.execute(f"DELETE FROM reviews WHERE product_id IN ({marks})", chunk)
                n += self._conn.execute(f"DELETE FROM products WHERE product_id IN ({marks})", chunk).rowcount
        return n

    def delete_reviews(self, ids: list[str]) -> int:
        """Delete reviews by id; returns the number deleted."""
        n = 0
        with self._lock, self._conn:
            for chunk in _chunks([str(i) for i in ids]):
                marks = ",".join("?" * len(chunk))
                n += self._conn.execute(f"DELETE FROM reviews WHERE review_id IN ({marks})", chunk).rowcount
        return n

    # -- reads ----------------------------------------------------------------------------------
    def products(self, product_ids: list[str] | None = None, category: str | None = None) -> pd.DataFrame:
        """Products (all, by id, and/or in ``category``: exact match or any sub-category, case-insensitive)."""
        extra, params = "", []
        if category:
            extra = "(lower(category) = lower(?) OR lower(category) LIKE lower(?) ESCAPE '\\')"
            esc = category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params = [category, esc + " > %"]
        rows = self._select("SELECT * FROM products", "product_id", product_ids, extra, params,
                            " ORDER BY rowid")
        df = pd.DataFrame(rows, columns=list(PRODUCT_COLUMNS))
        df["attributes"] = [json.loads(a) for a in df["attributes"]]
        df["price"] = df["price"].astype(float)
        df["launch_date"] = _dates_out(df["launch_date"])
        return df

    def reviews(self, product_ids: list[str] | None = None) -> pd.DataFrame:
        """Reviews (all, or of the given products), in the order they were first stored."""
        rows = self._select("SELECT * FROM reviews", "product_id", product_ids, order=" ORDER BY rowid")
        df = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))
        df["rating"] = df["rating"].astype(float)
        df["date"] = _dates_out(df["date"])
        return df

    def sales(self, unique_ids: list[str] | None = None) -> pd.DataFrame:
        """Sales in long format (unique_id, ds, y, + exogenous columns), sorted by unique_id and ds."""
        rows = self._select("SELECT unique_id, ds, y, exog FROM sales", "unique_id", unique_ids,
                            order=" ORDER BY unique_id, ds")
        df = pd.DataFrame(rows, columns=["unique_id", "ds", "y", "exog"])
        df["ds"] = _dates_out(df["ds"])
        df["y"] = df["y"].astype(float)
        if df["exog"].notna().any():
            ex = pd.DataFrame([json.loads(e) if e else {} for e in df["exog"]], index=df.index)
            df = pd.concat([df.drop(columns="exog"), ex.astype(float)], axis=1)
        else:
            df = df.drop(columns="exog")
        if unique_ids is not None:
            df = df.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        return df

    def transactions(self, product_ids: list[str] | None = None,
                     customer_ids: list[str] | None = None) -> pd.DataFrame:
        """Purchase lines (customer_id, product_id, ts, quantity), optionally filtered."""
        if customer_ids is not None:
            rows = self._select("SELECT * FROM transactions", "customer_id", customer_ids, order=" ORDER BY ts")
            df = pd.DataFrame(rows, columns=list(TRANSACTION_COLUMNS))
            if product_ids is not None:
                df = df[df["product_id"].isin([str(p) for p in product_ids])]
        else:
            rows = self._select("SELECT * FROM transactions", "product_id", product_ids, order=" ORDER BY ts")
            df = pd.DataFrame(rows, columns=list(TRANSACTION_COLUMNS))
        df["ts"] = _dates_out(df["ts"])
        df["quantity"] = df["quantity"].astype(float)
        return df.reset_index(drop=True)

    def product_ids(self) -> list[str]:
        return [r[0] for r in self._query("SELECT product_id FROM products ORDER BY rowid")]

    def unknown_product_ids(self, ids: Iterable[str]) -> list[str]:
        """The ``ids`` (each once, in order) that name no product in the catalog (ids are matched exactly)."""
        known = set(self.product_ids())
        return [i for i in dict.fromkeys(map(str, ids)) if i not in known]

    def resolve_product_id(self, product_id: str) -> tuple[str | None, list[str]]:
        """``(the catalog's id, [])`` for ``product_id`` typed exactly, in another case, or without its 1-2
        letter source prefix when only one id matches ("1078" -> "C1078"); else ``(None, up to 3 close ids)``."""
        pid = str(product_id).strip()
        if self._query("SELECT 1 FROM products WHERE product_id = ?", [pid]):
            return pid, []
        return match_product_id(pid, self.product_ids())

    def categories(self) -> dict[str, int]:
        """Category -> number of products."""
        return dict(self._query("SELECT category, COUNT(*) FROM products GROUP BY category ORDER BY category"))

    def counts(self) -> dict[str, int]:
        """Rows per table: {"products", "reviews", "sales", "transactions"}."""
        out = {}
        for table in ("products", "reviews", "sales", "transactions"):
            out[table] = int(self._query(f"SELECT COUNT(*) FROM {table}")[0][0])
        return out

    def is_empty(self) -> bool:
        c = self.counts()
        return c["products"] == 0 and c["reviews"] == 0 and c["sales"] == 0


PRODUCT_FIELDS = ("title", "description", "category", "attributes", "price", "launch_date")
REVIEW_FIELDS = ("product_id", "rating", "title", "text", "date")


def _updates(fields: Sequence[str], columns: Collection[str] | None) -> str:
    """The SET clause of an upsert: every field, or only those in ``columns`` (required ones always are); a
    blank cell (empty text, no number, no attributes) keeps the stored value: re-loading an export whose
    price column is empty for some products must not erase their prices."""
    chosen = [f for f in fields if columns is None or f in columns]
    blank = {"attributes": "'{}'"}
    return ", ".join(f"{f}=COALESCE(NULLIF(excluded.{f}, {blank.get(f, chr(39) * 2)}), {f})" for f in chosen)


def match_product_id(product_id: str, ids: list[str]) -> tuple[str | None, list[str]]:
    """Catalog.resolve_product_id over a list of ``ids`` (e.g. a products frame already loaded)."""
    pid = str(product_id).strip()
    if pid in ids:
        return pid, []
    same = [i for i in ids if i.upper() == pid.upper()][:1] or _prefixed(pid, ids)
    if len(same) == 1:
        return same[0], []
    return None, same[:3] or difflib.get_close_matches(pid, ids, n=3, cutoff=0.5)


PEOPLE_ID_HINT = ("Find product ids by searching the catalog (`assistant search QUERY --kind product`, POST "
                  "/v1/search, or the workspace); ids look like 'C1078' (clothing) or 'R85123A' (gift shop).")


def catalog_product_id(catalog: Catalog, product_id: str, *, error: type[AssistantError] = AssistantError,
                       hint: str = PEOPLE_ID_HINT) -> str:
    """The catalog's id for what the user typed (Catalog.resolve_product_id), or ``error`` naming close ids."""
    pid, close = catalog.resolve_product_id(product_id)
    if pid is None:
        near = f" Close ids: {', '.join(close)}." if close else ""
        raise error(f"Unknown product id {product_id!r}.{near} {hint}")
    return pid


def _prefixed(pid: str, ids: list[str]) -> list[str]:
    """The ids that are ``pid`` behind a letter prefix of 1-2 characters ("1078" -> "C1078": people and models
    drop the catalog's source prefix); only for ``pid`` of 3+ characters with a digit, so "7" matches nothing."""
    key = pid.upper()
    if len(key) < 3 or not any(ch.isdigit() for ch in key) or not key[0].isalnum():
        return []
    return [i for i in ids if i.upper().endswith(key) and 1 <= len(i) - len(key) <= 2
            and i[:len(i) - len(key)].isalpha()]
