from django.contrib import admin

from creditdesk.tenancy.models import AuditLog


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
