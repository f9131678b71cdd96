"""Authentication that also fixes the tenant: request.account is the signed-in user's account."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from creditdesk.tenancy.api_keys import hash_secret, looks_like_key, touch_last_used
from creditdesk.tenancy.member_query import load_api_key, load_member
from creditdesk.tenancy.models import ApiKey
from creditdesk.tenancy.request import TenantRequest

if TYPE_CHECKING:
    from creditdesk.accounts.models import User

# The user's token_version when the token was issued; a password change bumps it (accounts.User).
TOKEN_VERSION_CLAIM = "tv"


def is_active_member(user: AbstractBaseUser) -> bool:
    """Active, and in an account that is active: the only users the API serves."""
    account = getattr(user, "account", None)
    return bool(user.is_active and account is not None and account.is_active)


def attach_account(request: Request, user: AbstractBaseUser) -> None:
    if not is_active_member(user):
        raise exceptions.AuthenticationFailed("This user no longer belongs to an active account.")
    request._request.account = user.account  # type: ignore[attr-defined]


class AccountJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> Any:  # simplejwt types it as its AuthUser TypeVar
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise exceptions.AuthenticationFailed(
                "Token contained no recognizable user identification."
            ) from exc
        # One primary-key query for the user, the account, its plan and the member's spending caps
        # (metering reads them), on every request.
        user = load_member(user_id=user_id, id_field_name=api_settings.USER_ID_FIELD)
        if user is None:
            raise exceptions.AuthenticationFailed("User not found.")
        if validated_token.get(TOKEN_VERSION_CLAIM, 0) != getattr(user, "token_version", 0):
            raise exceptions.AuthenticationFailed("The token was revoked: sign in again.")
        return user

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            attach_account(request, result[0])
        return result


class AccountSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            attach_account(request, result[0])
        return result


MAX_KEY_LENGTH = 128


class ApiKeyPrincipal:
    """request.user for a request made with an API key: authenticated, but no member and no seat.

    It has no pk and no role, so nothing can save it as a user or grant it a member's rights; views that
    accept keys read the key from request.auth (see acting_member / acting_key).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    role = None
    email = ""

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key

    @property
    def throttle_ident(self) -> str:
        """Throttles count per key, not per (absent) user."""
        return f"apikey:{self.api_key.pk}"

    def __str__(self) -> str:
        return f"API key {self.api_key.display_prefix}"


def _named_account_ref(request: Request) -> tuple[str, bool]:
    """The account a platform key names: X-Account, else `account` in a JSON body."""
    header = request.META.get("HTTP_X_ACCOUNT", "").strip()
    data = request.data if request.method not in ("GET", "HEAD", "OPTIONS") else None
    in_body = isinstance(data, dict) and "account" in data
    body = str(data["account"]).strip() if isinstance(data, dict) and in_body else ""
    if header and body and header != body:
        raise exceptions.ValidationError(
            {"account": ["X-Account and the body's `account` name different accounts."]}
        )
    return header or body, in_body


def _refuse_another_account(request: Request, account: Any) -> None:
    """An account key that names another account (X-Account) gets what any cross-tenant request gets."""
    named = request.META.get("HTTP_X_ACCOUNT", "").strip()
    if named and named not in (str(account.pk), account.slug):
        raise exceptions.NotFound("No such account.")


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer cdk_live_...` or `X-API-Key: cdk_live_...`.

    Checked on every request (no cache): a revoked or expired key is refused on the very next request.
    Any other bearer token is left to the JWT authentication. Errors name the key's prefix at most,
    never the secret.
    """

    keyword = "Bearer"

    def _secret(self, request: Request) -> str | None:
        header = request.META.get("HTTP_X_API_KEY", "").strip()
        if header:
            return header
        parts = get_authorization_header(request).split()
        if len(parts) == 2 and parts[0].lower() == b"bearer":
            token = parts[1].decode("latin-1")
            if looks_like_key(token):
                return token
        return None

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        secret = self._secret(request)
        if secret is None:
            return None
        if len(secret) > MAX_KEY_LENGTH:  # not worth hashing: no key is that long
            raise exceptions.AuthenticationFailed("Invalid API key.")
        api_key = load_api_key(key_hash=hash_secret(secret))  # one indexed query, read on every request
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if api_key.is_expired():
            raise exceptions.AuthenticationFailed("This API key has expired.")
        account = self._platform_account(request) if api_key.is_platform else api_key.account
        if not api_key.is_platform:
            _refuse_another_account(request, account)
        if account is None and api_key.is_platform:  # a platform-wide view, no account named
            touch_last_used(api_key)
            request._request.account = None  # type: ignore[attr-defined]
            return ApiKeyPrincipal(api_key), api_key
        if account is None or not account.is_active:
            raise exceptions.AuthenticationFailed("This API key's account is not active.")
        touch_last_used(api_key)
        request._request.account = account  # type: ignore[attr-defined]
        return ApiKeyPrincipal(api_key), api_key

    def _platform_account(self, request: Request) -> Any:
        ref, in_body = _named_account_ref(request)
        if not ref and getattr(request.parser_context.get("view"), "platform_wide", False):
            return None  # the view reads across accounts (platform figures); naming one filters it
        if not ref:
            raise exceptions.ValidationError(
                {
                    "account": [
                        "A platform key must name the account: an X-Account header or `account` in the body."
                    ]
                }
            )
        account_model = ApiKey._meta.get_field("account").related_model
        lookup = {"pk": int(ref)} if ref.isdigit() else {"slug": ref}
        account = account_model._default_manager.select_related("plan").filter(**lookup).first()  # type: ignore[union-attr]
        if account is None:
            raise exceptions.NotFound("No such account.")
        request._request.account_named_in_body = in_body  # type: ignore[attr-defined]
        return account

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def acting_key(request: Request) -> ApiKey | None:
    """The API key a request was made with, or None for a member's session or JWT."""
    return request.auth if isinstance(request.auth, ApiKey) else None


def acting_member(request: TenantRequest) -> "User | None":
    """The member a request was made by, or None when a service acted with an API key."""
    return None if acting_key(request) is not None else request.user


def request_payload(request: Request) -> Any:
    """The body a view validates: without `account` when a platform key used it to name the account."""
    data = request.data
    if getattr(request._request, "account_named_in_body", False) and isinstance(data, dict):
        return {key: value for key, value in data.items() if key != "account"}
    return data
