"""Spec guard: every factual claim in drafted product copy must be backed by the product's attributes
(or the merchandiser's notes). Pure code, no model.

Claims checked: numbers with units ("213 cm", "2 L", "100%", "pack of 2"), materials ("cotton",
"stainless steel"), colours, sizes ("XL", "size 8"), and certification-like claims ("waterproof",
"organic", "BPA-free", "dishwasher safe", "warranty"), features and qualities ("durable", "easy to clean",
"tie waist"), origins ("Moroccan", "made in Italy"), prices ("$59.90", "12 EUR": the product's price or
another number it states), ranges the facts do not list ("available in various sizes"), statistics about
buyers (a new product has none: "48% of buyers love the fit" is about similar products), and phrases copied
from similar products' copy that name something the facts do not (``similar=``). A claim is supported when the source states it (an attribute "Waterproof: No" does
NOT support "waterproof"). ``check_copy`` also flags a description that loops on a phrase (the same four
words three times or more), which small models do when they run out of things to say."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assistant.gen.citations import content_words
from assistant.gen.claimwords import CERTIFICATIONS, COLORS, FEATURES, MATERIALS, ORIGINS

ClaimType = Literal["number", "price", "material", "color", "size", "certification", "feature", "origin", "range",
                    "buyer_stat", "borrowed", "repetition", "link"]

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

_PRICE = re.compile(r"(?:[$\u00a3\u20ac]\s?(\d+(?:[.,]\d{1,2})?)(?![\d])|(?<![\w.])(\d+(?:[.,]\d{1,2})?)\s?"
                    r"(?:usd|eur|gbp|inr|rs\.?|dollars?|euros?|pounds?)\b)", re.I)
_SIZE_TOKENS = re.compile(r"(?<![\w-])(XXS|XS|XXL|XXXL|[2-5]XL|XL)(?![\w-])")
_SIZE_WORD = re.compile(r"\bsizes?\b\s*:?\s*((?:\d{1,2}|XXS|XS|S|M|L|XL|XXL|XXXL|free size|one size)"
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


_CERTS = frozenset(CERTIFICATIONS)
_ORIGIN = re.compile(r"\b(?:(" + "|".join(ORIGINS) + r")\b|[Mm]ade in (?:the )?([A-Z][a-z]+(?: [A-Z][a-z]+)?))")
_RANGE = re.compile(r"(?i)\b(?:available|comes?|offered|choose from|pick from)\s+(?:in|from)?\s*(?:an?\s+)?"
                    r"(?:wide\s+|huge\s+|great\s+)?(?:(?:variety|range|choice|selection|number)\s+of|various|many|"
                    r"multiple|different|several|all|lots of|plenty of)\s+(sizes|colou?rs|finishes|styles|lengths|"
                    r"patterns|designs|shades|scents|flavou?rs)\b")
BUYER_STAT = re.compile(
    r"(?i)(?:\b\d+(?:\.\d+)?\s?%\s+(?:of\s+)?(?:their\s+|our\s+|the\s+|all\s+)?(?:buyers|customers|reviewers|shoppers|"
    r"users|people|reviews)\b|\b\d+(?:\.\d+)?\s?%\s+(?:rating|praising|complaining|praised|complained|liked|loved)\b|"
    r"\b(?:buyers|customers|reviewers|shoppers)\s+(?:love[sd]?|praise[sd]?|rave[sd]?|say|said|complain(?:ed|s)?|"
    r"mention(?:ed|s)?|like[sd]?|agree)\b|^\s*(?:praised|complained about|complaints?)\s*:|"
    r"\b(?:praise|complaints?)\s+(?:for|about)\s+(?:the\s+)?(?:style|fit|fabric|size|sizing|quality|price|length|"
    r"colou?r|comfort|material)\b)", re.MULTILINE)


def check_claims(text: str, attributes: Mapping[str, Any], notes: str = "", title: str = "",
                 similar: Sequence[str] = ()) -> list[Flag]:
    """Flags for every claim in ``text`` that ``attributes`` / ``notes`` / ``title`` do not support
    (``similar``: the copy of similar products the drafter read, to catch their features copied over)."""
    src = Source(attributes, notes, title)
    flags: list[Flag] = []

    def add(flag: Flag) -> None:
        key = flag.claim.lower().removeprefix("size ")
        if all(f.claim.lower().removeprefix("size ") != key for f in flags):
            flags.append(flag)

    stat_matches = list(BUYER_STAT.finditer(text))
    stats = [(m.start(), m.end()) for m in stat_matches]
    for m in stat_matches:
        add(Flag(m.group(0).strip(" :"), "buyer_stat", "a new product has no buyers yet: this is what buyers of "
                 "similar products said; describe the product's facts instead"))
    for m in _NUM_UNIT.finditer(text):
        if any(s <= m.start() < e for s, e in stats):
            continue
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
    for term, pos in _phrase_hits(text, CERTIFICATIONS + FEATURES):  # one pass: "machine washable" is not also "washable"
        if _negated(text, pos, pos + len(term)) or src.states(term):
            continue
        if term.lower() in _CERTS:
            add(Flag(term, "certification", "claim not stated in the attributes or notes"))
        else:
            add(Flag(term, "feature", "feature or quality not stated in the attributes or notes"))
    for m in _ORIGIN.finditer(text):
        place = m.group(1) or m.group(2)
        if not src.states(place) and not src.states(ORIGINS.get(place, place)):
            add(Flag(m.group(0), "origin", "origin not stated in the attributes or notes"))
    for m in _RANGE.finditer(text):
        if not _lists_several(attributes, notes, m.group(1)):
            add(Flag(m.group(0), "range", f"the facts do not list several {m.group(1).lower()}"))
    for phrase in borrowed_phrases(text, src, similar):
        add(Flag(phrase, "borrowed", "copied from a similar product's copy; this product's facts do not say it"))
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


def _lists_several(attributes: Mapping[str, Any], notes: str, noun: str) -> bool:
    """Whether an attribute named like ``noun`` ("sizes" -> size/sizes) lists several values, or the notes
    mention ``noun``: what "available in various sizes" needs."""
    stem = _canon(noun).rstrip("s").replace("colour", "color")
    for key, value in attributes.items():
        named = _canon(str(key)).rstrip("s").replace("colour", "color").endswith(stem)
        if named and len(re.split(r"\s*(?:,|/|;|\band\b|\bor\b|\s-\s|\bto\b)\s*", str(value).strip())) > 1:
            return True
    return re.search(rf"(?i)\b{re.escape(noun.lower()[:-1])}", notes or "") is not None


# copywriting words a similar product's copy may share with the draft without stating a fact
_GENERIC = frozenset([
    "perfect", "ideal", "great", "beautiful", "stylish", "elegant", "everyday", "wear", "look", "looks", "style",
    "add", "adds", "touch", "home", "decor", "gift", "gifts", "design", "designed", "quality", "occasion",
    "occasions", "lovely", "gorgeous", "classic", "timeless", "modern", "chic", "cute", "fun", "pretty",
    "favourite", "favorite", "must-have", "essential", "piece", "collection", "range", "shop", "buy", "new",
    "best", "ultimate", "simple", "easy", "day", "days", "night", "everyone", "anyone", "family", "friends",
    "loved", "ones", "space", "room"
])


def borrowed_phrases(text: str, src: Source, similar: Sequence[str]) -> list[str]:
    """Two-word phrases of ``text`` found word for word in a similar product's copy whose second (head) word is
    a content word the facts (``src``) do not have: a feature taken from another product ("tie waist")."""
    if not similar:
        return []
    others = [" ".join(re.findall(r"[a-z]+(?:-[a-z]+)?", s.lower())) for s in similar]
    facts = content_words(src.text)
    words = re.findall(r"[a-z]+(?:-[a-z]+)?", text.lower())
    out: list[str] = []
    for a, b in zip(words, words[1:], strict=False):
        pair = f"{a} {b}"
        new = content_words(b) - facts - _GENERIC  # the head word names the thing ("tie waist"; "breezy linen" is style)
        if (not content_words(a) or not new or pair in out
                or not any(re.search(rf"(?<![a-z-]){re.escape(pair)}(?![a-z-])", o) for o in others)):
            continue
        out.append(pair)
    return out


_ALIASES = {"grey": "gray", "gray": "grey", "multicolour": "multicolor", "multicolor": "multicolour",
            "multi-color": "multicolor", "golden": "gold", "gold": "golden", "off white": "off-white"}


def _color_alias(term: str, src: Source) -> bool:
    alt = _ALIASES.get(term.lower())
    return bool(alt and src.states(alt))


def check_copy(copy: Mapping[str, Any], attributes: Mapping[str, Any], notes: str = "",
               title: str = "", similar: Sequence[str] = ()) -> list[Flag]:
    """Run the guard over a draft's title, description, bullets and SEO keywords."""
    parts: list[str] = [str(copy.get("title", "")), str(copy.get("description", ""))]
    for key in ("bullets", "seo_keywords"):
        val = copy.get(key) or []
        parts.extend(str(x) for x in (val if isinstance(val, list) else [val]))
    return (check_claims("\n".join(parts), attributes, notes, title, similar)
            + _loops(str(copy.get("description", ""))))


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
