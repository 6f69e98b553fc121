"""The X API v2 filtered stream, with X's documented reconnect rules.

Our own streaming loop (requests) rather than tweepy's StreamingClient: tweepy's first network retry
waits 0 s, caps 429 waits at 320 s, retries 401/403 forever and sleeps with `time.sleep`, which
cannot be stopped by SIGTERM or tested with an injected clock.

X's rules (docs: "Handling disconnections", "Consuming streaming data"), implemented by
`ReconnectPolicy`:
- reconnect when nothing (not even the keep-alive newline) arrived for 20 s;
- TCP/IP-level errors: back off linearly, +250 ms per attempt, up to 16 s;
- HTTP errors: back off exponentially from 5 s, doubling, up to 320 s;
- HTTP 429: back off exponentially from 60 s, doubling (capped here at 960 s);
- a successful connection resets every schedule; never hold two connections (the previous response
  is closed before the next attempt, and one source holds one session).
401/403 (bad token, no access) and 400 (bad request) are fatal: a clear error and a non-zero exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from pulse_common.retry import RetryPolicy
from pulse_common.tracking import Brand, TrackingConfig

from .. import metrics
from ..events import Item, now_ms
from ..parsers import ParseError, parse_document
from . import SourceStats

log = logging.getLogger("pulse.producer.x")

RULE_MAX_CHARS = 512  # X API v2 filtered stream, non-Enterprise
RULE_TAG_PREFIX = "pulse:"
TWEET_FIELDS = (
    "author_id,conversation_id,created_at,entities,geo,lang,public_metrics,referenced_tweets,note_tweet"
)
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id,geo.place_id"
USER_FIELDS = "created_at,public_metrics,verified,verified_type,username,name"
PLACE_FIELDS = "full_name,geo,country_code"
FATAL_STATUSES = {400, 401, 403, 404}


class XStreamError(RuntimeError):
    """A problem reconnecting cannot fix (bad token, no access, invalid rules)."""


# ------------------------------------------------------------------ rules


@dataclass(frozen=True)
class Rule:
    value: str
    tag: str


def _term(term: str) -> str:
    return f'"{term}"' if any(c.isspace() for c in term) or "-" in term else term


def rules_for(tracking: TrackingConfig, *, exclude_retweets: bool | None = None) -> list[Rule]:
    """One rule (or more, when too long) per tracked brand, tagged `pulse:<brand id>`."""
    exclude_rt = tracking.exclude_retweets if exclude_retweets is None else exclude_retweets
    langs = [f"lang:{lang}" for lang in tracking.languages]
    suffix_parts = []
    if len(langs) == 1:
        suffix_parts.append(langs[0])
    elif langs:
        suffix_parts.append("(" + " OR ".join(langs) + ")")
    if exclude_rt:
        suffix_parts.append("-is:retweet")
    rules: list[Rule] = []
    for brand in tracking.brands:
        rules.extend(_brand_rules(brand, suffix_parts))
    return rules


def _brand_rules(brand: Brand, suffix_parts: list[str]) -> list[Rule]:
    words = [_term(t) for t in brand.terms] + [f"#{tag}" for tag in brand.hashtags]
    negatives = [f"-{_term(x)}" for x in brand.exclude]
    suffix = " ".join([*negatives, *suffix_parts])
    tag = f"{RULE_TAG_PREFIX}{brand.id}"
    rules: list[Rule] = []
    group: list[str] = []

    def render(parts: list[str]) -> str:
        core = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
        return f"{core} {suffix}".strip()

    for word in words:
        if group and len(render([*group, word])) > RULE_MAX_CHARS:
            rules.append(Rule(render(group), tag))
            group = []
        group.append(word)
    if group:
        rules.append(Rule(render(group), tag))
    return rules


# ------------------------------------------------------------------ reconnect policy


class ReconnectPolicy:
    """X's three reconnect schedules; the exponential two are RetryPolicy schedules without jitter
    (X prescribes the exact waits), the network one grows linearly as X asks."""

    NETWORK_STEP_S = 0.25
    NETWORK_MAX_S = 16.0
    HTTP = RetryPolicy(base_s=5.0, cap_s=320.0, jitter=False, max_attempts=None)
    HTTP_429 = RetryPolicy(base_s=60.0, cap_s=960.0, jitter=False, max_attempts=None)

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._network = 0.0
        self._http = self.HTTP.delays()
        self._http_429 = self.HTTP_429.delays()

    def network_error(self) -> float:
        self._network = min(self._network + self.NETWORK_STEP_S, self.NETWORK_MAX_S)
        return self._network

    def http_error(self, status: int) -> float:
        return next(self._http_429 if status in (420, 429) else self._http)


# ------------------------------------------------------------------ source


class XStreamSource:
    name = "x"

    def __init__(
        self,
        *,
        bearer_token: str,
        tracking: TrackingConfig,
        base_url: str = "https://api.x.com",
        stall_timeout_s: float = 20.0,
        connect_timeout_s: float = 10.0,
        exclude_retweets: bool | None = None,
        sync_rules: bool = True,
        sleep: Callable[[float], Any] | None = None,
        stop: threading.Event | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tracking = tracking
        self.stall_timeout_s = stall_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.exclude_retweets = exclude_retweets
        self.sync = sync_rules
        self.stop = stop or threading.Event()
        self.sleep = sleep or (lambda seconds: self.stop.wait(seconds))
        self.session = session or requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {bearer_token}", "User-Agent": "pulse-producer"}
        )
        self.policy = ReconnectPolicy()
        self.stats = SourceStats()
        self.delays: list[float] = []  # every backoff wait, in order (observability and tests)
        self.open_connections = 0
        self.max_open_connections = 0
        self._response: requests.Response | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, tracking: TrackingConfig) -> XStreamSource:
        return cls(
            bearer_token=settings.x_bearer_token.get_secret_value(),
            tracking=tracking,
            base_url=settings.x_api_base_url,
            stall_timeout_s=settings.x_stall_timeout_s,
            exclude_retweets=settings.x_exclude_retweets,
            sync_rules=settings.x_sync_rules,
        )

    def close(self) -> None:
        self.stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            try:
                response.close()  # unblocks a read waiting for data
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass

    # -------------------------------------------------------------- rules

    def _api(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(
            method, f"{self.base_url}{path}", timeout=(self.connect_timeout_s, 30), **kwargs
        )
        if response.status_code in (401, 403):
            raise XStreamError(
                f"X rejected the bearer token ({response.status_code} on {path}): "
                "check PULSE_PRODUCER_X_BEARER_TOKEN and the app's access level"
            )
        if response.status_code >= 400:
            raise XStreamError(f"X API {method} {path} failed: {response.status_code} {response.text[:300]}")
        return response.json()

    def sync_rules(self) -> list[Rule]:
        """Add missing rules, delete stale ones, keep the rest; return the rules in force."""
        wanted = rules_for(self.tracking, exclude_retweets=self.exclude_retweets)
        current = self._api("GET", "/2/tweets/search/stream/rules").get("data") or []
        wanted_keys = {(r.value, r.tag) for r in wanted}
        current_keys = {(r.get("value"), r.get("tag")) for r in current}
        stale = [r["id"] for r in current if (r.get("value"), r.get("tag")) not in wanted_keys]
        missing = [r for r in wanted if (r.value, r.tag) not in current_keys]
        if stale:
            self._api("POST", "/2/tweets/search/stream/rules", json={"delete": {"ids": stale}})
        if missing:
            answer = self._api(
                "POST",
                "/2/tweets/search/stream/rules",
                json={"add": [{"value": r.value, "tag": r.tag} for r in missing]},
            )
            errors = answer.get("errors") or []
            invalid = [e for e in errors if e.get("title") != "DuplicateRule"]
            if invalid:
                raise XStreamError(f"X refused stream rules: {orjson.dumps(invalid)[:400].decode()}")
        metrics.RULES_IN_FORCE.set(len(wanted))
        log.info(
            "stream rules synced", extra={"rules": len(wanted), "added": len(missing), "deleted": len(stale)}
        )
        return wanted

    # -------------------------------------------------------------- stream

    def stream_url(self) -> str:
        return (
            f"{self.base_url}/2/tweets/search/stream?tweet.fields={TWEET_FIELDS}&expansions={EXPANSIONS}"
            f"&user.fields={USER_FIELDS}&place.fields={PLACE_FIELDS}"
        )

    def _wait(self, delay: float, cause: str) -> bool:
        self.delays.append(delay)
        metrics.RECONNECTS.labels(source=self.name, cause=cause).inc()
        log.warning("stream reconnecting", extra={"cause": cause, "delay_s": delay})
        self.sleep(delay)
        return not self.stop.is_set()

    def items(self) -> Iterator[Item]:
        if self.sync:
            self.sync_rules()
        while not self.stop.is_set():
            delay, cause = yield from self._connect_once()
            if delay is None or not self._wait(delay, cause):
                return

    def _connect_once(self) -> Iterator[Item]:
        """One connection; returns (delay before the next attempt, cause) or (None, "") to stop."""
        response: requests.Response | None = None
        try:
            response = self.session.get(
                self.stream_url(), stream=True, timeout=(self.connect_timeout_s, self.stall_timeout_s)
            )
            with self._lock:
                self._response = response
                self.open_connections += 1
                self.max_open_connections = max(self.max_open_connections, self.open_connections)
            if response.status_code != 200:
                status = response.status_code
                body = response.text[:300]
                if status in FATAL_STATUSES:
                    hint = "check PULSE_PRODUCER_X_BEARER_TOKEN" if status in (401, 403) else body
                    raise XStreamError(f"X stream refused the connection: HTTP {status} ({hint})")
                log.warning("stream HTTP error", extra={"status": status, "body": body})
                return self.policy.http_error(status), f"http_{status}"
            self.policy.reset()
            log.info("stream connected")
            for line in response.iter_lines(chunk_size=1024):
                if self.stop.is_set():
                    return None, ""
                if not line:
                    continue  # keep-alive
                yield from self.stats.isolated(self.name, "stream", lambda line=line: self._items_from(line))
            if self.stop.is_set():
                return None, ""
            return self.policy.network_error(), "closed"
        except XStreamError:
            raise
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            if self.stop.is_set():
                return None, ""
            stalled = "Read timed out" in str(exc) or isinstance(exc, requests.exceptions.ReadTimeout)
            return self.policy.network_error(), "stall" if stalled else "network"
        except (OSError, AttributeError, ValueError) as exc:  # e.g. the socket closed under us by close()
            if self.stop.is_set():
                return None, ""
            log.warning("stream read failed", extra={"error": repr(exc)})
            return self.policy.network_error(), "network"
        except Exception:
            if self.stop.is_set():
                return None, ""  # whatever a read interrupted by close() raised
            raise
        finally:
            if response is not None:
                response.close()
                with self._lock:
                    self._response = None
                    self.open_connections -= 1

    def _items_from(self, line: bytes) -> list[Item]:
        """One stream message (a post, a compliance delete, an error notice) -> its items."""
        received = now_ms()
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ParseError("bad_json", str(exc)) from exc
        if isinstance(doc, dict) and doc.get("errors") and not doc.get("data"):
            log.warning("stream error message", extra={"errors": str(doc["errors"])[:500]})
            return []
        events = parse_document(doc, received_ms=received)
        data = doc.get("data") if isinstance(doc, dict) else None
        tweet_id = data.get("id") if isinstance(data, dict) else "?"
        return [Item(event=event, source=f"x:stream:{tweet_id}") for event in events]
