"""CSV and XLSX exports: safe to open (no cell runs as a formula), phone numbers masked, every
download logged (dashboard.exports, privacy.services)."""

from __future__ import annotations

import csv
import io

import pytest
from dashboard_day import BJ, make_call, make_ticket
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import Customer
from dashboard.exports import Cell, Table, neutralised, to_csv, to_xlsx
from privacy.models import DisclosureLog

pytestmark = pytest.mark.django_db

DAY = {"start": "2024-03-04", "end": "2024-03-04"}
PAYLOAD_NAME = '=HYPERLINK("http://evil.example/","点此领取补贴")'
PAYLOAD_ADDRESS = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "  =1+1", "＝1+1", "＠SUM(A1)"],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("value", ["张三", "a=b", "城东幸福路9号", "", 12, -3, 4.5, "40.00%"])
def test_everything_else_is_written_as_it_is(value):
    assert neutralised(value) == value


def _table(*cells) -> Table:
    table = Table("t", "测试", ["描述"])
    for cell in cells:
        table.add(Cell(cell))
    return table


def test_the_csv_holds_the_text_neutralised():
    text = to_csv([_table("=1+1", "-5", 7)]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["描述"], ["'=1+1"], ["'-5"], ["7"]]


def test_the_xlsx_holds_text_not_formulas_and_drops_what_it_cannot_hold():
    book = load_workbook(io.BytesIO(to_xlsx([_table("=1+1", "坏\x00字\x1b符", -5)])))
    sheet = book.active
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "坏字符"
    assert sheet["A4"].value == -5  # a number stays a number


@pytest.fixture
def supervisor(client, dave):
    client.force_login(dave)
    return client


@pytest.fixture
def payload_order(alice, urban_area):
    customer = Customer.objects.create(
        account_number="3100000077",
        name=PAYLOAD_NAME,
        address="城东",
        service_area=urban_area,
    )
    return make_ticket(
        "-1+1 <script>window.__xss=1</script>",
        "repair",
        BJ(10),
        owner=alice,
        customer=customer,
        address=PAYLOAD_ADDRESS,
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_drill_down_export_is_neutralised_masked_and_logged(
    supervisor, dave, payload_order, fmt
):
    response = supervisor.get(
        reverse("dashboard:drill", args=["orders.all"]), {**DAY, "format": fmt}
    )
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = [[str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    header, row = rows[0], rows[1]
    assert header[-4:] == ["客户", "来电号码", "地址", "客户反映内容"]
    assert row[0] == payload_order.number
    assert row[-4:] == [
        "'" + PAYLOAD_NAME,
        "139****9999",  # 13900009999
        "'" + PAYLOAD_ADDRESS,
        "'-1+1 <script>window.__xss=1</script>",
    ]
    log = DisclosureLog.objects.get()
    assert (log.kind, log.user, log.rows, log.field, log.in_full) == (
        "export",
        dave,
        1,
        "phone",
        False,
    )
    assert log.export == f"drill-orders.all.{fmt}"
    assert "start=2024-03-04" in log.query and "format" not in log.query


def test_the_calls_export_masks_the_callers_number(supervisor, alice):
    make_call("c1", "13900000001", BJ(9), answer=5, hangup=60, agent=alice)
    text = supervisor.get(
        reverse("dashboard:drill", args=["calls.offered"]), {**DAY, "format": "csv"}
    ).content.decode("utf-8-sig")
    assert "139****0001" in text and "13900000001" not in text


def test_the_drill_down_page_shows_the_payloads_as_text(supervisor, payload_order):
    page = supervisor.get(reverse("dashboard:drill", args=["orders.all"]), DAY).content.decode()
    assert "<script>window.__xss" not in page
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    assert not DisclosureLog.objects.exists()  # a page is not an export


def test_the_report_and_breach_exports_are_logged_too(supervisor, dave):
    supervisor.get(reverse("dashboard:report"), {**DAY, "format": "csv", "table": "summary"})
    supervisor.get(reverse("dashboard:breaches"), {"format": "xlsx"})
    logs = list(DisclosureLog.objects.order_by("at", "id"))
    assert [(log.export, log.field) for log in logs] == [
        ("report-2024-03-04-2024-03-04-summary.csv", ""),
        ("breaches.xlsx", ""),
    ]
    assert logs[0].rows > 0 and logs[1].rows == 0
