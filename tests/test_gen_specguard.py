"""Spec guard: numbers+units, materials, colours, sizes and certification-like claims in drafted copy
must be backed by the attributes (or notes)."""

from __future__ import annotations

import pytest

from assistant.gen.specguard import check_claims, check_copy

ATTRS = {"Material": "Polyester", "Color": "Multicolor", "Length": "213 cm", "Sales Package": "Pack of 2",
         "Waterproof": "No", "Size": "M, L", "Capacity": "1.5 L", "Warranty": "1 year"}


def claims(text: str, attrs: dict[str, str] | None = None, notes: str = "") -> set[str]:
    return {f.claim.lower() for f in check_claims(text, ATTRS if attrs is None else attrs, notes)}


def test_supported_copy_has_no_flags() -> None:
    text = ("Multicolour polyester door curtain, 213 cm long, sold as a pack of 2. 100% polyester, "
            "sizes M/L, holds 1.5 litres, with a 1 year warranty.")
    assert check_claims(text, ATTRS) == []


@pytest.mark.parametrize("text, claim", [
    ("Weighs only 5 kg.", "5 kg"),
    ("It is 250 cm long.", "250 cm"),
    ("Comes in a pack of 3.", "pack of 3"),
    ("Made of 100% cotton.", "100% cotton"),
    ("Battery lasts 10 hours.", "10 hours"),
    ("A 2 year warranty.", "2 year"),
])
def test_unsupported_numbers_are_flagged(text: str, claim: str) -> None:
    assert claim in claims(text)


@pytest.mark.parametrize("text, claim, kind", [
    ("Soft cotton feel.", "cotton", "material"),
    ("Sturdy stainless steel rod.", "stainless steel", "material"),
    ("Available in red.", "red", "color"),
    ("Also in XL.", "xl", "size"),
    ("Fully waterproof.", "waterproof", "certification"),
    ("BPA-free and organic.", "bpa-free", "certification"),
    ("Dishwasher safe.", "dishwasher safe", "certification"),
])
def test_unsupported_attribute_claims_are_flagged(text: str, claim: str, kind: str) -> None:
    flags = check_claims(text, ATTRS)
    assert (claim, kind) in {(f.claim.lower(), f.type) for f in flags}


def test_attribute_with_value_no_does_not_support_the_claim() -> None:
    assert "waterproof" in claims("A waterproof curtain.")
    assert "waterproof" not in claims("A waterproof curtain.", {"Waterproof": "Yes"})


def test_negated_claims_are_not_claims() -> None:
    assert "waterproof" not in claims("Note: it is not waterproof.")


def test_notes_and_units_support_claims() -> None:
    assert claims("Organic cotton, BPA-free bottle of 500 ml.", {"Capacity": "500 ml"},
                  notes="GOTS organic cotton sleeve; BPA-free") == set()
    # same number with another unit family is not the same fact
    assert "500 g" in claims("Weighs 500 g.", {"Capacity": "500 ml"})


def test_longest_material_match_only() -> None:
    flags = check_claims("Stainless steel body.", {"Material": "Plastic"})
    assert [f.claim.lower() for f in flags] == ["stainless steel"]


def test_grey_gray_alias_and_decimal_comma() -> None:
    assert claims("Gray wool, 1,5 L.", {"Color": "Grey", "Material": "Wool", "Capacity": "1.5 L"}) == set()


def test_check_copy_covers_all_fields() -> None:
    copy = {"title": "Curtain", "description": "Polyester.", "bullets": ["Machine washable"],
            "seo_keywords": ["waterproof curtain"]}
    got = {f.claim.lower() for f in check_copy(copy, ATTRS)}
    assert got == {"machine washable", "waterproof"}


def test_spec_sheet_negatives_and_size_words_are_not_claims() -> None:
    from assistant.gen.specguard import check_claims

    attrs = {"Microwave Safe": "No", "Size": "Large", "Material": "Ceramic"}
    # "Microwave Safe: No" repeats the spec sheet; "Size: Large" must not be read as size "L".
    assert check_claims("Ceramic mug. Microwave Safe: No. Size: Large.", attrs) == []
    flags = check_claims("Ceramic mug. Microwave safe and dishwasher safe. Size: M.", attrs)
    assert {f.claim.lower() for f in flags} >= {"microwave safe", "size m"}


def test_prices_must_be_the_products() -> None:
    from assistant.gen.specguard import check_claims

    attrs = {"price": "24.50", "material": "cotton"}
    assert check_claims("Yours for $24.50, or 24.5 EUR.", attrs) == []
    flags = check_claims("A steal at $59.9 (was 79 dollars).", attrs)
    assert [(f.claim, f.type) for f in flags] == [("$59.9", "price"), ("79 dollars", "price")]


def test_a_looping_description_is_flagged() -> None:
    from assistant.gen.specguard import check_copy

    loop = {"title": "Star lights", "description": "Lovely lights for Candles & Lights. " * 4}
    flags = check_copy(loop, {"category": "Candles & Lights"})
    assert [f.type for f in flags] == ["repetition"] and "4 times" in flags[0].reason
    assert check_copy({"title": "Star lights", "description": "Warm lights for a cosy room. Hang them anywhere."},
                      {"category": "Candles & Lights"}) == []


def test_entities_from_escaped_evidence_do_not_reach_the_copy() -> None:
    from assistant.gen.copywriter import _clean

    out = _clean({"title": "Tea &amp; cake set", "description": "For tea &amp; cake.",
                  "bullets": ["A &lt;b&gt; gift", "A &lt;b&gt; gift"], "seo_keywords": "tea &amp; cake, gift"})
    assert out == {"title": "Tea & cake set", "description": "For tea & cake.", "bullets": ["A <b> gift"],
                   "seo_keywords": ["tea & cake", "gift"]}


def test_review_ids_and_placeholder_bullets_do_not_reach_the_copy() -> None:
    from assistant.gen.copywriter import _clean

    out = _clean({"title": "Linen dress", "description": "Buyers love the fabric [W123, W7]. Breezy.",
                  "bullets": ["Linen", "Size: Not listed in attributes", "Colour: n/a"], "seo_keywords": []})
    assert out["description"] == "Buyers love the fabric. Breezy." and out["bullets"] == ["Linen"]


@pytest.mark.parametrize("text, claim, kind", [
    ("Made from high-quality glass, this holder is durable and easy to clean.", "durable", "feature"),
    ("Made from high-quality glass, this holder is durable and easy to clean.", "easy to clean", "feature"),
    ("Made from high-quality glass, this holder is durable and easy to clean.", "high-quality", "feature"),
    ("Made from Moroccan glass.", "moroccan", "origin"),
    ("Lovingly made in Italy.", "made in italy", "origin"),
    ("Available in a variety of sizes and colours.", "available in a variety of sizes", "range"),
    ("It comes in various colors.", "comes in various colors", "range"),
    ("48% of buyers love the fit.", "48% of buyers", "buyer_stat"),
    ("Customers rave about it.", "customers rave", "buyer_stat"),
])
def test_features_origins_ranges_and_buyer_statistics_are_claims(text: str, claim: str, kind: str) -> None:
    assert (claim, kind) in {(f.claim.lower(), f.type) for f in check_claims(text, {"material": "glass"})}


def test_stated_features_origins_and_ranges_pass() -> None:
    attrs = {"material": "glass", "origin": "Morocco", "sizes": "S, M, L", "care": "Durable, easy to clean"}
    assert check_claims("Durable Moroccan glass, easy to clean, made in Morocco. Available in various sizes.",
                        attrs) == []
    assert check_claims("Not machine washable.", {}) == []  # a negated feature is not claimed
    assert [f.type for f in check_claims("Available in many colours.", {"colour": "sage"})] == ["range"]
    assert check_claims("Sizes and colours vary.", {}) == []  # "sizes" is not size S
    # one claim per phrase: "machine washable" is a certification, not also the feature "washable"
    assert [(f.claim, f.type) for f in check_claims("Machine washable.", {})] == [("Machine washable", "certification")]
    assert check_claims("Serve with french fries.", {}) == []  # origins count only capitalised


def test_borrowed_phrases_need_a_new_head_word() -> None:
    from assistant.gen.specguard import Source, borrowed_phrases

    src = Source({"material": "100% linen"}, title="Linen midi dress")
    similar = ["A breezy linen midi dress with a tie waist and a bow belt, perfect gift."]
    text = "A breezy linen midi dress with a bow belt, the perfect gift."
    assert borrowed_phrases(text, src, similar) == ["bow belt"]
    assert borrowed_phrases(text, src, []) == []
