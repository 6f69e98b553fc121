"""`pulse-indexer migrate`: install the posts index template and bring existing indices up to date.

The template lives in `mappings/posts.template.json`; its `_meta.mapping_version` is the mapping
version. The installed template is replaced when the file's version is newer (or `force`); the new
mapping and the refresh interval are then put on every existing monthly index of the alias (additive
changes apply in place; a change an index cannot take is reported as needing a re-index) and every
such index gets the read alias. Idempotent and cheap when nothing changed: one GET.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any

from pulse_common.contracts import search as naming
from pulse_common.settings import StackSettings

log = logging.getLogger("pulse.indexer.migrate")

TEMPLATE_FILE = "posts.template.json"


class NewerMappingInstalled(RuntimeError):
    """The cluster has a newer mapping version than this code (a newer indexer migrated it)."""


def default_mappings_dir() -> Path:
    """PULSE_INDEXER_MAPPINGS_DIR if set (container images), else the repo's mappings/."""
    configured = os.environ.get("PULSE_INDEXER_MAPPINGS_DIR")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "mappings" / TEMPLATE_FILE
        if candidate.exists():
            return candidate.parent
    raise FileNotFoundError(
        f"mappings/{TEMPLATE_FILE} not found above {here}; set PULSE_INDEXER_MAPPINGS_DIR"
    )


def load_template(mappings_dir: Path | None = None) -> dict[str, Any]:
    path = (mappings_dir or default_mappings_dir()) / TEMPLATE_FILE
    body = json.loads(path.read_text())
    body.pop("_comment", None)
    return body


def render_template(
    alias: str,
    *,
    mappings_dir: Path | None = None,
    shards: int | None = None,
    replicas: int | None = None,
    refresh_interval: str | None = None,
) -> dict[str, Any]:
    """The composable index template body for one alias."""
    body = copy.deepcopy(load_template(mappings_dir))
    body["index_patterns"] = [naming.index_pattern(alias)]
    template = body.setdefault("template", {})
    template["aliases"] = {alias: {}}
    index_settings = template.setdefault("settings", {}).setdefault("index", {})
    if shards is not None:
        index_settings["number_of_shards"] = shards
    if replicas is not None:
        index_settings["number_of_replicas"] = replicas
    if refresh_interval is not None:
        index_settings["refresh_interval"] = refresh_interval
    return body


def mapping_version(template: dict[str, Any]) -> int:
    return int((template.get("_meta") or {}).get("mapping_version", 0))


def installed_version(client: Any, alias: str) -> int | None:
    from opensearchpy.exceptions import NotFoundError

    try:
        response = client.indices.get_index_template(name=naming.template_name(alias), ignore=404)
    except NotFoundError:
        return None
    if response.get("status") == 404 or "error" in response:
        return None
    templates = response.get("index_templates", [])
    if not templates:
        return None
    return mapping_version(templates[0]["index_template"])


def apply_migrations(
    stack: StackSettings | None = None,
    *,
    client: Any = None,
    force: bool = False,
    bootstrap: bool = False,
    mappings_dir: Path | None = None,
    shards: int | None = None,
    replicas: int | None = None,
    refresh_interval: str | None = None,
) -> dict[str, Any]:
    """Install/upgrade the template for `stack.opensearch_index_alias`; returns what was done.

    `bootstrap` also creates the current month's index when none exists, so the read alias resolves
    before the first document arrives.
    """
    from opensearchpy.exceptions import RequestError

    from pulse_common.opensearch import opensearch_client

    stack = stack or StackSettings()
    client = client or opensearch_client(stack)
    alias = stack.opensearch_index_alias
    body = render_template(
        alias, mappings_dir=mappings_dir, shards=shards, replicas=replicas, refresh_interval=refresh_interval
    )
    wanted = mapping_version(body)
    current = installed_version(client, alias)
    result: dict[str, Any] = {
        "alias": alias,
        "template": naming.template_name(alias),
        "mapping_version": wanted,
        "installed_version": current,
        "template_updated": False,
        "indices_updated": [],
        "needs_reindex": [],
        "bootstrapped": None,
    }
    if current is not None and current > wanted and not force:
        raise NewerMappingInstalled(
            f"installed mapping version {current} is newer than this code's {wanted}; refusing to downgrade"
        )
    if force or current is None or current < wanted:
        client.indices.put_index_template(name=naming.template_name(alias), body=body)
        result["template_updated"] = True
        log.info("index template installed", extra={"template": result["template"], "version": wanted})
        existing = _existing_indices(client, alias)
        mappings = body["template"]["mappings"]
        refresh = body["template"]["settings"]["index"].get("refresh_interval")
        for index in existing:
            try:
                client.indices.put_mapping(index=index, body=mappings)
                if refresh is not None:  # a dynamic setting: existing months follow the template too
                    client.indices.put_settings(index=index, body={"index": {"refresh_interval": refresh}})
                result["indices_updated"].append(index)
            except RequestError as exc:
                result["needs_reindex"].append(index)
                log.error(
                    "index cannot take the new mapping in place; re-index it",
                    extra={"index": index, "error": str(exc)[:500]},
                )
        if existing:
            client.indices.update_aliases(
                body={"actions": [{"add": {"index": index, "alias": alias}} for index in existing]}
            )
    if bootstrap and not _existing_indices(client, alias):
        from datetime import UTC, datetime

        index = naming.index_for(alias, datetime.now(UTC))
        try:
            client.indices.create(index=index)
            result["bootstrapped"] = index
        except RequestError as exc:
            if "resource_already_exists_exception" not in str(exc):
                raise
    return result


def _existing_indices(client: Any, alias: str) -> list[str]:
    response = client.indices.get(
        index=naming.index_pattern(alias), allow_no_indices=True, expand_wildcards="all"
    )
    return sorted(response)
