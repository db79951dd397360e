"""Vocabularies of the claims the spec guard checks (:mod:`assistant.gen.specguard`): materials, colours,
certification-like claims, product features and qualities, and places of origin. A phrase from these lists
in drafted copy must be stated by the product's facts."""

from __future__ import annotations

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
# Properties a buyer would hold the product to; puffery ("stylish", "elegant", "cosy") is not listed.
FEATURES = (
    "durable", "durability", "sturdy", "long-lasting", "long lasting", "hard-wearing", "hardwearing",
    "heavy-duty", "heavy duty", "tear-resistant", "tear resistant", "easy to clean", "easy-to-clean",
    "wipe clean", "easy to care for", "easy care", "easy-care", "low maintenance", "low-maintenance",
    "high-quality", "high quality", "premium quality", "top quality", "top-quality", "lightweight",
    "light weight", "stretchy", "stretch fabric", "adjustable", "reversible", "foldable", "collapsible",
    "portable", "washable", "wrinkle-resistant", "wrinkle resistant", "non-slip", "insulated", "moisture-wicking",
    "moisture wicking", "quick-dry", "quick dry", "quick-drying", "rechargeable", "cordless", "battery-powered",
    "battery operated", "battery-operated", "dimmable", "stackable", "lined", "fully lined",
    "pocket", "pockets", "tie waist", "elastic waist", "zip closure", "zipper", "removable", "padded",
)
# Origin adjectives in their capitalised form (matched case-sensitively: "french fries" is not a claim).
ORIGINS: dict[str, str] = {
    "Moroccan": "Morocco", "Italian": "Italy", "French": "France", "Indian": "India", "Chinese": "China",
    "Japanese": "Japan", "Turkish": "Turkey", "Egyptian": "Egypt", "Peruvian": "Peru", "Portuguese": "Portugal",
    "Spanish": "Spain", "German": "Germany", "British": "Britain", "Scottish": "Scotland", "Irish": "Ireland",
    "Mexican": "Mexico", "Thai": "Thailand", "Vietnamese": "Vietnam", "Belgian": "Belgium", "Swedish": "Sweden",
    "Danish": "Denmark", "Scandinavian": "Scandinavia", "Nordic": "Nordic", "Persian": "Persia",
    "Greek": "Greece", "American": "America", "Australian": "Australia", "Kashmiri": "Kashmir",
    "Balinese": "Bali", "Indonesian": "Indonesia", "Nepalese": "Nepal", "Swiss": "Switzerland",
    "Dutch": "Netherlands", "Polish": "Poland", "Venetian": "Venice", "Murano": "Murano",
}
