"""Map IAM roles to an OpenSearch fine-grained-access-control role, signed with SigV4.

The Pulse domain's FGAC master user is the indexer's task role, so this runs as a one-off
indexer task (the script ships in the indexer image at /app/tools/):

    deploy/scripts/run-once.sh indexer python /app/tools/opensearch_map_role.py \
        --role readall --backend-role <dashboard task role ARN>

Endpoint and region default to the task's PULSE_OPENSEARCH_URL and PULSE_AWS_REGION.
Exit code 0 when OpenSearch accepted the mapping.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def build_request(
    endpoint: str, role: str, backend_roles: list[str], region: str, credentials: object
) -> urllib.request.Request:
    """A signed PUT of the role mapping (replaces that role's mapping with backend_roles)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = f"{endpoint.rstrip('/')}/_plugins/_security/api/rolesmapping/{role}"
    body = json.dumps({"backend_roles": backend_roles}).encode()
    aws_request = AWSRequest(method="PUT", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, "es", region).add_auth(aws_request)
    return urllib.request.Request(url, data=body, headers=dict(aws_request.headers.items()), method="PUT")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default=os.environ.get("PULSE_OPENSEARCH_URL"))
    parser.add_argument("--region", default=os.environ.get("PULSE_AWS_REGION"))
    parser.add_argument("--role", default="readall", help="OpenSearch security role (default readall)")
    parser.add_argument("--backend-role", action="append", required=True, help="IAM role ARN (repeatable)")
    args = parser.parse_args(argv)
    if not args.endpoint or not args.region:
        print("opensearch_map_role: need --endpoint and --region (or PULSE_OPENSEARCH_URL, PULSE_AWS_REGION)")
        return 2

    import boto3

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        print("opensearch_map_role: no AWS credentials (run it as the indexer task)")
        return 2
    request = build_request(args.endpoint, args.role, args.backend_role, args.region, credentials)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(f"opensearch_map_role: {args.role} <- {args.backend_role}: HTTP {response.status}")
            return 0
    except urllib.error.HTTPError as exc:
        print(f"opensearch_map_role: HTTP {exc.code}: {exc.read().decode(errors='replace')[:500]}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
