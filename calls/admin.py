from django.contrib import admin

from calls.models import Call


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "call_id",
        "caller_phone",
        "agent",
        "ring_at",
        "answer_at",
        "hangup_at",
        "disposition",
    ]
    list_filter = ["disposition"]
    search_fields = ["call_id", "caller_phone"]
    list_select_related = ["agent"]
    show_full_result_count = False
