import factory

from creditdesk.billing.models import CreditPackage


class CreditPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPackage

    name = factory.Sequence(lambda n: f"Pack {n}")
    slug = factory.Sequence(lambda n: f"pack-{n}")
    credits = 500
    price = "9.00"
