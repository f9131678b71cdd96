"""Every event type an account can receive, with what it means. `emit` refuses any other type."""

EVENT_TYPES: dict[str, str] = {
    "balance.low": "The balance fell to or below the account's low-balance threshold.",
    "balance.depleted": "The balance reached zero.",
    "credits.granted": "Credits were added to the account (a purchase, the monthly allowance, a grant).",
    "credits.expiring": "Granted credits expire within the account's notice period.",
    "hold.expired": "A credit hold expired and its credits were released.",
    "payment.succeeded": "A payment succeeded.",
    "payment.failed": "A payment failed (including an automatic top-up).",
    "invoice.paid": "An invoice was paid.",
    "member.removed": "A member was removed from the team.",
    "webhook.test": "A test event sent from the webhook settings; it has no cause.",
}


def is_known(event_type: str) -> bool:
    return event_type in EVENT_TYPES
