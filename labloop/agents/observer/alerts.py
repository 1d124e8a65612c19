"""Where observer alerts go: the log always, and a webhook URL (JSON POST) when one is configured."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class AlertSink:
    def __init__(self, webhook_url: str | None = None, *, timeout_s: float = 5.0) -> None:
        self.webhook_url = webhook_url
        self.timeout_s = timeout_s

    def send(self, event: dict[str, Any]) -> bool:
        """Log the event and POST it to the webhook; a webhook failure is logged and never stops the run."""
        log.warning("observer alert [run %s] %s: %s", event.get("run_id"), event.get("kind"), event.get("message"))
        if not self.webhook_url:
            return True
        try:
            response = httpx.post(self.webhook_url, json=event, timeout=self.timeout_s)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.error("alert webhook failed (%s); the event stays recorded in the database", exc)
            return False
        return True
