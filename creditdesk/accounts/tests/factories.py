import factory
from django.utils.text import slugify

from creditdesk.accounts.models import Account, User
from creditdesk.billing.models import Plan
from creditdesk.tenancy.roles import Role


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    plan = factory.LazyFunction(lambda: Plan.objects.get(slug="free"))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    account = factory.SubFactory(AccountFactory)
    role = Role.OWNER
    password = factory.django.Password("correct-horse-battery-staple")
