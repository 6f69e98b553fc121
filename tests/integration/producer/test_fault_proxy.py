"""The fault proxy in front of the emulator: throttled PutRecords entries, unprocessed BatchWriteItem
requests and failed calls look to boto3 exactly as AWS would send them, and nothing else changes."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from botocore.exceptions import ClientError
from producer_stack import stream_ids

from pulse_common.aws import client
from pulse_devstack.fault_proxy import BatchWriteUnprocessed, FaultProxy, PutRecordsThrottle, RequestError

pytestmark = pytest.mark.integration


def _via(stack, proxy: FaultProxy):
    return stack.model_copy(update={"aws_endpoint_url": proxy.url})


def test_throttled_entries_are_reported_per_entry_and_never_written(isolated_stack):
    with FaultProxy(isolated_stack.aws_endpoint_url, rules=[PutRecordsThrottle(0.5)], seed=11) as proxy:
        kinesis = client("kinesis", _via(isolated_stack, proxy))
        records = [{"Data": b'{"id":"k%d"}' % i, "PartitionKey": f"k{i}"} for i in range(200)]
        answer = kinesis.put_records(StreamName=isolated_stack.stream_name, Records=records)
    failed = [i for i, r in enumerate(answer["Records"]) if r.get("ErrorCode")]
    assert answer["FailedRecordCount"] == len(failed) and 60 < len(failed) < 140
    assert {answer["Records"][i]["ErrorCode"] for i in failed} == {"ProvisionedThroughputExceededException"}
    assert all("SequenceNumber" in r for i, r in enumerate(answer["Records"]) if i not in failed)
    written = set(stream_ids(isolated_stack))
    assert written == {f"k{i}" for i in range(200) if i not in failed}
    assert proxy.injected == len(failed)


def test_other_calls_pass_through_unchanged(isolated_stack):
    with FaultProxy(isolated_stack.aws_endpoint_url, rules=[PutRecordsThrottle(1.0)]) as proxy:
        via = _via(isolated_stack, proxy)
        summary = client("kinesis", via).describe_stream_summary(StreamName=isolated_stack.stream_name)
        sqs = client("sqs", via)
        url = sqs.get_queue_url(QueueName=isolated_stack.dlq_name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "hello"
        all_failed = client("kinesis", via).put_records(
            StreamName=isolated_stack.stream_name, Records=[{"Data": b"{}", "PartitionKey": "a"}]
        )
    assert summary["StreamDescriptionSummary"]["StreamName"] == isolated_stack.stream_name
    assert all_failed["FailedRecordCount"] == 1 and stream_ids(isolated_stack) == []


def test_batch_write_item_requests_can_be_withheld_as_unprocessed_items(isolated_stack):
    table = f"t-proxy-{uuid.uuid4().hex[:8]}"
    dynamodb = client("dynamodb", isolated_stack)
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        with FaultProxy(isolated_stack.aws_endpoint_url, rules=[BatchWriteUnprocessed(0.4)], seed=5) as proxy:
            via = client("dynamodb", _via(isolated_stack, proxy))  # boto3 checks the response CRC32
            requests = [{"PutRequest": {"Item": {"id": {"S": f"p{i}"}}}} for i in range(25)]
            answer = via.batch_write_item(RequestItems={table: requests})
        unprocessed = answer["UnprocessedItems"].get(table, [])
        assert 0 < len(unprocessed) < 25 and proxy.injected == len(unprocessed)
        stored = {i["id"]["S"] for i in dynamodb.scan(TableName=table)["Items"]}
        withheld = {r["PutRequest"]["Item"]["id"]["S"] for r in unprocessed}
        assert stored == {f"p{i}" for i in range(25)} - withheld
    finally:
        dynamodb.delete_table(TableName=table)


def test_whole_calls_can_fail_with_an_aws_error(isolated_stack):
    rule = RequestError("Kinesis_20131202.PutRecords", 1.0, status=400, code="ThrottlingException")
    with FaultProxy(isolated_stack.aws_endpoint_url, rules=[rule]) as proxy:
        kinesis = client("kinesis", _via(isolated_stack, proxy))
        with pytest.raises(ClientError) as caught:
            kinesis.put_records(
                StreamName=isolated_stack.stream_name, Records=[{"Data": b"{}", "PartitionKey": "a"}]
            )
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"


def test_the_proxy_runs_as_a_process_and_prints_where_it_listens(aws_stack):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse_devstack.fault_proxy",
            "--upstream",
            aws_stack["PULSE_AWS_ENDPOINT_URL"],
            "--put-records-failure",
            "0.3",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=30)
    assert first.startswith("fault proxy listening on http://127.0.0.1:")
    assert '"requests": 0' in rest and proc.returncode == 0
