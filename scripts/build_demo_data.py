"""Build the bundled demo store (assistant/demo/data/*) from the raw public data sets.

    .venv/bin/python scripts/build_demo_data.py [--data ../shared/data] [--out assistant/demo/data]

Uses ONLY data whose licence permits redistribution:
- Women's E-Commerce Clothing Reviews (Kaggle, nicapotato; CC0) -> clothing products + reviews.
- Online Retail (UCI, Chen 2015; CC BY 4.0) -> gift products, weekly unit sales, transactions.
The output is deterministic (sorted rows, gzip mtime 0). See ATTRIBUTION.md (written by this script).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
CLOTHING_FILE = "womens_clothing_reviews/Womens_Clothing_E-Commerce_Reviews.csv"
RETAIL_FILE = "online_retail/online_retail.csv.gz"
N_CLOTHING = 48  # products, chosen round-robin over classes by review count
N_RETAIL_ESTABLISHED = 220
N_RETAIL_NEW = 30  # first sold 2011-06-01 .. 2011-10-14 (>= 8 weeks observed after launch)
MIN_PER_CATEGORY = 12
MAX_PER_CATEGORY = 40
MAX_NEW_PER_CATEGORY = 8
NEW_FROM, NEW_TO = pd.Timestamp("2011-06-01"), pd.Timestamp("2011-10-14")
GZ = {"method": "gzip", "mtime": 0, "compresslevel": 9}

# Ordered keyword rules on the upper-case product name: the first matching rule gives the category.
CATEGORY_RULES: list[tuple[str, str]] = [
    ("Christmas", r"CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|NATIVITY|BAUBLE|SNOWMAN"),
    ("Candles & Lights", r"CANDLE|T-LIGHT|TLIGHT|TEA ?LIGHT|LANTERN|\bLAMP|\bLIGHTS\b|NIGHT ?LIGHT|LIGHT HOLDER"),
    ("Kitchen", r"\bMUGS?\b|\bCUPS?\b|TEACUP|SAUCER|PLATE|BOWL|\bJARS?\b|CAKE|BAKING|LUNCH BOX|NAPKIN|"
                r"TEA TOWEL|APRON|SPOON|CUTLERY|\bTRAY\b|\bJUG\b|TEAPOT|COASTER|RECIPE|\bEGG|PANTRY|SCALES|"
                r"CHOPPING|STRAWS|BEAKER|OVEN GLOVE|JELLY MOULD|\bTINS?\b|BISCUIT|\bMILK\b|\bTEA\b|COFFEE|"
                r"SUGAR|COCKTAIL|PANNETONE|DOILIES|PETIT FOUR"),
    ("Toys", r"PLAYING CARDS|SNAP CARDS|CARD GAME|MARBLES"),
    ("Cards & Wrap", r"\bCARDS?\b|\bWRAP|GIFT TAG|TISSUE|RIBBON|ENVELOPE|STICKER|PARTY BAG|GIFT BAG|"
                     r"NOTEBOOK|PENCIL|\bPENS?\b|STATIONERY|BUNTING"),
    ("Bags", r"\bBAGS?\b|SHOPPER|\bTOTE\b|PURSE|RUCKSACK|BACKPACK"),
    ("Toys", r"\bTOYS?\b|\bGAMES?\b|\bDOLLY?\b|PUZZLE|JIGSAW|SKITTLES|DOMINOES|PLAYING CARDS|SNAP CARDS|"
             r"SOLDIER|SPINNING TOP|TEDDY|PLAYHOUSE|\bKIT\b|CRAYONS|COLOURING|PAINT SET|BALLOONS?|ROCKING HORSE"),
    ("Home Decor", r"WALL ART"),
    ("Garden", r"GARDEN|\bPLANT|FLOWER POT|HERB POT|WATERING|\bBIRD|SEED|HERB MARKER|OUTDOOR|PARASOL"),
    ("Home Decor", r"HEART|\bSIGN\b|FRAME|CLOCK|CUSHION|DOORMAT|MIRROR|VASE|HANGER|\bHOOKS?\b|WALL|"
                   r"DECORATION|ORNAMENT|GARLAND|WREATH|DOORSTOP|DRAWER|CABINET|HOT WATER BOTTLE|THROW|"
                   r"BLANKET|STORAGE|BASKET|\bBOX\b|SHELF|PLAQUE|BELL|CHIME|HOLDER|TRINKET"),
]
_RULES = [(cat, re.compile(rx)) for cat, rx in CATEGORY_RULES]


def category_of(name: str) -> str:
    """Category of an Online Retail product from its name (first matching rule, else 'Gifts')."""
    upper = name.upper()
    for cat, rx in _RULES:
        if rx.search(upper):
            return cat
    return "Gifts"


def title_case(name: str) -> str:
    """'WHITE HANGING HEART T-LIGHT HOLDER' -> 'White Hanging Heart T-Light Holder' (keeps "'s")."""
    return re.sub(r"[A-Za-z]+('[A-Za-z]+)?", lambda m: m.group(0).capitalize(), " ".join(name.lower().split()))


# ------------------------------------------------------------------------------------------------
# clothing


def build_clothing(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(path, index_col=0, dtype={"Title": str, "Review Text": str})
    raw = raw[raw["Review Text"].fillna("").str.strip() != ""]
    raw = raw.assign(**{"Division Name": raw["Division Name"].replace({"Initmates": "Intimates"})})
    counts = (raw.groupby(["Class Name", "Clothing ID"]).size().rename("n").reset_index()
              .sort_values(["n", "Clothing ID"], ascending=[False, True]))
    counts = counts[counts["n"] >= 20]
    per_class = {c: list(g["Clothing ID"]) for c, g in counts.groupby("Class Name", sort=False)}
    order = sorted(per_class, key=lambda c: (-counts[counts["Class Name"] == c]["n"].max(), c))
    chosen: list[int] = []
    rank = 0
    while len(chosen) < N_CLOTHING and any(rank < len(v) for v in per_class.values()):
        for cls in order:
            if rank < len(per_class[cls]) and len(chosen) < N_CLOTHING:
                chosen.append(int(per_class[cls][rank]))
        rank += 1
    sub = raw[raw["Clothing ID"].isin(chosen)]
    rows = []
    for cid in chosen:
        g = sub[sub["Clothing ID"] == cid]
        div, dep, cls = (str(g[c].mode().iloc[0]) for c in ("Division Name", "Department Name", "Class Name"))
        rows.append({
            "product_id": f"C{cid}", "title": f"{cls} #{cid}",
            "description": f"{cls} from the {dep} department ({div} division) of an online women's clothing store.",
            "category": f"{div} > {dep} > {cls}",
            "attributes": json.dumps({"division": div, "department": dep, "class": cls}),
            "price": "", "launch_date": "",  # unknown: the data set has neither
        })
    products = pd.DataFrame(rows)
    reviews = pd.DataFrame({
        "review_id": [f"W{i}" for i in sub.index], "product_id": [f"C{c}" for c in sub["Clothing ID"]],
        "rating": sub["Rating"].astype(int).to_numpy(), "title": sub["Title"].fillna("").str.strip().to_numpy(),
        "text": sub["Review Text"].str.strip().to_numpy(), "date": "",
    })
    return products, reviews


# ------------------------------------------------------------------------------------------------
# online retail


def clean_retail(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"InvoiceNo": "str", "StockCode": "str", "CustomerID": "Int64"},
                     parse_dates=["InvoiceDate"])
    ok = ((df["Quantity"] > 0) & (df["UnitPrice"] > 0) & df["StockCode"].str.match(r"^\d{5}")
          & ~df["InvoiceNo"].str.startswith(("C", "A")))
    df = df[ok].copy()
    df["StockCode"] = df["StockCode"].str.upper()
    df["week"] = df["InvoiceDate"].dt.to_period("W-SUN").dt.start_time  # Monday
    return df


def _names(df: pd.DataFrame) -> pd.Series:
    desc = df[df["Description"].fillna("").str.strip() != ""]
    return (desc.assign(Description=desc["Description"].str.strip())
            .groupby(["StockCode", "Description"]).size().rename("n").reset_index()
            .sort_values(["StockCode", "n", "Description"], ascending=[True, False, True])
            .drop_duplicates("StockCode").set_index("StockCode")["Description"])


def select_retail(df: pd.DataFrame) -> pd.DataFrame:
    names = _names(df)
    stats = df.groupby("StockCode").agg(first=("InvoiceDate", "min"), last=("InvoiceDate", "max"),
                                        weeks=("week", "nunique"), units=("Quantity", "sum"),
                                        price=("UnitPrice", "median"))
    stats = stats[stats.index.isin(names.index)]
    stats["name"] = names.reindex(stats.index)
    stats["category"] = stats["name"].map(category_of)
    stats = stats.sort_values(["weeks", "units", "StockCode"], ascending=[False, False, True]).reset_index()
    # established: every category's top MIN_PER_CATEGORY, then the best sellers up to MAX_PER_CATEGORY each
    old = stats[stats["first"] < NEW_FROM]
    base = old.groupby("category", sort=False).head(MIN_PER_CATEGORY)
    rest = old.drop(base.index).groupby("category", sort=False).head(MAX_PER_CATEGORY - MIN_PER_CATEGORY)
    old = pd.concat([base, rest.head(max(N_RETAIL_ESTABLISHED - len(base), 0))])
    # new: first sold 2011-06-01 .. 2011-10-14, >= 8 weeks with sales; the top sellers of each launch month
    first8 = df.merge(stats[["StockCode", "first"]], on="StockCode")
    first8 = first8[first8["InvoiceDate"] < first8["first"] + pd.Timedelta(weeks=8)]
    units8 = first8.groupby("StockCode")["Quantity"].sum().rename("units8")
    new = stats[(stats["first"] >= NEW_FROM) & (stats["first"] <= NEW_TO) & (stats["weeks"] >= 8)]
    new = new.merge(units8, left_on="StockCode", right_index=True)
    new = new.sort_values(["units8", "StockCode"], ascending=[False, True])
    new = new.groupby("category", sort=False).head(MAX_NEW_PER_CATEGORY)
    new = new.groupby(new["first"].dt.month, sort=False).head(N_RETAIL_NEW // 5)
    return pd.concat([old, new.drop(columns="units8")]).sort_values("StockCode").reset_index(drop=True)


def build_retail(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    df = clean_retail(path)
    chosen = select_retail(df)
    products = pd.DataFrame({
        "product_id": "R" + chosen["StockCode"],
        "title": chosen["name"].map(title_case),
        "description": [f"{title_case(n)} (stock code {c}) from the catalogue of a UK-based online gift retailer."
                        for n, c in zip(chosen["name"], chosen["StockCode"], strict=True)],
        "category": chosen["category"],
        "attributes": [json.dumps({"stock_code": c}) for c in chosen["StockCode"]],
        "price": chosen["price"].round(2),
        "launch_date": chosen["first"].dt.strftime("%Y-%m-%d"),
    })
    sub = df[df["StockCode"].isin(chosen["StockCode"])]
    weekly = sub.groupby(["StockCode", "week"])["Quantity"].sum()
    series = []
    for code, g in weekly.groupby(level=0):
        g = g.droplevel(0)
        idx = pd.date_range(g.index.min(), g.index.max(), freq="W-MON")
        series.append(pd.DataFrame({"unique_id": f"R{code}", "ds": idx, "y": g.reindex(idx, fill_value=0).to_numpy()}))
    sales = pd.concat(series, ignore_index=True)
    sales["ds"] = sales["ds"].dt.strftime("%Y-%m-%d")
    tx = sub[sub["CustomerID"].notna()]
    tx = (tx.groupby(["CustomerID", "StockCode", "InvoiceDate"])["Quantity"].sum().reset_index()
          .sort_values(["InvoiceDate", "CustomerID", "StockCode"]))
    transactions = pd.DataFrame({
        "customer_id": tx["CustomerID"].astype(int).astype(str).to_numpy(),
        "product_id": ("R" + tx["StockCode"]).to_numpy(),
        "ts": tx["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
        "quantity": tx["Quantity"].astype(int).to_numpy(),
    })
    return products, sales, transactions


def attribution(out: dict[str, pd.DataFrame]) -> str:
    products, reviews, sales, tx = out["products"], out["reviews"], out["sales"], out["transactions"]
    n_c = int(products["product_id"].str.startswith("C").sum())
    n_r = int(products["product_id"].str.startswith("R").sum())
    n_new = int((products["launch_date"].astype(str) >= "2011-06-01").sum())
    rules = "\n".join(f"| {i} | {cat} | `{rx}` |" for i, (cat, rx) in enumerate(CATEGORY_RULES, 1))
    return f"""# Demo store: sources, licences, changes

Built by `scripts/build_demo_data.py` from the raw files; rebuild with
`.venv/bin/python scripts/build_demo_data.py --data ../shared/data` (deterministic output).

| file | rows | content |
|---|---|---|
| products.csv.gz | {len(products)} | {n_c} clothing products (`C<Clothing ID>`) + {n_r} gift products (`R<StockCode>`) |
| reviews.csv.gz | {len(reviews)} | reviews of the clothing products (`W<row index>`) |
| sales.csv.gz | {len(sales)} | weekly unit sales of the gift products (`unique_id, ds, y`) |
| transactions.csv.gz | {len(tx)} | purchase lines of the gift products with a customer (`customer_id, product_id, ts, quantity`) |

## 1. Women's E-Commerce Clothing Reviews

- Source: Nick Brooks, "Women's E-Commerce Clothing Reviews", Kaggle
  (https://www.kaggle.com/datasets/nicapotato/womens-ecommerce-clothing-reviews); the retailer is anonymised.
- Licence: CC0 1.0 (Public Domain), as listed on the Kaggle page. Our copy came from a GitHub mirror; the
  licence could not be re-checked from the build machine.
- What we took: the {n_c} products chosen round-robin over the Class Names (each class's products with the
  most non-empty reviews first; products with >= 20 reviews only), and all their reviews with non-empty
  text. Reviews with empty text (845 rows in the source) were left out.
- What we changed / derived: `product_id` = "C" + Clothing ID; `title` = "<Class Name> #<Clothing ID>"
  (the data set has no product names); `description` = one factual line built only from Class, Department
  and Division (no invented marketing copy); `category` = "Division > Department > Class";
  `attributes` = {{"division", "department", "class"}} (the most frequent value per product);
  the source's misspelt division "Initmates" is written "Intimates". `review_id` = "W" + the row index of
  the source file; rating, title and review text are unchanged apart from trimmed whitespace.
- Not available: the data set has **no dates and no prices**, so review `date`, product `price` and
  `launch_date` are empty (NaT / NaN). Age, Recommended IND and Positive Feedback Count were dropped.

## 2. Online Retail (UCI)

- Source and licence: **CC BY 4.0**. Attribution: Chen, D. (2015). Online Retail [Dataset]. UCI Machine
  Learning Repository. https://doi.org/10.24432/C5BW33
- Transactions of a UK-based online gift retailer, 2010-12-01 .. 2011-12-09.
- Cleaning: only "clean sales" are used: Quantity > 0, UnitPrice > 0, StockCode starting with 5 digits
  (no postage, discounts, manual lines, fees), and no cancellation ("C") or adjustment ("A") invoices.
  Stock codes are upper-cased (a few appear in both cases).
- Products ({n_r}): the best established sellers (most weeks with sales, then most units; each category's
  top {MIN_PER_CATEGORY} first, at most {MAX_PER_CATEGORY} per category) plus {n_new} products first sold between
  {NEW_FROM:%Y-%m-%d} and {NEW_TO:%Y-%m-%d} with >= 8 weeks of sales (the top sellers of each launch month by units
  in their first 8 weeks) for launch analytics.
  `product_id` = "R" + StockCode; `title` = the most frequent Description, title-cased;
  `description` = one factual line (title, stock code, "a UK-based online gift retailer");
  `price` = median UnitPrice (GBP) over clean sales; `launch_date` = date of the first clean sale.
  Caveat: the data start on 2010-12-01, so for products sold from the first days "launch_date" is only the
  first date observed, and a product first seen after June may be a seasonal item sold before the data start.
  `attributes` = {{"stock_code"}}.
- `category` is derived from the product name by ordered keyword rules (upper-case name, regular
  expressions, first match wins; no match -> "Gifts"):

| # | category | pattern |
|---|---|---|
{rules}

- Sales: `unique_id` = product_id, `ds` = the Monday starting the week, `y` = units sold that week
  (sum of Quantity); weeks without sales between a product's first and last sale week are filled with 0.
  The first week (starting 2010-11-29) and the last week (starting 2011-12-05, data end Friday 2011-12-09)
  are partial weeks.
- Transactions: clean sales of the demo products that have a CustomerID, summed per
  (customer, product, invoice timestamp). CustomerIDs are the data set's anonymous numbers.
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="raw data root")
    ap.add_argument("--out", type=Path, default=REPO / "assistant" / "demo" / "data", help="output folder")
    args = ap.parse_args(argv)
    cp, cr = build_clothing(args.data / CLOTHING_FILE)
    rp, rs, rt = build_retail(args.data / RETAIL_FILE)
    products = pd.concat([cp, rp], ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    outputs = {"products": products, "reviews": cr, "sales": rs, "transactions": rt}
    for name, frame in outputs.items():
        frame.to_csv(args.out / f"{name}.csv.gz", index=False, compression=GZ)
    (args.out / "ATTRIBUTION.md").write_text(attribution(outputs), encoding="utf-8")
    print({k: len(v) for k, v in outputs.items()}, "->", args.out)


if __name__ == "__main__":
    main()
