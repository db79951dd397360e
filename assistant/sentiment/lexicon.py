"""Keyword lexicons: which words name which product aspect, and a small polarity lexicon with negation
handling and sizing patterns. It labels the opinion of each aspect mention in review stats and summaries: on
hand-labelled review sentences it beats a review-rating classifier applied per sentence, which learns the
buyer's overall verdict rather than the opinion on the aspect (eval/aspect_polarity.py); it is also the
fallback of `sentiment predict` when no classifier is trained."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

Polarity = Literal["positive", "negative", "neutral"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Aspect -> keywords/phrases (plain text, matched case-insensitively on word boundaries; a trailing
# "s"/"es" plural is accepted automatically). Generic across clothing, electronics and home goods.
DEFAULT_ASPECTS: dict[str, tuple[str, ...]] = {
    "fit": ("fit", "fits", "fitted", "fitting", "true to size", "runs small", "runs large", "runs big",
            "snug", "loose", "tight", "baggy", "boxy", "roomy", "form fitting", "hugs", "clingy"),
    "size": ("size", "sizes", "sizing", "sized", "size up", "size down", "petite", "xs", "xxs", "xl",
             "small", "medium", "large", "oversized", "dimensions"),
    "fabric": ("fabric", "material", "materials", "cotton", "linen", "silk", "silky", "wool", "polyester",
               "rayon", "knit", "lining", "lined", "stretch", "stretchy", "texture", "soft", "thin",
               "sheer", "see through", "see-through", "itchy", "scratchy", "plastic", "metal", "leather"),
    "quality": ("quality", "well made", "well-made", "cheaply made", "poorly made", "craftsmanship",
                "construction", "stitching", "seams", "seam", "looks cheap", "feels cheap", "flimsy",
                "sturdy", "solid", "defect", "defective", "build quality"),
    "price": ("price", "priced", "pricey", "expensive", "cost", "costs", "value", "worth", "money",
              "bargain", "overpriced", "affordable", "on sale", "discount", "deal"),
    "comfort": ("comfort", "comfortable", "comfy", "uncomfortable", "cozy", "cosy", "breathable",
                "ergonomic"),
    "color": ("color", "colors", "colour", "colours", "colored", "shade", "hue", "print", "pattern",
              "faded", "vibrant"),
    "length": ("length", "long", "short", "longer", "shorter", "hem", "hemline", "inseam", "cropped",
               "midi", "maxi", "hits at", "hits below", "ankle", "knee"),
    "style": ("style", "stylish", "look", "looks", "design", "cut", "flattering", "unflattering", "cute",
              "pretty", "beautiful", "gorgeous", "elegant", "chic", "classy", "frumpy", "shape"),
    "shipping": ("shipping", "shipped", "delivery", "delivered", "arrived", "package", "packaging",
                 "packaged", "box"),
    "durability": ("durable", "durability", "lasted", "lasts", "long lasting", "broke", "broken", "tear",
                   "ripped", "pilling", "pilled", "pills", "holes", "wear and tear", "fell apart",
                   "stopped working"),
    "care": ("wash", "washed", "washing", "dryer", "dry clean", "shrink", "shrank", "shrunk",
             "wrinkle", "wrinkles", "wrinkled", "iron", "ironing"),
    "battery": ("battery", "batteries", "charge", "charging", "charger", "battery life", "recharge"),
    "sound": ("sound", "audio", "speaker", "speakers", "volume", "bass", "noise", "noisy", "loud",
              "quiet", "microphone", "mic"),
    "screen": ("screen", "display", "resolution", "brightness", "touchscreen", "pixels"),
    "ease of use": ("easy to use", "easy to set up", "user friendly", "user-friendly", "intuitive",
                    "setup", "set up", "instructions", "install", "installation", "controls",
                    "complicated", "confusing"),
    "performance": ("performance", "fast", "slow", "speed", "lag", "laggy", "responsive", "powerful"),
    "connectivity": ("bluetooth", "wifi", "wi-fi", "connection", "connectivity", "disconnects",
                     "usb", "hdmi"),
    "returns/service": ("customer service", "customer support", "refund", "warranty", "replacement",
                         "return", "returned", "returning", "exchange"),
}

# Aspects that only make sense for one kind of product. When one kind's aspects are mentioned in at least
# DOMAIN_RATIO times as many reviews as another kind's, the other kind's are keyword noise ("a loud print"
# is not the sound of a dress, "shipped fast" not its performance) and aspect_stats leaves them out.
ASPECT_DOMAINS: dict[str, frozenset[str]] = {
    "apparel": frozenset({"fit", "size", "fabric", "length", "care"}),
    "electronics": frozenset({"battery", "sound", "screen", "ease of use", "performance", "connectivity"}),
}
DOMAIN_RATIO = 5

POSITIVE_WORDS: frozenset[str] = _words("""
love loved loves lovely like liked likes great good nice perfect perfectly beautiful beautifully gorgeous
stunning pretty cute adorable flattering comfortable comfy cozy soft excellent amazing awesome wonderful
fantastic fabulous fab happy glad pleased recommend recommended best better favorite favourite elegant
chic classy stylish fun flowy sturdy solid durable silky worth bargain affordable reasonable fast easy
intuitive clear crisp vibrant rich bright impressed impressive compliments compliment ideal superb
fine well flawless works worked reliable responsive smooth quiet breathable versatile incredible
exceptional satisfied sleek luxurious gem keeper classic timeless enjoy enjoyed pleasant
""")

NEGATIVE_WORDS: frozenset[str] = _words("""
hate hated dislike disliked bad poor poorly terrible awful horrible ugly unflattering frumpy boxy itchy
scratchy cheap cheaply flimsy thin sheer disappointed disappointing disappointment return returned
returning refund wrong worst worse problem problems issue issues defect defective broke broken
ripped torn tear tears hole holes pilled pilling piling pills shrank shrunk faded fade stain stained smell
smells smelly uncomfortable awkward unfortunately sadly weird strange odd overpriced expensive pricey
tight baggy huge tiny short snug loose clingy narrow complicated confusing slow laggy noisy loud fragile
useless waste junk unusable stopped fell sloppy unraveled unraveling wrinkled wrinkles scratch
scratched dull bulky heavy stiff unwearable mess messy lacking lacks lacked meh mediocre died dies dead
failed fails failure quit
""")

NEGATIVE_PHRASES: tuple[str, ...] = (
    "see through", "see-through", "too small", "too big",
    "too large", "too tight", "too loose", "too short", "too long", "too thin", "not worth", "fell apart",
    "stopped working", "sent it back", "send it back", "going back", "had to go back", "has to go back",
    "looks cheap", "feels cheap", "cheaply made", "poorly made", "way too", "did not fit", "didn't fit",
    "doesn't fit", "not my style", "wasn't my style", "not for me", "didn't work for me", "did not work for me",
    "way off",
)
POSITIVE_PHRASES: tuple[str, ...] = (
    "true to size", "fits perfectly", "fits great", "well made", "well-made", "worth every",
    "highly recommend", "so comfortable", "fits well", "good value", "great value", "fits the bill",
    "high quality", "top quality", "a must", "drawn to", "order more", "buy another", "bought another",
    "in another color", "the other colors", "in every color", "in both colors",
)
# Sizing complaints that a word list misses: "runs a bit small", "running very large", "longer than shown".
_SIZE_WORDS = r"(?:small|large|big|short|long|wide|narrow|tight|huge|tiny|snug|loose)"
_DEGREE = r"(?:(?:a\s+)?(?:bit|little|tad|very|slightly|really|quite|way|super|extremely|pretty|somewhat|rather)\s+){0,2}"
NEGATIVE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(?:runs?|running|ran)\s+" + _DEGREE + _SIZE_WORDS + r"\b"),
    re.compile(r"\b(?:tighter|looser|longer|shorter|bigger|smaller|wider|narrower|larger|baggier|boxier)\s+than\b"),
    re.compile(r"\b(?:size|sizing|go|going|went|order|ordering)\s+(?:up|down)\b|\b(?:go|went|size)\s+(?:up|down)\s+(?:a|one|1|two|2)(?:\s+or\s+(?:two|2))?\s+sizes?\b"),
)

NEGATORS: frozenset[str] = _words("""
not no never nothing neither nor hardly barely without isn't wasn't aren't weren't don't doesn't didn't
can't cannot couldn't won't wouldn't shouldn't isnt wasnt arent dont doesnt didnt cant couldnt wont
""")

# Keywords whose plural names something else: "shorts" and "tights" are garments, not length or fit.
_NO_PLURAL: frozenset[str] = frozenset({"short", "tight"})


def _not_after(*words: str) -> str:
    return "".join(f"(?<!{re.escape(w)} )" for w in words)


# Keyword uses that are not about the product's aspect (looked for in the dev set of eval/aspect_polarity.py):
# term -> (text that must not come just before it, text that must not follow it).
_GUARDS: dict[str, tuple[str, str]] = {
    "shape": (_not_after("body", "my", "curvy", "diamond", "pear", "apple", "hourglass", "athletic"), ""),
    "medium": ("", r"(?!\s+(?:grey|gray|blue|green|brown|pink|red|wash|build|frame|bust|chest)\b)"),
    "wash": (_not_after("dark", "light", "medium", "acid", "stone", "black", "two", "both"), ""),
    "look": (_not_after("have a", "take a", "took a", "had a", "get a", "closer"), ""),
    "long": (_not_after("all day", "all night", "all summer", "all year", "all winter", "all season"),
             r"(?!\s+(?:time|day|while)\b)"),
}
_NOT_ADJ: frozenset[str] = _words("and but so i the a an it is was as well me my this that to for of in on with")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_CLAUSE_SPLIT = re.compile(r"\s*(?:[;:]|,?\s+\b(?:but|however|although|though|yet|except)\b)\s*", re.I)


# (substring that must be present or "", pattern, sign): sizing patterns, then phrases in list order
_SCORED_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    *(("", p, -1) for p in NEGATIVE_PATTERNS),
    *((ph, re.compile(r"(?<![\w-])" + re.escape(ph) + r"(?![\w-])"), sign)
      for phrases, sign in ((NEGATIVE_PHRASES, -1), (POSITIVE_PHRASES, 1)) for ph in phrases),
)


def compile_lexicon(lexicon: Mapping[str, Sequence[str]]) -> dict[str, re.Pattern[str]]:
    """Compile ``{aspect: [keywords]}`` into one case-insensitive word-boundary regex per aspect.

    Raises ValueError when an aspect has no keywords or a keyword is empty (a custom lexicon typo).
    """
    compiled: dict[str, re.Pattern[str]] = {}
    for aspect, words in lexicon.items():
        terms = sorted({w.strip().lower() for w in words if w and w.strip()}, key=len, reverse=True)
        if not aspect or not terms:
            raise ValueError(
                f"Aspect {aspect!r} in the lexicon has no keywords; give it a non-empty list of words."
            )
        alts = []
        for term in terms:
            esc = r"\s+".join(re.escape(part) for part in term.split())
            plural = term[-1].isalpha() and term not in _NO_PLURAL
            before, after = _GUARDS.get(term, ("", ""))
            alts.append(before + esc + (r"(?:s|es)?" if plural else "") + after)
        compiled[aspect] = re.compile(r"(?<![\w-])(?:" + "|".join(alts) + r")(?![\w-])", re.I)
    return compiled


def split_clauses(sentence: str) -> list[str]:
    """Split a sentence at contrast markers ("but", "however", ";") so that "love the color but the
    fabric is thin" gives each aspect its own polarity."""
    parts = [p.strip(" ,") for p in _CLAUSE_SPLIT.split(sentence)]
    return [p for p in parts if p] or [sentence]


def lexicon_score(text: str) -> int:
    """Polarity score of a short text: +1 per positive word, -1 per negative word; a negator within the
    three preceding words flips the sign; "too <adj>" counts as negative; phrases count once."""
    low = text.lower().replace("\u2019", "'")
    score = 0
    for needle, pattern, sign in _SCORED_PATTERNS:  # each match counts twice, then is blanked out
        if needle and needle not in low:
            continue  # cheap test first: this runs for every aspect clause of every review
        for m in reversed(list(pattern.finditer(low))):
            score += -2 * sign if _negates(_WORD.findall(low[: m.start()])[-3:]) else 2 * sign
            low = low[: m.start()] + " " + low[m.end():]
    tokens = _WORD.findall(low)
    for i, tok in enumerate(tokens):
        val = 1 if tok in POSITIVE_WORDS else -1 if tok in NEGATIVE_WORDS else 0
        if val == 0:
            continue
        if _negates(tokens[max(0, i - 3): i]):
            val = -val
        elif i > 0 and tokens[i - 1] == "too" and val > 0 and tok not in {"cute", "pretty", "good"}:
            val = -1
        score += val
    for i, tok in enumerate(tokens[:-1]):  # "too wide", "too narrow": an excess is a complaint
        nxt = tokens[i + 1]
        if tok == "too" and nxt not in POSITIVE_WORDS and nxt not in NEGATIVE_WORDS and nxt not in _NOT_ADJ:
            score += 1 if _negates(tokens[max(0, i - 2): i]) else -1  # "not too swingy" is praise
    return score


def _negates(words: Sequence[str]) -> bool:
    """Whether a word of ``words`` (those just before a term) negates it ("not", "without", "doesn't")."""
    return any(w in NEGATORS or w.endswith("n't") for w in words)


def lexicon_polarity(text: str) -> Polarity:
    """"positive" / "negative" / "neutral" from :func:`lexicon_score`."""
    s = lexicon_score(text)
    return "positive" if s > 0 else "negative" if s < 0 else "neutral"
