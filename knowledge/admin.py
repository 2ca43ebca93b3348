from django.contrib import admin

from knowledge.models import Article, ArticleCategory


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "sort_order"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "is_active", "updated_at"]
    list_filter = ["category", "is_active"]
    search_fields = ["title", "keywords", "body"]
