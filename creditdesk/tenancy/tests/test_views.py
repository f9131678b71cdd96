"""The tenant mixin is the guard every tenant view stands on: these tests prove the guard itself."""

import pytest
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory

from creditdesk.billing.models import Invoice
from creditdesk.billing.serializers.purchases import InvoiceSerializer
from creditdesk.billing.tests.factories import CreditPackageFactory
from creditdesk.tenancy.permissions import IsAccountMember
from creditdesk.tenancy.views import AccountScopedMixin

pytestmark = pytest.mark.django_db


def invoices_of(*, account):
    return Invoice.objects.filter(account=account)


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "get_permissions"])
def test_a_tenant_view_that_overrides_a_scoped_lookup_is_refused_when_its_class_is_defined(method):
    with pytest.raises(TypeError, match=method):
        type(
            "Escaping",
            (AccountScopedMixin, ListAPIView),
            {"selector": invoices_of, method: lambda self: Invoice.objects.all()},
        )


class OpenInvoiceDetail(AccountScopedMixin, RetrieveAPIView):
    """A careless view that declares AllowAny: the mixin still demands an account member."""

    serializer_class = InvoiceSerializer
    selector = invoices_of
    permission_classes = [AllowAny]


def test_the_base_member_rule_is_added_to_a_view_that_replaces_permission_classes():
    permissions = OpenInvoiceDetail().get_permissions()
    assert [type(p) for p in permissions] == [IsAccountMember, AllowAny]


def bought_invoice(client) -> Invoice:
    package = CreditPackageFactory()
    response = client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "sandbox"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Invoice.objects.get(pk=response.json()["data"]["invoice"]["id"])


def test_a_view_that_replaced_permission_classes_still_refuses_an_anonymous_caller(owner_client):
    invoice = bought_invoice(owner_client)
    request = APIRequestFactory().get(f"/invoices/{invoice.pk}/")
    response = OpenInvoiceDetail.as_view()(request, pk=invoice.pk)
    assert response.status_code == 401
    assert "invoice_number" not in str(response.data)


def test_object_lookup_through_the_mixin_answers_404_for_another_tenants_object(owner_client, other_client):
    their_invoice = bought_invoice(other_client)
    response = owner_client.get(f"/api/v1/billing/invoices/{their_invoice.pk}/")
    assert response.status_code == 404
    assert response.json()["success"] is False
    assert their_invoice.invoice_number not in response.content.decode()
