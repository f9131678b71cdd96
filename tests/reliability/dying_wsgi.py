"""A server whose worker is killed (SIGKILL) in the middle of every purchase, once per payment: after the
draft invoice and payment committed and the sandbox provider answered, before the answer is recorded and
the Idempotency-Key's response stored. Row 15 retries each purchase with its key against it.

With RELIABILITY_DIE_MID_PURCHASE=<directory> each payment dies once (a marker file per payment id in that
directory remembers it across the respawned workers); otherwise this is config.wsgi unchanged.
"""

import os
import signal
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from config.wsgi import application

MARKERS = os.environ.get("RELIABILITY_DIE_MID_PURCHASE", "")

if MARKERS:
    from creditdesk.billing.providers.sandbox import SandboxProvider

    _start = SandboxProvider.start

    def _start_then_die_once(self: SandboxProvider, **kwargs: Any) -> Any:
        start = _start(self, **kwargs)
        marker = Path(MARKERS) / f"payment-{kwargs['payment'].pk}"
        if not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # no finally, no except: as if the machine lost power
        return start

    SandboxProvider.start = _start_then_die_once  # type: ignore[method-assign]

__all__ = ["application"]
