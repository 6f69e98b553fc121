"""What each of the AWS emulator's speed-ups saves, operation by operation (moto in-process).

Each variant runs in a fresh process (moto's classes are patched for good once patched): every
speed-up installed, or all but one (`PULSE_EMULATOR_WITHOUT`'s names, aws_emulator.SPEEDUPS). The
workload is the calls the pipeline makes per 1,000 posts at 500 posts/s (the e2e bench's load):

  producer   PutRecords, 50 records a call (its 100 ms linger)
  enricher   Kinesis GetRecords of ~62 records (the KCL polls each of 2 shards every 250 ms), a
             consistent BatchGetItem of those ids, BatchWriteItem of 25 items, a checkpoint UpdateItem
  indexer    DynamoDB Streams GetRecords of ~125 records, a checkpoint UpdateItem
  checker    a paged Scan of a 30,000-item table (the reliability suite reads whole tables)

and prints the emulator's CPU per post for each group, median of the runs, with and without each
speed-up (variants alternate, so a slow hour of the host hits every variant alike).

Run: .venv/bin/python bench/emulator_patches.py [--repeat 5] [--posts 4000] [--scan-items 30000]
Not part of `make bench` (run_all runs bench_*.py): run it after a moto upgrade.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

ENVELOPE_BYTES = 1_300  # a post's envelope, about the sample's
DOC_BYTES = 2_600  # an enriched post's doc attribute


def _client(app: Any, service: str, target_prefix: str, version: str):
    from werkzeug.test import Client

    client = Client(app)
    headers = {
        "Content-Type": f"application/x-amz-json-{version}",
        "Host": f"{service}.us-east-1.amazonaws.com",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=x",
    }

    def call(target: str, body: dict) -> dict:
        response = client.post(
            "/", data=json.dumps(body), headers={**headers, "X-Amz-Target": f"{target_prefix}.{target}"}
        )
        assert response.status_code == 200, (target, response.status_code, response.get_data()[:300])
        return json.loads(response.get_data() or b"{}")

    return call


def run_variant(without: list[str], posts: int, scan_items: int) -> dict[str, float]:
    """CPU seconds per group for `posts` posts, in this process, with every speed-up but `without`."""
    import base64
    import random

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    from pulse_devstack import aws_emulator

    aws_emulator.install_patches(without)
    from moto.server import DomainDispatcherApplication, create_backend_app

    app = aws_emulator.SerializedWrites(DomainDispatcherApplication(create_backend_app))
    kinesis = _client(app, "kinesis", "Kinesis_20131202", "1.1")
    dynamodb = _client(app, "dynamodb", "DynamoDB_20120810", "1.0")
    streams = _client(app, "streams.dynamodb", "DynamoDBStreams_20120810", "1.0")
    rng = random.Random(7)
    cpu: dict[str, float] = {"producer": 0.0, "enricher": 0.0, "indexer": 0.0, "checker": 0.0}

    def timed(group: str, fn):
        started = time.process_time()
        result = fn()
        cpu[group] += time.process_time() - started
        return result

    kinesis("CreateStream", {"StreamName": "s", "ShardCount": 2})
    key_schema = {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    table = dynamodb(
        "CreateTable",
        {
            "TableName": "t",
            **key_schema,
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    )
    dynamodb(
        "CreateTable",
        {
            "TableName": "leases",
            **{
                **key_schema,
                "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
            },
        },
    )
    dynamodb(
        "PutItem", {"TableName": "leases", "Item": {"leaseKey": {"S": "shard"}, "checkpoint": {"S": "0"}}}
    )
    shards = [s["ShardId"] for s in kinesis("ListShards", {"StreamName": "s"})["Shards"]]
    iterators = {
        s: kinesis(
            "GetShardIterator", {"StreamName": "s", "ShardId": s, "ShardIteratorType": "TRIM_HORIZON"}
        )["ShardIterator"]
        for s in shards
    }
    stream_arn = table["TableDescription"]["LatestStreamArn"]
    stream_shard = streams("DescribeStream", {"StreamArn": stream_arn})["StreamDescription"]["Shards"][0][
        "ShardId"
    ]
    stream_iterator = streams(
        "GetShardIterator",
        {"StreamArn": stream_arn, "ShardId": stream_shard, "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]

    def envelope(n: int) -> str:
        text = "".join(rng.choice("abcdefgh ") for _ in range(ENVELOPE_BYTES))
        return base64.b64encode(json.dumps({"id": f"x:{n}", "text": text}).encode()).decode()

    def item(n: int) -> dict:
        return {
            "id": {"S": f"x:{n}"},
            "version": {"N": str(1_700_000_000_000 + n)},
            "created_at": {"S": "2026-11-24T18:00:00.000Z"},
            "ingested_at": {"S": "2026-11-24T18:00:01.000Z"},
            "enriched_at": {"S": "2026-11-24T18:00:01.200Z"},
            "expires_at": {"N": "1800000000"},
            "doc": {"S": json.dumps({"id": f"x:{n}", "text": "y" * DOC_BYTES})},
        }

    def checkpoint() -> None:
        dynamodb(
            "UpdateItem",
            {
                "TableName": "leases",
                "Key": {"leaseKey": {"S": "shard"}},
                "UpdateExpression": "SET #c = :c",
                "ConditionExpression": "attribute_exists(leaseKey)",
                "ExpressionAttributeNames": {"#c": "checkpoint"},
                "ExpressionAttributeValues": {":c": {"S": str(rng.random())}},
            },
        )

    for start in range(0, posts, 500):
        ids = list(range(start, min(start + 500, posts)))
        for chunk in range(0, len(ids), 50):  # the producer
            records = [{"Data": envelope(n), "PartitionKey": f"x:{n}"} for n in ids[chunk : chunk + 50]]
            timed("producer", lambda r=records: kinesis("PutRecords", {"StreamName": "s", "Records": r}))
        for shard in shards:  # the enricher, batch by batch
            while True:
                page = timed(
                    "enricher",
                    lambda s=shard: kinesis("GetRecords", {"ShardIterator": iterators[s], "Limit": 62}),
                )
                iterators[shard] = page["NextShardIterator"]
                got = [json.loads(base64.b64decode(r["Data"]))["id"] for r in page["Records"]]
                if not got:
                    break
                keys = [{"id": {"S": i}} for i in got]
                timed(
                    "enricher",
                    lambda k=keys: dynamodb(
                        "BatchGetItem",
                        {
                            "RequestItems": {
                                "t": {
                                    "Keys": k,
                                    "ProjectionExpression": "id, #v, #d",
                                    "ConsistentRead": True,
                                    "ExpressionAttributeNames": {"#v": "version", "#d": "deleted"},
                                }
                            }
                        },
                    ),
                )
                for part in range(0, len(got), 25):
                    puts = [{"PutRequest": {"Item": item(int(i[2:]))}} for i in got[part : part + 25]]
                    timed("enricher", lambda p=puts: dynamodb("BatchWriteItem", {"RequestItems": {"t": p}}))
                timed("enricher", checkpoint)
        while True:  # the indexer
            request = {"ShardIterator": stream_iterator, "Limit": 125}
            page = timed("indexer", lambda request=request: streams("GetRecords", request))
            stream_iterator = page["NextShardIterator"]
            if not page["Records"]:
                break
            timed("indexer", checkpoint)
    for start in range(posts, scan_items, 25):  # the checker's table, then one paged scan of it
        puts = [{"PutRequest": {"Item": item(n)}} for n in range(start, min(start + 25, scan_items))]
        dynamodb("BatchWriteItem", {"RequestItems": {"t": puts}})
    request: dict[str, Any] = {"TableName": "t", "ConsistentRead": True}
    scanned = 0
    while True:
        page = timed("checker", lambda r=dict(request): dynamodb("Scan", r))
        scanned += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert scanned == max(posts, scan_items), scanned
    return {
        **{g: cpu[g] / posts * 1000 for g in ("producer", "enricher", "indexer")},
        "checker_scan_s": cpu["checker"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--posts", type=int, default=4000)
    parser.add_argument("--scan-items", type=int, default=30_000)
    parser.add_argument("--only", nargs="*", help="speed-ups to measure (default: every one)")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # a child: comma-separated names left out
    args = parser.parse_args(argv)
    if args.variant is not None:
        without = [n for n in args.variant.split(",") if n]
        print(json.dumps(run_variant(without, args.posts, args.scan_items)))
        return 0
    from pulse_devstack.aws_emulator import SPEEDUPS

    names = args.only or list(SPEEDUPS)
    variants = ["", *names]
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    for round_ in range(args.repeat):
        for variant in variants:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--variant",
                    variant,
                    "--posts",
                    str(args.posts),
                    "--scan-items",
                    str(args.scan_items),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(
                f"# round {round_ + 1}: {variant or 'all'} {runs[variant][-1]}", file=sys.stderr, flush=True
            )

    def median(variant: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[variant])

    def total(variant: str) -> float:
        return sum(median(variant, g) for g in ("producer", "enricher", "indexer"))

    print(
        f"emulator CPU ms per post (producer + enricher + indexer calls), median of {args.repeat} runs; "
        f"scan of {args.scan_items} items in s"
    )
    print(
        f"{'variant':<24} {'producer':>9} {'enricher':>9} {'indexer':>9} "
        f"{'total':>7} {'vs all':>7} {'scan_s':>7}"
    )
    for variant in variants:
        label = f"without {variant}" if variant else "all speed-ups"
        cells = [median(variant, g) for g in ("producer", "enricher", "indexer")]
        change = (total(variant) / total("") - 1) * 100
        print(
            f"{label:<24} {cells[0]:>9.3f} {cells[1]:>9.3f} {cells[2]:>9.3f} {total(variant):>7.3f} "
            f"{change:>+6.1f}% {median(variant, 'checker_scan_s'):>7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
