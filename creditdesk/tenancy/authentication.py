"""Authentication that also fixes the tenant: request.account is the signed-in user's account."""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

# The user's token_version when the token was issued; a password change bumps it (accounts.User).
TOKEN_VERSION_CLAIM = "tv"


def is_active_member(user: Any) -> bool:
    """Active, and in an account that is active: the only users the API serves."""
    account = getattr(user, "account", None)
    return bool(user.is_active and account is not None and account.is_active)


def attach_account(request: Request, user: Any) -> None:
    if not is_active_member(user):
        raise exceptions.AuthenticationFailed("This user no longer belongs to an active account.")
    request._request.account = user.account  # type: ignore[attr-defined]


class AccountJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Any) -> Any:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise exceptions.AuthenticationFailed(
                "Token contained no recognizable user identification."
            ) from exc
        user_model = get_user_model()
        user = (
            user_model.objects.select_related("account", "account__plan")
            .filter(**{api_settings.USER_ID_FIELD: user_id})
            .first()
        )
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
