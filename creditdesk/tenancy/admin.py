from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from creditdesk.tenancy.api_keys import create_platform_key, key_audit_target
from creditdesk.tenancy.audit import AuditAction, client_ip, record_audit
from creditdesk.tenancy.models import ApiKey, ApiKeyScope, AuditLog

if TYPE_CHECKING:
    from creditdesk.accounts.models import User


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "actor_email", "action", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_email", "target", "account__name"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


def _staff(request: HttpRequest) -> "User":
    """The signed-in user of an admin page: the admin site serves active staff only."""
    return cast("User", request.user)


class PlatformKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices, initial=list(ApiKeyScope.values), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff add platform keys here (the secret is shown once, in the confirmation message) and may revoke
    any key. Keys are never edited or deleted: usage and ledger rows point at them."""

    list_display = [
        "name",
        "display_prefix",
        "kind",
        "account",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["kind"]
    search_fields = ["name", "prefix", "account__name"]
    actions = ["revoke"]
    readonly_fields = [
        "kind",
        "account",
        "name",
        "display_prefix",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_by_email",
        "daily_credit_cap",
        "monthly_credit_cap",
        "created_at",
    ]
    exclude = ["key_hash", "prefix", "created_by"]

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            return PlatformKeyForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_fieldsets(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["name", "scopes", "expires_at"]})]
        return [(None, {"fields": self.readonly_fields})]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:  # every field is read-only once created
            return
        issued = create_platform_key(
            name=form.cleaned_data["name"],
            scopes=list(form.cleaned_data["scopes"]),
            expires_at=form.cleaned_data.get("expires_at"),
            actor=_staff(request),
        )
        obj.pk = issued.api_key.pk
        messages.warning(
            request,
            f"Platform key {issued.api_key.display_prefix}… created. Copy its secret now, it is not shown "
            f"again: {issued.secret}",
        )

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

    @admin.action(description="Revoke the selected keys (refused from their next request)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        now = timezone.now()
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key.revoked_at = now
            api_key.save(update_fields=["revoked_at", "updated_at"])
            revoked += 1
            if api_key.account is not None:
                record_audit(
                    account=api_key.account,
                    actor=_staff(request),
                    action=AuditAction.API_KEY_REVOKED,
                    target=key_audit_target(api_key),
                    changes={"by_staff": True},
                    ip_address=client_ip(request),
                )
        self.message_user(request, f"{revoked} key(s) revoked.")
