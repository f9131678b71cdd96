from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
SPENDERS = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})
