from typing import Any

from django.conf import settings
from django.http import HttpRequest

from creditdesk.tenancy.models import AuditLog


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the throttles see it: X-Forwarded-For counts only behind NUM_PROXIES proxies."""
    if request is None:
        return None
    forwarded = [
        hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()
    ]
    if settings.NUM_PROXIES and forwarded:
        return forwarded[-min(settings.NUM_PROXIES, len(forwarded))]
    return request.META.get("REMOTE_ADDR") or None


def record_audit(
    *,
    account: Any,
    action: str,
    actor: Any = None,
    target: str = "",
    changes: dict | None = None,
    ip_address: str | None = None,
) -> AuditLog:
    return AuditLog.objects.create(
        account=account,
        actor=actor if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target=target,
        changes=changes or {},
        ip_address=ip_address,
    )
