"""Spec guard: every factual claim in drafted product copy must be backed by the product's attributes
(or the merchandiser's notes). Pure code, no model.

Claims checked: numbers with units ("213 cm", "2 L", "100%", "pack of 2"), materials ("cotton",
"stainless steel"), colours, sizes ("XL", "size 8"), and certification-like claims ("waterproof",
"organic", "BPA-free", "dishwasher safe", "warranty"), prices ("$59.90", "12 EUR": the product's price or
another number it states). A claim is supported when the source states it (an attribute "Waterproof: No" does
NOT support "waterproof"). ``check_copy`` also flags a description that loops on a phrase (the same four
words three times or more), which small models do when they run out of things to say."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ClaimType = Literal["number", "price", "material", "color", "size", "certification", "repetition", "link"]

_UNITS: dict[str, str] = {}
for _fam, _names in {
    "length": "mm cm m km inch inches in \" ft feet foot meter meters metre metres millimeter millimeters centimeter centimeters",
    "mass": "g gm gms gram grams kg kgs kilogram kilograms lb lbs pound pounds oz ounce ounces mg",
    "volume": "ml l ltr litre litres liter liters cl fl gallon gallons cc",
    "power": "w watt watts kw",
    "voltage": "v volt volts",
    "current": "mah ah a amp amps",
    "data": "kb mb gb tb",
    "freq": "hz khz mhz ghz",
    "time": "h hr hrs hour hours min mins minute minutes sec secs seconds day days week weeks month months year years yr yrs",
    "count": "pcs pc piece pieces pack packs set sets pair pairs units count",
    "percent": "% percent",
    "thread": "tc gsm",
    "temp": "°c °f degrees",
    "pixels": "mp megapixel megapixels px",
}.items():
    for _n in _names.split():
        _UNITS[_n] = _fam
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_NUM_UNIT = re.compile(rf"(?<![\w.])(\d+(?:[.,]\d+)?)\s*(?:-\s*)?({_UNIT_RE})(?![a-z])", re.I)
_OF_N = re.compile(r"\b(pack|set|pair|box|bundle|combo)s?\s+of\s+(\d+)\b", re.I)
_NUM = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")

MATERIALS = (
    "stainless steel", "carbon steel", "steel", "cast iron", "iron", "aluminium", "aluminum", "copper", "brass",
    "bronze", "titanium", "gold", "silver", "sterling silver", "platinum", "cotton", "organic cotton", "polyester",
    "nylon", "silk", "wool", "merino", "cashmere", "linen", "rayon", "viscose", "spandex", "elastane", "lycra",
    "denim", "velvet", "satin", "chiffon", "georgette", "crepe", "jute", "leather", "genuine leather",
    "faux leather", "pu leather", "suede", "microfiber", "microfibre", "fleece", "acrylic", "plastic", "pvc",
    "abs", "polypropylene", "polycarbonate", "rubber", "silicone", "glass", "tempered glass", "crystal",
    "ceramic", "porcelain", "stoneware", "melamine", "bamboo", "wood", "wooden", "solid wood", "mdf", "teak",
    "oak", "sheesham", "marble", "granite", "stone", "paper", "cardboard", "foam", "memory foam", "latex",
    "down", "feather", "canvas", "mesh", "terracotta", "clay", "resin", "acrylic", "vinyl", "neoprene",
)
COLORS = (
    "black", "white", "red", "blue", "navy", "navy blue", "sky blue", "green", "olive", "yellow", "orange",
    "pink", "purple", "violet", "maroon", "brown", "beige", "cream", "ivory", "grey", "gray", "silver", "gold",
    "golden", "multicolor", "multicolour", "multi-color", "turquoise", "teal", "magenta", "peach", "khaki",
    "tan", "burgundy", "lavender", "mustard", "coral", "charcoal", "off-white", "off white", "rose gold",
)
CERTIFICATIONS = (
    "waterproof", "water proof", "water-resistant", "water resistant", "splash proof", "splash-proof",
    "organic", "bpa-free", "bpa free", "non-toxic", "non toxic", "lead-free", "lead free", "hypoallergenic",
    "eco-friendly", "eco friendly", "biodegradable", "recyclable", "recycled", "vegan", "cruelty-free",
    "cruelty free", "gluten-free", "gluten free", "paraben-free", "paraben free", "sulfate-free", "sulphate-free",
    "dermatologically tested", "clinically proven", "fda approved", "ce certified", "iso certified",
    "certified", "ul listed", "isi marked", "bis certified", "dishwasher safe", "microwave safe", "oven safe",
    "freezer safe", "food grade", "food-grade", "machine washable", "hand wash only", "dry clean only",
    "shrink-resistant", "shrink resistant", "wrinkle-free", "wrinkle free", "stain-resistant", "stain resistant",
    "fade-resistant", "fade resistant", "rust-proof", "rustproof", "rust proof", "rust-free", "shatterproof",
    "unbreakable", "fireproof", "fire retardant", "flame retardant", "antibacterial", "anti-bacterial",
    "antimicrobial", "anti-microbial", "uv protection", "non-stick", "non stick", "scratch-resistant",
    "scratch resistant", "shockproof", "shock proof", "handmade", "hand made", "handcrafted", "hand-crafted",
    "warranty", "guarantee", "guaranteed", "100% natural", "all natural", "natural", "breathable", "anti-slip",
    "anti slip", "skid proof", "leak-proof", "leak proof", "leakproof", "fair trade", "energy star",
)
_PRICE = re.compile(r"(?:[$\u00a3\u20ac]\s?(\d+(?:[.,]\d{1,2})?)(?![\d])|(?<![\w.])(\d+(?:[.,]\d{1,2})?)\s?"
                    r"(?:usd|eur|gbp|inr|rs\.?|dollars?|euros?|pounds?)\b)", re.I)
_SIZE_TOKENS = re.compile(r"(?<![\w-])(XXS|XS|XXL|XXXL|[2-5]XL|XL)(?![\w-])")
_SIZE_WORD = re.compile(r"\bsizes?\s*:?\s*((?:\d{1,2}|XXS|XS|S|M|L|XL|XXL|XXXL|free size|one size)"
                        r"(?:\s*(?:/|,|-|to|and|or)\s*(?:\d{1,2}|XXS|XS|S|M|L|XL|XXL|XXXL))*)(?![\w-])", re.I)
_FALSY = {"no", "false", "0", "none", "n/a", "na", "not applicable", "nil"}
_NEGATED = re.compile(r"\b(not|no|isn't|is not|never|without)\s+(?:\w+\s+)?$", re.I)
# "Microwave Safe: No" states the opposite of the claim (spec-sheet style).
_NEGATED_AFTER = re.compile(r"^\s*[:=\-\u2013]?\s*(?:no|false|none|not applicable)\b", re.I)


@dataclass(frozen=True)
class Flag:
    """An unsupported claim in the draft."""

    claim: str
    type: ClaimType
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"claim": self.claim, "type": self.type, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.type} claim '{self.claim}': {self.reason}"


def _norm_num(s: str) -> float:
    return float(s.replace(",", "."))


def _canon(s: str) -> str:
    return re.sub(r"[\s\-_]+", " ", s.lower()).strip()


class Source:
    """The facts a draft may state: attributes (key: value) and free notes, pre-indexed."""

    def __init__(self, attributes: Mapping[str, Any], notes: str = "", title: str = "") -> None:
        pairs = [(str(k), str(v)) for k, v in attributes.items() if v is not None and str(v).strip() != ""]
        self.negated_keys = {_canon(k) for k, v in pairs if _canon(v) in _FALSY}
        lines = [f"{k}: {v}" for k, v in pairs if _canon(v) not in _FALSY] + [notes or "", title or ""]
        # a key whose value is "Yes" states the key itself ("Waterproof: Yes")
        self.text = _canon(" \n ".join(lines))
        self.text_raw = " \n ".join(lines)
        self.num_units: set[tuple[float, str]] = set()
        for m in _NUM_UNIT.finditer(self.text_raw):
            self.num_units.add((_norm_num(m.group(1)), _UNITS[m.group(2).lower()]))
        for m in _OF_N.finditer(self.text_raw):
            self.num_units.add((float(m.group(2)), "count"))
        self.numbers = {_norm_num(m.group(0)) for m in _NUM.finditer(self.text_raw)}

    def states(self, phrase: str) -> bool:
        p = _canon(phrase)
        if p in self.negated_keys:
            return False
        return re.search(rf"(?<![a-z]){re.escape(p)}(?:s|es)?(?![a-z])", self.text) is not None


def _negated(text: str, start: int, end: int | None = None) -> bool:
    before = _NEGATED.search(text[max(0, start - 24):start]) is not None
    return before or (end is not None and _NEGATED_AFTER.match(text[end:end + 20]) is not None)


def _phrase_hits(text: str, vocab: tuple[str, ...]) -> list[tuple[str, int]]:
    """Longest-first vocabulary matches (so 'stainless steel' is one claim, not also 'steel')."""
    low = text.lower()
    taken: list[tuple[int, int]] = []
    hits: list[tuple[str, int]] = []
    for term in sorted(set(vocab), key=len, reverse=True):
        for m in re.finditer(rf"(?<![a-z\-]){re.escape(term)}(?![a-z])", low):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            hits.append((text[m.start():m.end()], m.start()))
    return sorted(hits, key=lambda h: h[1])


_LINK = re.compile(r"(?i)\b(?:https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+|[\w-]+\.(?:com|net|org|shop|store|"
                   r"example|io|co|biz|info)\b(?:/\S*)?)")


def check_claims(text: str, attributes: Mapping[str, Any], notes: str = "", title: str = "") -> list[Flag]:
    """Flags for every claim in ``text`` that ``attributes`` / ``notes`` / ``title`` do not support."""
    src = Source(attributes, notes, title)
    flags: list[Flag] = []

    def add(flag: Flag) -> None:
        key = flag.claim.lower().removeprefix("size ")
        if all(f.claim.lower().removeprefix("size ") != key for f in flags):
            flags.append(flag)

    for m in _NUM_UNIT.finditer(text):
        value, fam = _norm_num(m.group(1)), _UNITS[m.group(2).lower()]
        if (value, fam) in src.num_units:
            continue
        nxt = re.match(r"\s*([A-Za-z]+)", text[m.end():])
        if fam == "percent" and value == 100 and nxt and src.states(nxt.group(1)):
            continue  # "100% cotton" when the material is cotton
        if fam == "count" and value in src.numbers:
            continue
        claim = m.group(0).strip() + (f" {nxt.group(1)}" if fam == "percent" and nxt else "")
        add(Flag(claim, "number", f"{m.group(0).strip()} is not in the product attributes"))
    for m in _PRICE.finditer(text):
        if _norm_num(m.group(1) or m.group(2)) not in src.numbers:
            add(Flag(m.group(0).strip(), "price", "price is not in the product attributes"))
    for m in _OF_N.finditer(text):
        if (float(m.group(2)), "count") not in src.num_units and float(m.group(2)) not in src.numbers:
            add(Flag(m.group(0), "number", "pack size is not in the product attributes"))
    for term, pos in _phrase_hits(text, MATERIALS):
        if not _negated(text, pos) and not src.states(term):
            add(Flag(term, "material", "material not listed in the attributes"))
    for term, pos in _phrase_hits(text, COLORS):
        if not _negated(text, pos) and not src.states(term) and not _color_alias(term, src):
            add(Flag(term, "color", "colour not listed in the attributes"))
    for term, pos in _phrase_hits(text, CERTIFICATIONS):
        if not _negated(text, pos, pos + len(term)) and not src.states(term):
            add(Flag(term, "certification", "claim not stated in the attributes or notes"))
    for m in _LINK.finditer(text):
        if m.group(0).lower().rstrip(".,;:!?)") not in src.text_raw.lower():
            add(Flag(m.group(0).rstrip(".,;:!?)"), "link", "web address or e-mail not in the product facts"))
    for m in _SIZE_TOKENS.finditer(text):
        if not src.states(m.group(1)):
            add(Flag(m.group(1), "size", "size not listed in the attributes"))
    for m in _SIZE_WORD.finditer(text):
        for tok in re.split(r"\s*(?:/|,|-|to|and|or)\s*", m.group(1), flags=re.I):
            if tok and not src.states(tok) and not (tok.isdigit() and float(tok) in src.numbers):
                add(Flag(f"size {tok}", "size", "size not listed in the attributes"))
    return flags


_ALIASES = {"grey": "gray", "gray": "grey", "multicolour": "multicolor", "multicolor": "multicolour",
            "multi-color": "multicolor", "golden": "gold", "gold": "golden", "off white": "off-white"}


def _color_alias(term: str, src: Source) -> bool:
    alt = _ALIASES.get(term.lower())
    return bool(alt and src.states(alt))


def check_copy(copy: Mapping[str, Any], attributes: Mapping[str, Any], notes: str = "",
               title: str = "") -> list[Flag]:
    """Run the guard over a draft's title, description, bullets and SEO keywords."""
    parts: list[str] = [str(copy.get("title", "")), str(copy.get("description", ""))]
    for key in ("bullets", "seo_keywords"):
        val = copy.get(key) or []
        parts.extend(str(x) for x in (val if isinstance(val, list) else [val]))
    return check_claims("\n".join(parts), attributes, notes, title) + _loops(str(copy.get("description", "")))


def _loops(text: str, n: int = 4, times: int = 3) -> list[Flag]:
    """A repetition flag when some ``n`` words come back ``times`` times or more in ``text``."""
    words = re.findall(r"[\w'&]+", text.lower())
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        gram = tuple(words[i:i + n])
        counts[gram] = counts.get(gram, 0) + 1
    gram, seen = max(counts.items(), key=lambda kv: kv[1], default=((), 0))
    if seen < times:
        return []
    return [Flag(" ".join(gram), "repetition", f"the description repeats '{' '.join(gram)}' {seen} times; "
                 "write each point once")]
