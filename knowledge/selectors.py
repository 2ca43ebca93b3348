"""Searching the knowledge base while the caller waits.

The base holds hundreds of articles, not millions, so a case-insensitive match of every
typed word against title, keywords and answer is fast enough on both databases. Articles
matching in the title or keywords come before those matching only in the answer text.
"""

from __future__ import annotations

import re

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from knowledge.models import Article

SEARCH_LIMIT = 10
_SPLIT = re.compile(r"[\s,，、;；]+")


def article_search(
    *, query: str, category_id: int | None = None, limit: int = SEARCH_LIMIT
) -> list[Article]:
    """Active articles containing every word of `query` (title, keywords or answer)."""
    words = [w for w in _SPLIT.split((query or "").strip()) if w]
    if not words:
        return []
    qs: QuerySet[Article] = Article.objects.filter(is_active=True).select_related("category")
    if category_id:
        qs = qs.filter(category_id=category_id)
    title_hits = Q()
    for word in words:
        qs = qs.filter(
            Q(title__icontains=word) | Q(keywords__icontains=word) | Q(body__icontains=word)
        )
        title_hits &= Q(title__icontains=word) | Q(keywords__icontains=word)
    rank = Case(When(title_hits, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(qs.annotate(rank=rank).order_by("rank", "category__sort_order", "title")[:limit])
