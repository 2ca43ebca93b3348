"""The taxonomy 95598 centres use below the five categories (seeded once; then it is data).

(category, code, name, counted_separately, [(detail code, detail name), ...])
"""

TAXONOMY = [
    ("repair", "repair-hv", "高压故障", False, [("repair-hv-line", "高压线路故障"), ("repair-hv-transformer", "配变故障")]),
    ("repair", "repair-lv", "低压故障", False, [
        ("repair-lv-one", "一户无电"), ("repair-lv-many", "多户无电"), ("repair-lv-area", "台区停电"),
        ("repair-lv-line-down", "线路断落"),
    ]),
    ("repair", "repair-customer", "客户内部故障", False, []),
    ("repair", "repair-non-power", "非电力故障", False, []),
    ("repair", "repair-meter", "计量故障", False, [("repair-meter-burnt", "电能表烧坏"), ("repair-meter-stopped", "电能表停走")]),
    ("repair", "repair-quality", "电能质量故障", False, [("repair-quality-low", "电压偏低"), ("repair-quality-high", "电压偏高")]),
    ("inquiry", "inquiry-tariff", "电价电费", False, []),
    ("inquiry", "inquiry-payment", "缴费渠道", False, []),
    ("inquiry", "inquiry-outage", "停电信息", False, []),
    ("inquiry", "inquiry-procedure", "业务办理", False, []),
    ("inquiry", "inquiry-policy", "政策法规", False, []),
    ("inquiry", "inquiry-opinion", "意见", True, []),
    ("inquiry", "inquiry-suggestion", "建议", True, []),
    ("inquiry", "inquiry-praise", "表扬", True, []),
    ("application", "app-new", "新装", False, []),
    ("application", "app-increase", "增容", False, []),
    ("application", "app-change", "变更用电", False, []),
    ("application", "app-temporary", "临时用电", False, []),
    ("application", "app-reconnect", "欠费复电", False, []),
    ("application", "app-meter-check", "电能表校验", False, []),
    ("application", "app-appliance", "电器损坏", False, []),
    ("complaint", "complaint-conduct", "服务行为", False, []),
    ("complaint", "complaint-outage", "停电问题", False, []),
    ("complaint", "complaint-repair", "抢修质量", False, []),
    ("complaint", "complaint-quality", "供电质量", False, []),
    ("complaint", "complaint-billing", "电价电费", False, []),
    ("complaint", "complaint-reading", "抄表催费", False, []),
    ("complaint", "complaint-metering", "电能计量", False, []),
    ("complaint", "complaint-expansion", "业扩工程", False, []),
    ("report", "report-theft", "窃电/违约用电", False, []),
    ("report", "report-integrity", "行风廉政", False, []),
    ("report", "report-facilities", "破坏或偷盗电力设施", False, []),
]
