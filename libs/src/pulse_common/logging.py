"""JSON logs, one object a line, to stderr only (the enricher's stdout is the KCL protocol).

Every line goes through one redaction step before it is written, whatever path a value took into
the record (the message, its %-args, `extra`, `exc_info`, `stack_info`): credentials never reach a
log. Redacted are `Bearer …` / `Basic …` credentials (the schemes as HTTP writes them),
`Authorization` header values, AWS access key ids, the value of any key or `name=value` pair named
like a secret (`*token`, `*password`, `*secret*`, `*api_key`, `credential`), and the exact values of
the secrets `configure_logging` was given (the service's SecretStr settings, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

REDACTED = "[REDACTED]"
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
# Shorter values are too common to replace wherever they appear (the pattern rules still apply).
MIN_SECRET_CHARS = 6
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

_SECRET_NAME = r"[\w.-]*(?:token|password|passwd|secret|api[_-]?key|apikey|credential)[\w.-]*"  # noqa: S105 - a pattern
# A key of a structured value (dict, extra) whose value is replaced whole.
_SECRET_KEY = re.compile(rf"^(?:{_SECRET_NAME}|authorization|cookie|set-cookie)$", re.IGNORECASE)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: <anything up to the end of the value>, in headers, reprs and JSON alike.
    (re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n]+", re.IGNORECASE), rf"\1{REDACTED}"),
    # The HTTP schemes as sent (capitalized, so prose like "the bearer token" stays readable).
    (re.compile(r"(\b(?:Bearer|BEARER|Basic|BASIC)\s+)[^\s'\",;]+"), rf"\1{REDACTED}"),
    # token=..., "password": "...", x_bearer_token='...', SecretAccessKey: ..., Credential=...
    (
        re.compile(rf"(\b{_SECRET_NAME}['\"]?\s*[:=]\s*['\"]?)(?!{re.escape(REDACTED)})[^\s'\",;&}}\]]+",
                   re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),  # AWS access key ids
)


class Redactor:
    """Replaces credentials in text and in structured values (see the module docstring)."""

    def __init__(self, secrets: Iterable[SecretStr | str | None] = ()) -> None:
        self.values: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[SecretStr | str | None]) -> None:
        for secret in secrets:
            value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
            if value and len(value.strip()) >= MIN_SECRET_CHARS:
                self.values.update({value, value.strip()})

    def text(self, text: str) -> str:
        # Longest first: a secret that contains another is replaced whole.
        for value in sorted(self.values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def value(self, value: Any, depth: int = 0) -> Any:
        """A JSON-ready copy of `value` with every string redacted (anything else becomes its str)."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.text(value)
        if depth < 6 and isinstance(value, dict):
            return {
                str(k): REDACTED if _SECRET_KEY.match(str(k)) else self.value(v, depth + 1)
                for k, v in value.items()
            }
        if depth < 6 and isinstance(value, list | tuple | set | frozenset):
            return [self.value(v, depth + 1) for v in value]
        return self.text(str(value))


_installed = Redactor()  # the one configure_logging set up last


def redact(text: str) -> str:
    """`text` as the logs would show it: for error lines a CLI prints to stderr itself."""
    return _installed.text(text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.service = service
        self.redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        redact = self.redactor
        try:
            message = record.getMessage()
        except Exception as exc:  # noqa: BLE001 - a bad %-format must not lose the line
            message = f"{record.msg!s} (unformattable args: {type(exc).__name__})"
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": redact.text(message),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = REDACTED if _SECRET_KEY.match(key) else redact.value(value)
        if record.exc_info:
            entry["exc"] = redact.text(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact.text(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(
    service: str, level: str = "INFO", *, secrets: Iterable[SecretStr | str | None] = ()
) -> logging.Logger:
    """Route every logger to stderr as JSON; return the service's logger.

    `secrets`: values never to print (pass `pulse_common.settings.secret_values(settings)`);
    AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment are added.
    """
    global _installed
    redactor = Redactor(secrets)
    redactor.add(os.environ.get(name) for name in _SECRET_ENV)
    _installed = redactor
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service, redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "boto3", "urllib3", "opensearch", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return logging.getLogger(f"pulse.{service}")
