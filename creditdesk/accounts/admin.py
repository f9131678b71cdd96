import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from rest_framework.exceptions import Throttled

from creditdesk.accounts import limits
from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.billing.services.ledger import InsufficientCredits, adjust_credits
from creditdesk.tenancy.audit import AuditAction, client_ip, record_audit


def staff_user(request: HttpRequest) -> User:
    """The signed-in user of an admin page: the admin site serves active staff only."""
    return cast(User, request.user)


def _too_many_attempts(wait: float | None) -> HttpResponse:
    seconds = max(1, int(wait or 60))
    response = HttpResponse(
        f"Too many sign-in attempts. Try again in {seconds} seconds.", status=429, content_type="text/plain"
    )
    response["Retry-After"] = str(seconds)
    return response


def throttled_login(login_view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin's sign-in, throttled like the API's: LOGIN_RATE_LIMIT attempts per IP, and as many
    failures per IP and username (guesses from elsewhere never lock the operator out)."""

    @wraps(login_view)
    def login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method != "POST":
            return login_view(request, extra_context)
        ip = client_ip(request) or "-"
        username = str(request.POST.get("username", "")).strip().lower()
        rate = settings.LOGIN_RATE_LIMIT
        failures = {
            "scope": "admin_login_failures",
            "ident": hashlib.sha256(f"{ip}|{username}".encode()).hexdigest(),
            "rate": rate,
        }
        try:
            limits.count(scope="admin_login_ip", ident=ip, rate=rate)
        except Throttled as exc:
            return _too_many_attempts(getattr(exc, "wait", None))
        wait = limits.is_exhausted(**failures)
        if wait is not None:
            return _too_many_attempts(wait)
        response = login_view(request, extra_context)
        if 300 <= response.status_code < 400:  # signed in: the login view redirects
            limits.reset(**failures)
        else:
            limits.count_only(**failures)
        return response

    return login


admin.site.login = throttled_login(admin.site.login)  # type: ignore[method-assign]


class AuditedAdminMixin:
    """Staff changes land in the account's own audit log (owners see them), not only in Django's."""

    audit_actions: dict[str, AuditAction]  # by verb: added, changed

    def audited_account(self, obj: Any) -> Account | None:
        raise NotImplementedError

    def _audit(self, request: HttpRequest, obj: Any, verb: str, message: Any) -> None:
        account = self.audited_account(obj)
        if account is None or account.pk is None:
            return
        record_audit(
            account=account,
            actor=staff_user(request),
            action=self.audit_actions[verb],
            target=str(obj)[:255],
            changes={"admin": message},
            ip_address=client_ip(request),
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        self._audit(request, obj, "added", message)
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        self._audit(request, obj, "changed", message)
        return entry


class AdjustCreditsForm(forms.Form):
    amount = forms.IntegerField(help_text="Signed: positive adds credits, negative takes them away.")
    reason = forms.CharField(max_length=255)

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment of zero changes nothing.")
        return amount


@admin.register(Account)
class AccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_actions = {"added": AuditAction.ADMIN_ACCOUNT_ADDED, "changed": AuditAction.ADMIN_ACCOUNT_CHANGED}
    list_display = ["name", "slug", "plan", "credits", "is_active", "created_at"]
    list_filter = ["plan", "is_active"]
    # A member's email finds their account: operators are usually given a person, not a company.
    search_fields = ["name", "slug", "billing_email", "members__email"]
    readonly_fields = ["credits", "created_at", "updated_at"]

    def audited_account(self, obj: Account) -> Account | None:
        return obj

    def get_urls(self) -> list:
        custom = [
            path(
                "<int:account_id>/adjust-credits/",
                self.admin_site.admin_view(self.adjust_credits_view),
                name="accounts_account_adjust_credits",
            )
        ]
        return custom + super().get_urls()

    def adjust_credits_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        if not request.user.has_perm("accounts.change_account"):
            raise PermissionDenied
        account = get_object_or_404(Account, pk=account_id)
        form = AdjustCreditsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            try:
                adjust_credits(account=account, amount=amount, reason=reason, created_by=staff_user(request))
            except InsufficientCredits as exc:
                form.add_error("amount", exc.message)
            else:
                record_audit(
                    account=account,
                    actor=staff_user(request),
                    action=AuditAction.CREDITS_ADJUSTED,
                    target=account.slug,
                    changes={"amount": amount, "reason": reason},
                    ip_address=client_ip(request),
                )
                self.message_user(request, f"Adjusted {account} by {amount:+d} credits.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:accounts_account_change", args=[account.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust credits of {account}",
            "form": form,
            "account": account,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/adjust_credits.html", context)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    audit_actions = {"added": AuditAction.ADMIN_USER_ADDED, "changed": AuditAction.ADMIN_USER_CHANGED}
    ordering = ["email"]
    list_display = ["email", "account", "role", "is_active", "is_staff", "date_joined"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "account", "role"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def audited_account(self, obj: User) -> Account | None:
        return obj.account


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "expires_at", "accepted_at", "revoked_at"]
    readonly_fields = ["token_hash"]
