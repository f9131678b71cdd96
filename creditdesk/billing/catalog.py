"""The starting catalogue: plans, the price list, credit packages and payment methods.

Written by a data migration (so every database has a default plan) and by `seed_catalog`; both only
create what is missing, never overwrite what an operator edited in the admin.
"""

from decimal import Decimal

from django.apps.registry import Apps

PLANS = [
    {
        "slug": "free",
        "name": "Free",
        "price_monthly": Decimal("0.00"),
        "credits_per_month": 100,
        "max_users": 5,
        "is_default": True,
        "sort_order": 0,
    },
    {
        "slug": "starter",
        "name": "Starter",
        "price_monthly": Decimal("29.00"),
        "credits_per_month": 2000,
        "max_users": 10,
        "sort_order": 1,
    },
    {
        "slug": "growth",
        "name": "Growth",
        "price_monthly": Decimal("99.00"),
        "credits_per_month": 8000,
        "max_users": 25,
        "sort_order": 2,
    },
    {
        "slug": "scale",
        "name": "Scale",
        "price_monthly": Decimal("299.00"),
        "credits_per_month": 30000,
        "max_users": 100,
        "sort_order": 3,
    },
]

CREDIT_COSTS = [
    {
        "operation_type": "clustering",
        "display_name": "Keyword clustering",
        "credits_per_unit": 10,
        "unit": "batch",
    },
    {
        "operation_type": "idea_generation",
        "display_name": "Idea generation",
        "credits_per_unit": 5,
        "unit": "idea set",
    },
    {
        "operation_type": "content_generation",
        "display_name": "Content writing",
        "credits_per_unit": 25,
        "unit": "article",
    },
    {
        "operation_type": "image_generation",
        "display_name": "Image generation",
        "credits_per_unit": 15,
        "unit": "image",
    },
    {
        "operation_type": "image_prompt_extraction",
        "display_name": "Image prompt extraction",
        "credits_per_unit": 2,
        "unit": "prompt",
    },
    {"operation_type": "linking", "display_name": "Internal linking", "credits_per_unit": 3, "unit": "page"},
    {
        "operation_type": "optimization",
        "display_name": "Content optimization",
        "credits_per_unit": 8,
        "unit": "page",
    },
]

CREDIT_PACKAGES = [
    {
        "slug": "starter-pack",
        "name": "Starter Pack",
        "credits": 500,
        "price": Decimal("9.00"),
        "description": "A first top-up for small projects.",
        "sort_order": 0,
    },
    {
        "slug": "growth-pack",
        "name": "Growth Pack",
        "credits": 2500,
        "price": Decimal("39.00"),
        "description": "Best value for a busy content team.",
        "is_featured": True,
        "sort_order": 1,
    },
    {
        "slug": "agency-pack",
        "name": "Agency Pack",
        "credits": 10000,
        "price": Decimal("129.00"),
        "description": "For agencies running many sites.",
        "sort_order": 2,
    },
]

PAYMENT_METHODS = [
    {"payment_method": "stripe", "display_name": "Credit/Debit Card", "sort_order": 0},
    {"payment_method": "bank_transfer", "display_name": "Bank Transfer", "sort_order": 1},
    {"payment_method": "sandbox", "display_name": "Sandbox (instant demo payment)", "sort_order": 2},
]


def seed_catalog(apps: Apps) -> dict[str, int]:
    created: dict[str, int] = {}
    for model_name, rows, key in [
        ("Plan", PLANS, "slug"),
        ("CreditCost", CREDIT_COSTS, "operation_type"),
        ("CreditPackage", CREDIT_PACKAGES, "slug"),
        ("PaymentMethodConfig", PAYMENT_METHODS, "payment_method"),
    ]:
        model = apps.get_model("billing", model_name)
        created[model_name] = 0
        for row in rows:
            defaults = {field: value for field, value in row.items() if field != key}
            _obj, was_created = model.objects.get_or_create(**{key: row[key]}, defaults=defaults)
            created[model_name] += int(was_created)
    return created
