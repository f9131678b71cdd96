"""Authentication's one query: the member, their account and its plan as the ORM would load them."""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone

from creditdesk.accounts.models import User
from creditdesk.tenancy.api_keys import create_account_key, create_platform_key, hash_secret
from creditdesk.tenancy.member_query import load_api_key, load_member
from creditdesk.tenancy.models import ApiKey
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def field_values(instance: Model) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_the_member_account_and_plan_hold_what_the_orm_reads_with_the_same_types(
    make_account, make_member, django_assert_num_queries
) -> None:
    account = make_account(credits=250, billing_country="DE", tax_id="DE123")
    member = make_member(account, Role.ADMIN, first_name="Ada")
    with django_assert_num_queries(1):
        loaded = load_member(user_id=str(member.pk))
        plan = loaded.account.plan
    expected = User.objects.select_related("account__plan").get(pk=member.pk)
    for ours, theirs in (
        (loaded, expected),
        (loaded.account, expected.account),
        (plan, expected.account.plan),
    ):
        values, reference = field_values(ours), field_values(theirs)
        assert values == reference
        assert {k: type(v) for k, v in values.items()} == {k: type(v) for k, v in reference.items()}
    assert loaded.account.credits == 250 and loaded.check_password is not None


def test_a_removed_member_is_loaded_without_an_account(make_account, make_member) -> None:
    member = make_member(make_account())
    User.objects.filter(pk=member.pk).update(account=None)
    loaded = load_member(user_id=member.pk)
    assert loaded is not None and loaded.account is None


@pytest.mark.parametrize("user_id", ["999999", "not-a-number", None])
def test_an_unknown_or_malformed_id_loads_nobody(user_id: object, make_account, make_member) -> None:
    make_member(make_account())
    assert load_member(user_id=user_id) is None


def test_the_members_spending_caps_come_with_the_same_query(
    make_account, make_member, django_assert_num_queries
) -> None:
    from django.core.exceptions import ObjectDoesNotExist

    from creditdesk.tenancy.models import MemberCreditCap

    account = make_account()
    capped, free = make_member(account), make_member(account)
    MemberCreditCap.objects.create(account=account, member=capped, daily_credit_cap=50)
    with django_assert_num_queries(2):
        assert load_member(user_id=capped.pk).credit_cap.daily_credit_cap == 50
        uncapped = load_member(user_id=free.pk)
        with pytest.raises(ObjectDoesNotExist):
            uncapped.credit_cap  # noqa: B018 - the access is the assertion: cached as absent, no query


def test_an_api_key_its_account_and_plan_hold_what_the_orm_reads_with_the_same_types(
    make_account, make_member, django_assert_num_queries
) -> None:
    account = make_account(credits=70)
    issued = create_account_key(
        account=account,
        actor=make_member(account, Role.OWNER),
        name="worker",
        scopes=["usage:write", "billing:read"],
        expires_at=timezone.now() + timedelta(days=3),
        daily_credit_cap=500,
    )
    with django_assert_num_queries(1):
        loaded = load_api_key(key_hash=hash_secret(issued.secret))
        plan = loaded.account.plan
    expected = ApiKey.objects.select_related("account__plan").get(pk=issued.api_key.pk)
    for ours, theirs in (
        (loaded, expected),
        (loaded.account, expected.account),
        (plan, expected.account.plan),
    ):
        values, reference = field_values(ours), field_values(theirs)
        assert values == reference
        assert {k: type(v) for k, v in values.items()} == {k: type(v) for k, v in reference.items()}
    assert loaded.scopes == ["billing:read", "usage:write"] and loaded.account.credits == 70


def test_a_platform_key_is_loaded_without_an_account_and_an_unknown_hash_loads_nothing(
    django_assert_num_queries,
) -> None:
    issued = create_platform_key(name="platform", scopes=["usage:write"])
    with django_assert_num_queries(1):
        loaded = load_api_key(key_hash=hash_secret(issued.secret))
        assert loaded.account is None and loaded.pk == issued.api_key.pk
    assert load_api_key(key_hash=hash_secret(issued.secret + "x")) is None
