"""The product taxonomy the platform ships with (admins may add to it in the Django admin)."""

# slug, English name, Chinese name
CATEGORIES: list[tuple[str, str, str]] = [
    ("jewelry", "Jewelry", "珠宝首饰"),
    ("maternal_baby", "Maternal & baby", "母婴"),
    ("fresh_food", "Fresh food", "生鲜"),
    ("flowers", "Flowers & plants", "鲜花绿植"),
    ("beauty", "Beauty & personal care", "美妆个护"),
    ("apparel", "Apparel & shoes", "服饰鞋包"),
    ("electronics", "Electronics & appliances", "数码家电"),
    ("books", "Books", "图书"),
    ("home", "Home & kitchen", "家居厨具"),
    ("other", "Other", "其他"),
]
CATEGORY_SLUGS = [slug for slug, _, _ in CATEGORIES]

TRIAGE_QUEUE_SLUG = "triage"
ESCALATION_QUEUE_SLUG = "supervisors"
