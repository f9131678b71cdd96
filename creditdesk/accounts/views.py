from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from creditdesk.accounts import selectors, services
from creditdesk.accounts.filters import AuditLogFilter
from creditdesk.accounts.models import User
from creditdesk.accounts.serializers import (
    AcceptInvitationSerializer,
    AccountSerializer,
    AccountSettingsUpdateSerializer,
    AuditLogSerializer,
    InvitationSerializer,
    InviteSerializer,
    LoginSerializer,
    MeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    RoleSerializer,
    SessionSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from creditdesk.core.errors import ApplicationError
from creditdesk.core.serializers import validated
from creditdesk.core.throttling import LoginEmailThrottle, LoginIPThrottle
from creditdesk.tenancy.audit import client_ip
from creditdesk.tenancy.authentication import is_active_member
from creditdesk.tenancy.permissions import IsAccountManager, ManagersWriteMembersRead
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.views import AccountScopedMixin


class TokenRefused(ApplicationError):
    status_code = 401


def session_payload(user: User) -> dict:
    tokens = services.issue_tokens(user)
    return {
        "access": tokens.access,
        "refresh": tokens.refresh,
        "user": UserSerializer(user).data,
        "account": AccountSerializer(user.account).data,
    }


class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIPThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: SessionSerializer})
    def post(self, request: Request) -> Response:
        data = validated(RegisterSerializer, request.data)
        user, _account = services.register_account(**data, ip=client_ip(request))
        return Response(session_payload(user), status=status.HTTP_201_CREATED)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIPThrottle, LoginEmailThrottle]

    @extend_schema(request=LoginSerializer, responses=SessionSerializer)
    def post(self, request: Request) -> Response:
        data = validated(LoginSerializer, request.data)
        user = services.login(email=data["email"], password=data["password"], ip=client_ip(request))
        return Response(session_payload(user))


class RefreshView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=RefreshSerializer, responses=TokenPairSerializer)
    def post(self, request: Request) -> Response:
        data = validated(RefreshSerializer, request.data)
        try:
            user_id = RefreshToken(data["refresh"]).payload.get("user_id")
            user = User.objects.select_related("account").filter(pk=user_id).first() if user_id else None
            if user is None or not is_active_member(user):
                raise TokenError("This user no longer belongs to an active account.")
            refreshed = TokenRefreshSerializer(data={"refresh": data["refresh"]})
            refreshed.is_valid(raise_exception=True)
        except TokenError as exc:
            raise TokenRefused("The refresh token is invalid, expired or revoked.") from exc
        return Response(refreshed.validated_data)


class LogoutView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=RefreshSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        data = validated(RefreshSerializer, request.data)
        try:
            RefreshToken(data["refresh"]).blacklist()
        except TokenError as exc:
            raise TokenRefused("The refresh token is invalid, expired or revoked.") from exc
        return Response(None)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: TenantRequest) -> Response:
        return Response(
            {"user": UserSerializer(request.user).data, "account": AccountSerializer(request.account).data}
        )


class AcceptInvitationView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIPThrottle]

    @extend_schema(request=AcceptInvitationSerializer, responses=SessionSerializer)
    def post(self, request: Request) -> Response:
        data = validated(AcceptInvitationSerializer, request.data)
        user = services.accept_invitation(**data, ip=client_ip(request))
        return Response(session_payload(user))


class AccountSettingsView(APIView):
    permission_classes = [ManagersWriteMembersRead]

    @extend_schema(responses=AccountSerializer)
    def get(self, request: TenantRequest) -> Response:
        return Response(AccountSerializer(request.account).data)

    @extend_schema(request=AccountSettingsUpdateSerializer, responses=AccountSerializer)
    def patch(self, request: TenantRequest) -> Response:
        serializer = AccountSettingsUpdateSerializer(
            instance=request.account, data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        account = services.update_account_settings(
            account=request.account, actor=request.user, data=serializer.validated_data, ip=client_ip(request)
        )
        return Response(AccountSerializer(account).data)


@extend_schema_view(
    get=extend_schema(
        summary="List the members who joined",
        description="Pending invitees are listed by `GET account/invitations/`.",
    )
)
class TeamListView(AccountScopedMixin, ListAPIView):
    permission_classes = [ManagersWriteMembersRead]
    serializer_class = UserSerializer
    selector = selectors.team_member_list

    @extend_schema(
        summary="Invite a member",
        description=(
            "Mails a single-use link valid for INVITATION_TTL_DAYS and answers the pending invitation. "
            "An address that belongs to another account or to staff gets the same answer (nothing is "
            "mailed to it and it can never be accepted). 429 past INVITATION_ACCOUNT_RATE_LIMIT or "
            "INVITATION_RECIPIENT_RATE_LIMIT."
        ),
        request=InviteSerializer,
        responses={201: InvitationSerializer},
    )
    def post(self, request: TenantRequest) -> Response:
        data = validated(InviteSerializer, request.data)
        invitation, _token = services.invite_member(
            account=request.account, inviter=request.user, ip=client_ip(request), **data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        summary="List pending invitations",
        description="Invitations neither accepted nor revoked, newest first; `status` is pending or expired.",
    )
)
class InvitationListView(AccountScopedMixin, ListAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = InvitationSerializer
    selector = selectors.pending_invitation_list


class InvitationResendView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(
        summary="Resend a pending invitation",
        description="Mails a new link (the old one stops working) valid for INVITATION_TTL_DAYS from now.",
        request=None,
        responses=InvitationSerializer,
    )
    def post(self, request: TenantRequest, invitation_id: int) -> Response:
        invitation = services.resend_invitation(
            account=request.account, actor=request.user, invitation_id=invitation_id, ip=client_ip(request)
        )
        return Response(InvitationSerializer(invitation).data)


class InvitationView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(
        summary="Revoke a pending invitation",
        description="The link stops working and the seat is freed; an invitee who never joined is detached.",
        responses={200: None},
    )
    def delete(self, request: TenantRequest, invitation_id: int) -> Response:
        services.revoke_invitation(
            account=request.account, actor=request.user, invitation_id=invitation_id, ip=client_ip(request)
        )
        return Response(None)


class TeamMemberView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(request=RoleSerializer, responses=UserSerializer)
    def patch(self, request: TenantRequest, member_id: int) -> Response:
        data = validated(RoleSerializer, request.data)
        member = services.change_member_role(
            account=request.account,
            actor=request.user,
            member_id=member_id,
            role=data["role"],
            ip=client_ip(request),
        )
        return Response(UserSerializer(member).data)

    @extend_schema(responses={200: None})
    def delete(self, request: TenantRequest, member_id: int) -> Response:
        services.remove_member(
            account=request.account, actor=request.user, member_id=member_id, ip=client_ip(request)
        )
        return Response(None)


class AuditLogListView(AccountScopedMixin, ListAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter
    selector = selectors.audit_log_list
