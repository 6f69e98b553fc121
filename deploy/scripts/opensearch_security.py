"""Apply Pulse's least-privilege roles inside its OpenSearch domain (fine-grained access control).

Runs as the one-off `opensearch-admin` ECS task, the only task whose role is the domain's
break-glass security admin (its FGAC master user); no service has that role:

    deploy/scripts/run-once.sh opensearch-admin          # after the first apply, and after role changes

It creates (or replaces) two roles and maps each to one task role:

* `pulse_indexer` (indexer task role): read and write documents, create indices, put mappings,
  settings and aliases, only on the Pulse alias and its monthly indices (`<alias>`, `<alias>-*`),
  and install the Pulse index template; no other index, no security or cluster settings;
* `pulse_dashboard_read` (dashboard task role): read and search those indices, nothing else;

and maps `all_access` and `security_manager` to the admin role alone (so no service role keeps
them, e.g. the indexer, which was the master user before).

    python opensearch_security.py apply   # PUT the roles and mappings (SigV4-signed)
    python opensearch_security.py show    # print them as JSON, send nothing

Settings come from the task's environment (modules/services sets them): PULSE_OPENSEARCH_URL,
PULSE_AWS_REGION, PULSE_OPENSEARCH_INDEXER_ROLE_ARN, PULSE_OPENSEARCH_DASHBOARD_ROLE_ARN,
PULSE_OPENSEARCH_ADMIN_ROLE_ARN, and PULSE_OPENSEARCH_INDEX_ALIAS (default pulse-posts).
Exit code 0 when OpenSearch accepted every request.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

SECURITY_API = "/_plugins/_security/api"
INDEXER_ROLE = "pulse_indexer"
DASHBOARD_ROLE = "pulse_dashboard_read"
ADMIN_ROLES = ("all_access", "security_manager")


def index_patterns(alias: str) -> list[str]:
    """The read alias and its monthly indices (pulse_indexer.naming: `<alias>-YYYY.MM`)."""
    return [alias, f"{alias}-*"]


def indexer_role(alias: str) -> dict[str, Any]:
    return {
        "description": "Pulse indexer: documents, indices, mappings and the index template of Pulse only",
        "cluster_permissions": [
            "cluster_monitor",
            "cluster_composite_ops",  # _bulk, _mget
            "indices:admin/index_template/get",
            "indices:admin/index_template/put",
        ],
        "index_permissions": [
            {
                "index_patterns": index_patterns(alias),
                "allowed_actions": [
                    "crud",
                    "create_index",
                    "indices_monitor",
                    "indices:admin/get",
                    "indices:admin/mapping/put",
                    "indices:admin/settings/update",
                    "indices:admin/aliases",
                    "indices:admin/aliases/get",
                ],
            }
        ],
    }


def dashboard_role(alias: str) -> dict[str, Any]:
    return {
        "description": "Pulse dashboard: read-only search of Pulse's indices",
        "cluster_permissions": ["cluster_composite_ops_ro"],  # _msearch, _mget
        "index_permissions": [{"index_patterns": index_patterns(alias), "allowed_actions": ["read"]}],
    }


@dataclass(frozen=True)
class Change:
    method: str
    path: str
    body: dict[str, Any]


def changes(alias: str, indexer_arn: str, dashboard_arn: str, admin_arn: str) -> list[Change]:
    """Every request `apply` sends, in order."""
    out = [
        Change("PUT", f"{SECURITY_API}/roles/{INDEXER_ROLE}", indexer_role(alias)),
        Change("PUT", f"{SECURITY_API}/roles/{DASHBOARD_ROLE}", dashboard_role(alias)),
        Change("PUT", f"{SECURITY_API}/rolesmapping/{INDEXER_ROLE}", {"backend_roles": [indexer_arn]}),
        Change("PUT", f"{SECURITY_API}/rolesmapping/{DASHBOARD_ROLE}", {"backend_roles": [dashboard_arn]}),
    ]
    for role in ADMIN_ROLES:
        mapping = {"backend_roles": [admin_arn], "users": [admin_arn]}
        out.append(Change("PUT", f"{SECURITY_API}/rolesmapping/{role}", mapping))
    return out


def signed_request(endpoint: str, change: Change, region: str, credentials: object) -> urllib.request.Request:
    """The change as a SigV4-signed (service `es`) urllib request."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = f"{endpoint.rstrip('/')}{change.path}"
    body = json.dumps(change.body).encode()
    aws_request = AWSRequest(
        method=change.method, url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(credentials, "es", region).add_auth(aws_request)
    headers = dict(aws_request.headers.items())
    return urllib.request.Request(url, data=body, headers=headers, method=change.method)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["apply", "show"])
    parser.add_argument("--endpoint", default=os.environ.get("PULSE_OPENSEARCH_URL"))
    parser.add_argument("--region", default=os.environ.get("PULSE_AWS_REGION"))
    parser.add_argument("--alias", default=os.environ.get("PULSE_OPENSEARCH_INDEX_ALIAS", "pulse-posts"))
    parser.add_argument("--indexer-role-arn", default=os.environ.get("PULSE_OPENSEARCH_INDEXER_ROLE_ARN"))
    parser.add_argument("--dashboard-role-arn", default=os.environ.get("PULSE_OPENSEARCH_DASHBOARD_ROLE_ARN"))
    parser.add_argument("--admin-role-arn", default=os.environ.get("PULSE_OPENSEARCH_ADMIN_ROLE_ARN"))
    args = parser.parse_args(argv)

    arns = {
        "indexer": args.indexer_role_arn,
        "dashboard": args.dashboard_role_arn,
        "admin": args.admin_role_arn,
    }
    missing = [name for name, arn in arns.items() if not arn]
    if missing:
        print(f"opensearch_security: no role ARN for {', '.join(missing)} (see --help)", file=sys.stderr)
        return 2
    planned = changes(args.alias, arns["indexer"], arns["dashboard"], arns["admin"])
    if args.command == "show":
        print(json.dumps([c.__dict__ for c in planned], indent=2))
        return 0
    if not args.endpoint or not args.region:
        print("opensearch_security: need --endpoint and --region (see --help)", file=sys.stderr)
        return 2

    import boto3

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        print("opensearch_security: no AWS credentials (run it as opensearch-admin)", file=sys.stderr)
        return 2
    failed = 0
    for change in planned:
        request = signed_request(args.endpoint, change, args.region, credentials)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                print(f"opensearch_security: {change.method} {change.path}: HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            failed += 1
            detail = exc.read().decode(errors="replace")[:500]
            print(
                f"opensearch_security: {change.method} {change.path}: HTTP {exc.code}: {detail}",
                file=sys.stderr,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
