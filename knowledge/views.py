"""The knowledge-base search the call-intake screen asks while the agent types."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from accounts.matrix import page
from knowledge.selectors import article_search


@page("knowledge:search")
@require_GET
def search(request):
    """JSON: the articles matching `q` — id, title, category, keywords and the answer text."""
    try:
        category_id = int(request.GET.get("category") or 0) or None
    except ValueError:
        category_id = None
    articles = article_search(query=request.GET.get("q", ""), category_id=category_id)
    return JsonResponse(
        {
            "results": [
                {
                    "id": a.pk,
                    "title": a.title,
                    "category": a.category.name,
                    "keywords": a.keywords,
                    "body": a.body,
                }
                for a in articles
            ]
        }
    )
