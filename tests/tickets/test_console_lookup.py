"""Finding the caller and the knowledge-base answer while the customer talks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.selectors import customer_find_by_phone, customer_search
from knowledge.models import Article, ArticleCategory
from knowledge.selectors import article_search

pytestmark = pytest.mark.django_db


def test_a_caller_is_found_by_the_number_in_any_form(urban_customer, important_customer):
    assert customer_find_by_phone(phone="+86 138-0000-0001") == [urban_customer]
    assert customer_find_by_phone(phone="010-8888 0000") == [important_customer]
    assert customer_find_by_phone(phone="withheld") == []


def test_search_finds_by_account_number_name_start_and_address_part(
    urban_customer, rural_customer, important_customer
):
    assert customer_search(query="3100000002") == [rural_customer]
    assert customer_search(query="李") == [rural_customer]
    assert customer_search(query="人民医院") == [important_customer]
    assert set(customer_search(query="城东供电区幸福路")) == {urban_customer, important_customer}
    assert (
        customer_search(query="城东供电区幸福路")[0] == important_customer
    )  # important customers first
    assert customer_search(query="  ") == []


@pytest.fixture
def articles(db):
    tariffs = ArticleCategory.objects.create(name="电价电费", sort_order=1)
    payment = ArticleCategory.objects.create(name="缴费渠道", sort_order=2)
    return {
        "ladder": Article.objects.create(
            category=tariffs,
            title="居民阶梯电价",
            keywords="阶梯 电价",
            body="第一档每月 200 千瓦时以内……",
        ),
        "online": Article.objects.create(
            category=payment,
            title="网上缴费",
            keywords="缴费 网上国网 微信",
            body="可通过网上国网 App、微信或支付宝缴纳电费。阶梯电价按年度累计。",
        ),
        "hidden": Article.objects.create(
            category=payment, title="旧缴费点", keywords="缴费", body="已撤销", is_active=False
        ),
    }


def test_the_knowledge_base_finds_articles_with_every_word_title_hits_first(articles):
    assert article_search(query="阶梯电价") == [articles["ladder"], articles["online"]]
    assert article_search(query="微信 缴费") == [articles["online"]]
    assert articles["hidden"] not in article_search(query="缴费")


def test_the_console_asks_the_knowledge_base_as_json(client, alice, articles):
    client.force_login(alice)
    results = client.get(reverse("knowledge:search"), {"q": "网上国网"}).json()["results"]
    assert [r["title"] for r in results] == ["网上缴费"]
    assert results[0]["category"] == "缴费渠道" and "支付宝" in results[0]["body"]


def test_a_crew_member_cannot_search_the_knowledge_base(client, bob):
    client.force_login(bob)
    assert client.get(reverse("knowledge:search"), {"q": "电价"}).status_code == 403
