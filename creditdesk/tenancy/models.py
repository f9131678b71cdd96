from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """Who did what to which object of an account, from where. Append-only.

    It lives in tenancy, below accounts and billing, so that both can write it without importing each
    other.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="audit_logs")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.EmailField(blank=True)  # kept when the actor is later removed
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="audit_account_recent")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target} by {self.actor_email or 'system'}"
