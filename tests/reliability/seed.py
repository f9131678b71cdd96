"""Seeds a tenant in another database: `python -m tests.reliability.seed <db> <credits>` prints JSON."""

import json
import sys

from tests.reliability.harness import setup_django


def main(argv: list[str]) -> None:
    setup_django(argv[0])
    from tests.reliability.fixtures import make_tenant

    tenant = make_tenant(credits=int(argv[1]), roles=("owner", "member"))
    print(json.dumps({"account_id": tenant.id, "token": tenant.tokens["member"]}))


if __name__ == "__main__":
    main(sys.argv[1:])
