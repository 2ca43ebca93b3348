"""Integration clients in the admin: create one (its token is shown once), change its
scopes, revoke it, or issue a new token. Only the token's hash is ever stored."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient, IdempotencyRecord, Scope
from api.services import (
    api_client_create,
    api_client_revoke,
    api_client_rotate_token,
    api_client_set_scopes,
)


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiClient
        fields = ["name", "scopes", "note"]


def _show_token(request, client: ApiClient, token: str) -> None:
    messages.warning(
        request,
        format_html(
            "{} <code style='user-select:all'>{}</code>",
            gettext("Token of “%(name)s” — copy it now, it is not shown again:")
            % {"name": client.name},
            token,
        ),
    )


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = [
        "name",
        "scope_list",
        "token_prefix",
        "is_active",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "note"]
    readonly_fields = ["token_prefix", "is_active", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke", "rotate_token"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiClient) -> str:
        return ", ".join(obj.scopes or [])

    def save_model(self, request, obj: ApiClient, form, change: bool) -> None:
        scopes = form.cleaned_data.get("scopes") or []
        if change:
            api_client_set_scopes(client=obj, scopes=scopes)
            obj.save(update_fields=["name", "note"])
            return
        # The same service as the command line; the clear token lives only in this message.
        client, token = api_client_create(name=obj.name, scopes=scopes, note=obj.note)
        obj.pk, obj.token_prefix, obj.created_at = client.pk, client.token_prefix, client.created_at
        obj._state.adding = False
        _show_token(request, client, token)

    @admin.action(description=_("Revoke the selected clients' tokens"))
    def revoke(self, request, queryset) -> None:
        count = sum(api_client_revoke(client=client) for client in queryset)
        self.message_user(
            request,
            ngettext("%(count)d client revoked.", "%(count)d clients revoked.", count)
            % {"count": count},
        )

    @admin.action(description=_("Issue a new token (the old one stops working)"))
    def rotate_token(self, request, queryset) -> None:
        for client in queryset:
            _show_token(request, client, api_client_rotate_token(client=client))


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Read-only: what a client's key was first answered, for support questions."""

    list_display = ["client", "key", "status_code", "created_at"]
    list_filter = ["client"]
    search_fields = ["key"]
    list_select_related = ["client"]
    readonly_fields = ["client", "key", "fingerprint", "status_code", "response_body", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
