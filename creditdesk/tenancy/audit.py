from typing import Any

from django.http import HttpRequest

from creditdesk.tenancy.models import AuditLog


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
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
