"""The account's service credentials: API keys (`account/api-keys/`) and members' spending caps
(`account/team/<id>/spending-caps/`). Owners and admins only, and only with a signed-in session: an API
key never manages keys. The key model and its authentication live in tenancy; caps in billing."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.accounts.models import Account, User
from creditdesk.billing.services import caps
from creditdesk.core.errors import NotFound, PermissionDenied
from creditdesk.core.serializers import StrictInputSerializer, validated
from creditdesk.tenancy import api_keys
from creditdesk.tenancy.audit import client_ip
from creditdesk.tenancy.models import ApiKey, ApiKeyScope, MemberCreditCap
from creditdesk.tenancy.permissions import IsAccountManager
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.roles import Role
from creditdesk.tenancy.views import AccountScopedMixin

MAX_CAP = 2**62


def scopes_field(**kwargs: Any) -> serializers.ListField:
    """A key's scopes: the schema (and the front end's types) name each one."""
    return serializers.ListField(child=serializers.ChoiceField(choices=ApiKeyScope.choices), **kwargs)


def cap_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_CAP, required=False, allow_null=True, **kwargs)


def api_key_list(*, account: Account) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(account=account).select_related("created_by").order_by("-created_at", "-id")


class ApiKeySerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    scopes = scopes_field(read_only=True)
    status = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    creator_removed = serializers.SerializerMethodField()
    spent_today = serializers.SerializerMethodField()
    spent_this_month = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "status",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "created_at",
            "created_by",
            "creator_removed",
            "daily_credit_cap",
            "monthly_credit_cap",
            "spent_today",
            "spent_this_month",
        ]
        read_only_fields = fields

    def get_status(self, obj: ApiKey) -> str:
        return obj.status()

    def get_created_by(self, obj: ApiKey) -> str:
        return obj.created_by_email

    def get_creator_removed(self, obj: ApiKey) -> bool:
        """True once the member who made the key left the account: the key still works (see README)."""
        creator = obj.created_by
        return creator is None or creator.account_id != obj.account_id or not creator.is_active

    def _spent(self, obj: ApiKey) -> dict[str, int] | None:
        if obj.daily_credit_cap is None and obj.monthly_credit_cap is None:
            return None
        return caps.counter_spent(subject=f"key:{obj.pk}")

    def get_spent_today(self, obj: ApiKey) -> int | None:
        spent = self._spent(obj)
        return None if spent is None else spent["day"]

    def get_spent_this_month(self, obj: ApiKey) -> int | None:
        spent = self._spent(obj)
        return None if spent is None else spent["month"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The secret, shown this once: only a keyed hash of it is stored."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    scopes = scopes_field(min_length=1)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    daily_credit_cap = cap_field(default=None)
    monthly_credit_cap = cap_field(default=None)


class ApiKeyUpdateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    daily_credit_cap = cap_field()
    monthly_credit_cap = cap_field()


class MemberCapSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(read_only=True)
    daily_credit_cap = serializers.IntegerField(read_only=True, allow_null=True)
    monthly_credit_cap = serializers.IntegerField(read_only=True, allow_null=True)
    spent_today = serializers.IntegerField(read_only=True)
    spent_this_month = serializers.IntegerField(read_only=True)


class MemberCapUpdateSerializer(StrictInputSerializer):
    daily_credit_cap = serializers.IntegerField(min_value=0, max_value=2**62, allow_null=True)
    monthly_credit_cap = serializers.IntegerField(min_value=0, max_value=2**62, allow_null=True)


def _key_with_secret(issued: api_keys.IssuedKey) -> dict:
    data = dict(ApiKeySerializer(issued.api_key).data)
    data["key"] = issued.secret
    return data


class ApiKeyListView(AccountScopedMixin, ListAPIView):
    """The account's API keys, revoked and expired ones included; never their secrets."""

    permission_classes = [IsAccountManager]
    serializer_class = ApiKeySerializer
    selector = api_key_list

    @extend_schema(summary="List the account's API keys (owners and admins)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create an API key (the secret is in this answer only)",
        description="Scopes: `usage:write` (meter and hold credits), `billing:read` (balance, transactions, "
        "usage). Optional `expires_at` and daily/monthly credit caps. The answer's `key` "
        "(`cdk_live_...`) is shown once; store it in the service's secrets.",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
    )
    def post(self, request: TenantRequest) -> Response:
        data = validated(ApiKeyCreateSerializer, request.data)
        issued = api_keys.create_account_key(
            account=request.account, actor=request.user, ip=client_ip(request), **data
        )
        return Response(_key_with_secret(issued), status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    permission_classes = [IsAccountManager]

    def _key(self, request: TenantRequest, key_id: int) -> ApiKey:
        api_key = api_key_list(account=request.account).filter(pk=key_id).first()
        if api_key is None:
            raise NotFound("No such API key.")
        return api_key

    @extend_schema(
        summary="One API key (never its secret)",
        description=(
            "An account key by id: its name, prefix, scopes, credit caps, what it spent today and this "
            "month, expiry and last use. The secret is shown only once, at creation."
        ),
        responses=ApiKeySerializer,
    )
    def get(self, request: TenantRequest, key_id: int) -> Response:
        return Response(ApiKeySerializer(self._key(request, key_id)).data)

    @extend_schema(
        summary="Rename an API key or change its credit caps",
        description="A cap set where there was none counts what the key already spent this day and month.",
        request=ApiKeyUpdateSerializer,
        responses=ApiKeySerializer,
    )
    def patch(self, request: TenantRequest, key_id: int) -> Response:
        changes = validated(ApiKeyUpdateSerializer, request.data)
        caps.update_api_key(
            account=request.account, actor=request.user, key_id=key_id, changes=changes, ip=client_ip(request)
        )
        return Response(ApiKeySerializer(self._key(request, key_id)).data)

    @extend_schema(
        summary="Revoke an API key",
        description="The key is refused (401) from the very next request. The row stays, for the usage it "
        "attributes.",
        responses=ApiKeySerializer,
    )
    def delete(self, request: TenantRequest, key_id: int) -> Response:
        api_keys.revoke_account_key(
            account=request.account, actor=request.user, key_id=key_id, ip=client_ip(request)
        )
        return Response(ApiKeySerializer(self._key(request, key_id)).data)


def _cap_payload(cap: MemberCreditCap, member: User) -> dict:
    spent = caps.counter_spent(subject=f"member:{member.pk}")
    capped = cap.daily_credit_cap is not None or cap.monthly_credit_cap is not None
    return {
        "member_id": member.pk,
        "daily_credit_cap": cap.daily_credit_cap,
        "monthly_credit_cap": cap.monthly_credit_cap,
        "spent_today": spent["day"] if capped else 0,
        "spent_this_month": spent["month"] if capped else 0,
    }


class MemberSpendingCapView(APIView):
    """A member's own daily and monthly credit caps (what they meter with their session, not with keys)."""

    permission_classes = [IsAccountManager]

    def _member(self, request: TenantRequest, member_id: int) -> User:
        member = User.objects.filter(account=request.account, pk=member_id).first()
        if member is None:
            raise NotFound("No such member.")
        return member

    @extend_schema(summary="A member's spending caps and what they spent", responses=MemberCapSerializer)
    def get(self, request: TenantRequest, member_id: int) -> Response:
        member = self._member(request, member_id)
        return Response(_cap_payload(caps.member_caps(account=request.account, member=member), member))

    @extend_schema(
        summary="Set a member's daily and monthly credit caps (null: no cap)",
        description="Only an owner may cap an owner. A deduction that would pass a cap is a 402 naming it.",
        request=MemberCapUpdateSerializer,
        responses=MemberCapSerializer,
    )
    def put(self, request: TenantRequest, member_id: int) -> Response:
        data = validated(MemberCapUpdateSerializer, request.data)
        member = self._member(request, member_id)
        if member.role == Role.OWNER and request.user.role != Role.OWNER:
            raise PermissionDenied("Only an owner may set an owner's spending caps.")
        cap = caps.set_member_caps(
            account=request.account, actor=request.user, member=member, ip=client_ip(request), **data
        )
        return Response(_cap_payload(cap, member))
