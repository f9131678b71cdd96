from django.urls import path

from creditdesk.accounts import api_keys, views

auth_urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    path("login/", views.LoginView.as_view(), name="auth-login"),
    path("refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="auth-me"),
    path("password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("password/reset/", views.PasswordResetRequestView.as_view(), name="auth-password-reset"),
    path(
        "password/reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("invitations/accept/", views.AcceptInvitationView.as_view(), name="auth-accept-invitation"),
    path("invitations/lookup/", views.InvitationLookupView.as_view(), name="auth-invitation-lookup"),
]

account_urlpatterns = [
    path("settings/", views.AccountSettingsView.as_view(), name="account-settings"),
    path("team/", views.TeamListView.as_view(), name="account-team"),
    path("team/<int:member_id>/", views.TeamMemberView.as_view(), name="account-team-member"),
    path("invitations/", views.InvitationListView.as_view(), name="account-invitations"),
    path(
        "invitations/<int:invitation_id>/resend/",
        views.InvitationResendView.as_view(),
        name="account-invitation-resend",
    ),
    path("invitations/<int:invitation_id>/", views.InvitationView.as_view(), name="account-invitation"),
    path("audit-log/", views.AuditLogListView.as_view(), name="account-audit-log"),
    path("api-keys/", api_keys.ApiKeyListView.as_view(), name="account-api-keys"),
    path("api-keys/<int:key_id>/", api_keys.ApiKeyDetailView.as_view(), name="account-api-key"),
    path(
        "team/<int:member_id>/spending-caps/",
        api_keys.MemberSpendingCapView.as_view(),
        name="account-member-spending-caps",
    ),
]
