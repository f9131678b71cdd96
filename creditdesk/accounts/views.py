from collections.abc import Sequence

from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from creditdesk.accounts import selectors
from creditdesk.accounts.filters import AuditLogFilter
from creditdesk.accounts.models import Account, User
from creditdesk.accounts.serializers import (
    AcceptInvitationSerializer,
    AccountSerializer,
    AccountSettingsUpdateSerializer,
    AuditLogSerializer,
    DetailSerializer,
    InvitationLookupQuerySerializer,
    InvitationLookupSerializer,
    InvitationSerializer,
    InviteSerializer,
    LoginSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    RoleSerializer,
    SessionSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from creditdesk.accounts.services import auth, team
from creditdesk.accounts.services import settings as account_settings
from creditdesk.core.serializers import validated
from creditdesk.core.throttling import LoginIPThrottle
from creditdesk.tenancy.audit import client_ip
from creditdesk.tenancy.permissions import IsAccountManager, ManagersWriteMembersRead
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.views import AccountScopedMixin


class NeverStoredMixin:
    """Responses that carry tokens or passwords are never kept by a browser or a proxy cache."""

    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        add_never_cache_headers(response)
        return response


class SignedOutView(NeverStoredMixin, APIView):
    """For someone not signed in: no authentication, open to all, throttled per IP like sign-in."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: Sequence[type[BaseThrottle]] = [LoginIPThrottle]


RESET_SENT = "If the address has an account, a reset link is on its way."


def me_payload(user: User, account: Account | None) -> dict:
    return {"user": UserSerializer(user).data, "account": AccountSerializer(account).data}


def session_payload(user: User) -> dict:
    pair = auth.start_session(user=user)
    return {"access": pair.access, "refresh": pair.refresh, **me_payload(user, user.account)}


@extend_schema_view(
    post=extend_schema(
        summary="Create an account",
        description=(
            "Signs up a new customer: creates the account on the default plan with its first owner, "
            "grants the plan's first monthly credits and returns a session (access and refresh tokens, "
            "the user and the account). Throttled per IP. A taken email or a weak password is a 400 "
            "naming the field."
        ),
    ),
)
class RegisterView(SignedOutView):
    @extend_schema(request=RegisterSerializer, responses={201: SessionSerializer})
    def post(self, request: Request) -> Response:
        data = validated(RegisterSerializer, request.data)
        user, _account = auth.register_account(**data, ip=client_ip(request))
        return Response(session_payload(user), status=status.HTTP_201_CREATED)


class LoginView(SignedOutView):
    @extend_schema(
        summary="Sign in",
        description=(
            "429 once an IP sends LOGIN_RATE_LIMIT requests, or once one IP has that many failures for one "
            "email; failures from other IPs never lock the address out."
        ),
        request=LoginSerializer,
        responses=SessionSerializer,
    )
    def post(self, request: Request) -> Response:
        data = validated(LoginSerializer, request.data)
        user = auth.login(email=data["email"], password=data["password"], ip=client_ip(request))
        return Response(session_payload(user))


class RefreshView(SignedOutView):
    throttle_classes = APIView.throttle_classes  # the API's default limit, not sign-in's

    @extend_schema(
        summary="Rotate a refresh token",
        description=(
            "Answers a new pair and blacklists the token sent, atomically: of parallel calls with one "
            "token exactly one succeeds, and a rotated token is refused (401). No chain outlives "
            "SESSION_MAX_AGE_DAYS from its sign-in; a password change refuses every earlier token."
        ),
        request=RefreshSerializer,
        responses=TokenPairSerializer,
    )
    def post(self, request: Request) -> Response:
        data = validated(RefreshSerializer, request.data)
        pair = auth.refresh_session(raw_refresh=data["refresh"], ip=client_ip(request))
        return Response({"access": pair.access, "refresh": pair.refresh})


@extend_schema_view(
    post=extend_schema(
        summary="Sign out",
        description=(
            "Blacklists the given refresh token so it can never be used again. The access token expires "
            "on its own within minutes."
        ),
    ),
)
class LogoutView(SignedOutView):
    throttle_classes = APIView.throttle_classes  # the API's default limit, not sign-in's

    @extend_schema(request=RefreshSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        data = validated(RefreshSerializer, request.data)
        auth.end_session(raw_refresh=data["refresh"], ip=client_ip(request))
        return Response(None)


@extend_schema_view(
    get=extend_schema(
        summary="The signed-in user and account",
        description=(
            "Returns the user behind the token (with role) and their account (with plan and balance). "
            "The front end reads the role from here to decide what to show."
        ),
    ),
)
class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: TenantRequest) -> Response:
        return Response(me_payload(request.user, request.account))

    @extend_schema(
        summary="Edit your own name",
        description="Only first_name and last_name; any other field is a 400.",
        request=ProfileUpdateSerializer,
        responses=MeSerializer,
    )
    def patch(self, request: TenantRequest) -> Response:
        data = validated(ProfileUpdateSerializer, request.data)
        user = account_settings.update_profile(user=request.user, data=data, ip=client_ip(request))
        return Response(me_payload(user, request.account))


class PasswordChangeView(NeverStoredMixin, APIView):
    throttle_classes = [LoginIPThrottle]

    @extend_schema(
        summary="Change your password",
        description=(
            "Needs the current password. Every other session ends at once (its access and refresh tokens "
            "are refused); the answer carries new tokens for this one."
        ),
        request=PasswordChangeSerializer,
        responses=SessionSerializer,
    )
    def post(self, request: TenantRequest) -> Response:
        data = validated(PasswordChangeSerializer, request.data)
        user = auth.change_password(user=request.user, **data, ip=client_ip(request))
        return Response(session_payload(user))


class PasswordResetRequestView(SignedOutView):
    @extend_schema(
        summary="Mail a password-reset link",
        description=(
            "The same answer whether or not the address has an account. An active member with a password "
            "gets a link that works once, for PASSWORD_RESET_TIMEOUT_MINUTES."
        ),
        request=PasswordResetRequestSerializer,
        responses=DetailSerializer,
    )
    def post(self, request: Request) -> Response:
        data = validated(PasswordResetRequestSerializer, request.data)
        auth.request_password_reset(email=data["email"], ip=client_ip(request))
        return Response({"detail": RESET_SENT})


class PasswordResetConfirmView(SignedOutView):
    @extend_schema(
        summary="Set a new password from a reset link",
        description="`uid` and `token` come from the mailed link. Every session of the user ends.",
        request=PasswordResetConfirmSerializer,
        responses=DetailSerializer,
    )
    def post(self, request: Request) -> Response:
        data = validated(PasswordResetConfirmSerializer, request.data)
        auth.confirm_password_reset(**data, ip=client_ip(request))
        return Response({"detail": "Your password is set: sign in with it."})


@extend_schema_view(
    post=extend_schema(
        summary="Accept an invitation",
        description=(
            "The invited person chooses a password (and optionally a name) with the token from the "
            "invitation email; the member becomes active and a session is returned. A wrong, used, "
            "revoked or expired token is a 400 on `token`. Throttled per IP."
        ),
    ),
)
class AcceptInvitationView(SignedOutView):
    @extend_schema(request=AcceptInvitationSerializer, responses=SessionSerializer)
    def post(self, request: Request) -> Response:
        data = validated(AcceptInvitationSerializer, request.data)
        user = team.accept_invitation(**data, ip=client_ip(request))
        return Response(session_payload(user))


class InvitationLookupView(SignedOutView):
    @extend_schema(
        summary="Look up an invitation by its token",
        description=(
            "What the invitation page shows before the invitee chooses a password: the account, who "
            "invited them, the invited email, the role and when the link expires. Only the token from the "
            "email finds anything; a wrong, used, revoked or expired token is a 404. Throttled per IP like "
            "sign-in."
        ),
        parameters=[InvitationLookupQuerySerializer],
        responses=InvitationLookupSerializer,
    )
    def get(self, request: Request) -> Response:
        token = validated(InvitationLookupQuerySerializer, request.query_params.dict())["token"]
        return Response(InvitationLookupSerializer(team.lookup_invitation(token=token)).data)


@extend_schema_view(
    get=extend_schema(
        summary="Account settings",
        description=(
            "The account's name, billing email, billing address, country, tax ID, plan and balance. Any "
            "member may read them."
        ),
    ),
    patch=extend_schema(
        summary="Update account settings",
        description=(
            "Owners and admins change the account name and billing details; only the fields sent "
            "change. `billing_country` is an ISO 3166-1 alpha-2 code. Any other field (credits, plan, "
            "slug...) is a 400 naming it."
        ),
    ),
)
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
        account = account_settings.update_account_settings(
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
        invitation, _token = team.invite_member(
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
        invitation = team.resend_invitation(
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
        team.revoke_invitation(
            account=request.account, actor=request.user, invitation_id=invitation_id, ip=client_ip(request)
        )
        return Response(None)


@extend_schema_view(
    patch=extend_schema(
        summary="Change a member's role",
        description=(
            "Owners change any role; admins only between member and viewer. Nobody changes their own "
            "role, and the last owner cannot be demoted."
        ),
    ),
    delete=extend_schema(
        summary="Remove a member",
        description=(
            "Removes the member from the account: their access ends at once (tokens refused, refresh "
            "tokens blacklisted). Nobody removes themselves, admins never remove owners or admins, the "
            "last owner stays."
        ),
    ),
)
class TeamMemberView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(request=RoleSerializer, responses=UserSerializer)
    def patch(self, request: TenantRequest, member_id: int) -> Response:
        data = validated(RoleSerializer, request.data)
        member = team.change_member_role(
            account=request.account,
            actor=request.user,
            member_id=member_id,
            role=data["role"],
            ip=client_ip(request),
        )
        return Response(UserSerializer(member).data)

    @extend_schema(responses={200: None})
    def delete(self, request: TenantRequest, member_id: int) -> Response:
        team.remove_member(
            account=request.account, actor=request.user, member_id=member_id, ip=client_ip(request)
        )
        return Response(None)


@extend_schema_view(
    get=extend_schema(
        summary="The account's audit log",
        description=(
            "Owners and admins read who changed what (settings, team, purchases, payments), newest "
            "first, with the actor's email and IP address."
        ),
    ),
)
class AuditLogListView(AccountScopedMixin, ListAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter
    selector = selectors.audit_log_list
