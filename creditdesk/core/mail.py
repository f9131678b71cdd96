"""Plain-text mail whose body is a template (`<app>/mail/<name>.txt`), so the wording lives beside no code.

The templates render with autoescape off: the mail is text, and an account named `A & B` reads as such.
"""

from typing import Any

from django.core.mail import send_mail
from django.template.loader import render_to_string


def render_mail_body(*, template: str, context: dict[str, Any]) -> str:
    return render_to_string(template, context)


def send_templated_mail(
    *, subject: str, template: str, context: dict[str, Any], recipients: list[str]
) -> None:
    send_mail(
        subject=subject,
        message=render_mail_body(template=template, context=context),
        from_email=None,
        recipient_list=recipients,
    )
