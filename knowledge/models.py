"""The knowledge base agents answer inquiries from (tariffs, payment, procedures, policy).

Administrators write and edit articles in the admin; agents search them on the call-intake
screen and can close an inquiry on the call with the article they read out.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleCategory(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="articles",
    )
    title = models.CharField(_("title"), max_length=120)
    keywords = models.CharField(
        _("keywords"),
        max_length=200,
        blank=True,
        help_text=_("Words a caller would use, separated by spaces or commas."),
    )
    body = models.TextField(_("answer"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["category__sort_order", "title"]

    def __str__(self) -> str:
        return self.title
