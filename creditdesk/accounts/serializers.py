import pycountry
from rest_framework import serializers

from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.accounts.services.settings import EDITABLE_SETTINGS
from creditdesk.accounts.text import PlainTextField, refuse_control_characters
from creditdesk.billing.models import Plan
from creditdesk.core.serializers import StrictInputSerializer, StrictModelSerializer
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)


class PlanSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "name", "slug", "credits_per_month", "max_users", "price_monthly"]


class AccountSerializer(serializers.ModelSerializer):
    billing_email = serializers.CharField(read_only=True)  # may be blank: not `format: email` in the schema
    credit_balance = serializers.IntegerField(source="credits", read_only=True)
    plan = PlanSummarySerializer(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "slug", *EDITABLE_SETTINGS, "credit_balance", "plan", "created_at", "updated_at"]
        read_only_fields = fields


class AccountSettingsUpdateSerializer(StrictModelSerializer):
    class Meta:
        model = Account
        fields = list(EDITABLE_SETTINGS)
        extra_kwargs = {field: {"validators": [refuse_control_characters]} for field in EDITABLE_SETTINGS}

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The account name may not be blank.")
        return value.strip()

    def validate_billing_country(self, value: str) -> str:
        code = value.strip().upper()
        if code and code not in COUNTRY_CODES:
            raise serializers.ValidationError("Enter an ISO 3166-1 alpha-2 country code, such as US or DE.")
        return code


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "is_active",
            "is_staff",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields


class RegisterSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    account_name = PlainTextField(max_length=120)
    first_name = PlainTextField(max_length=150, required=False, allow_blank=True, default="")
    last_name = PlainTextField(max_length=150, required=False, allow_blank=True, default="")


class LoginSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class RefreshSerializer(StrictInputSerializer):
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class SessionSerializer(TokenPairSerializer):
    user = UserSerializer()
    account = AccountSerializer()


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    account = AccountSerializer()


class AcceptInvitationSerializer(StrictInputSerializer):
    token = serializers.CharField()
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    first_name = PlainTextField(max_length=150, required=False, allow_blank=True, default="")
    last_name = PlainTextField(max_length=150, required=False, allow_blank=True, default="")


class InviteSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)
    first_name = PlainTextField(max_length=150, required=False, allow_blank=True, default="")
    last_name = PlainTextField(max_length=150, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Role.choices, required=False, default=Role.MEMBER)


class RoleSerializer(StrictInputSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = ["id", "actor_email", "action", "target", "changes", "ip_address", "created_at"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    """A pending invitation; the same shape whoever the address belongs to."""

    status = serializers.SerializerMethodField()
    invited_by_email = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by_email", "created_at", "expires_at"]
        read_only_fields = fields

    def get_status(self, invitation: Invitation) -> str:
        return "pending" if invitation.is_usable() else "expired"

    def get_invited_by_email(self, invitation: Invitation) -> str:
        return invitation.invited_by.email if invitation.invited_by else ""


class InvitationLookupQuerySerializer(StrictInputSerializer):
    token = serializers.CharField(max_length=200)


class InvitationLookupSerializer(serializers.Serializer):
    account_name = serializers.CharField()
    invited_by = serializers.CharField(help_text="Who sent it: their name, or their email.")
    email = serializers.EmailField(help_text="The address invited: it becomes the sign-in email.")
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()


class ProfileUpdateSerializer(StrictModelSerializer):
    """The signed-in user's own name; email, role and staff flags are not theirs to set."""

    first_name = PlainTextField(max_length=150, required=False, allow_blank=True)
    last_name = PlainTextField(max_length=150, required=False, allow_blank=True)

    class Meta:
        model = User
        fields = ["first_name", "last_name"]


class PasswordChangeSerializer(StrictInputSerializer):
    current_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class PasswordResetRequestSerializer(StrictInputSerializer):
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmSerializer(StrictInputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
