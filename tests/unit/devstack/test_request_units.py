import base64
import json

from pulse_devstack.request_units import RequestUnits, item_size, read_units, write_units


def account(units: RequestUnits, target: str, request: dict, response: dict, status: int = 200) -> None:
    units.account(target, json.dumps(request).encode(), json.dumps(response).encode(), status)


def test_an_item_is_sized_by_its_names_and_values_as_dynamodb_counts_them():
    assert item_size({"id": {"S": "x:1"}, "deleted": {"BOOL": True}}) == 2 + 3 + 7 + 1
    assert item_size({"v": {"N": "12345"}}) == 1 + 4


def test_write_units_round_up_to_whole_kilobytes_and_reads_to_four():
    small = {"id": {"S": "x"}}
    big = {"id": {"S": "x"}, "doc": {"S": "a" * 1500}}
    assert write_units(small) == 1
    assert write_units(big) == 2
    assert read_units(big, consistent=True) == 1
    assert read_units(big, consistent=False) == 0.5


def test_put_records_count_one_payload_unit_per_25_kb_of_each_accepted_record():
    units = RequestUnits()
    records = [
        {"Data": base64.b64encode(b"a" * 30_000).decode(), "PartitionKey": "k"},
        {"Data": base64.b64encode(b"b" * 100).decode(), "PartitionKey": "k"},
        {"Data": base64.b64encode(b"c").decode(), "PartitionKey": "k"},
    ]
    answer = {"Records": [{"SequenceNumber": "1"}, {"SequenceNumber": "2"}, {"ErrorCode": "Throttled"}]}
    account(units, "Kinesis_20131202.PutRecords", {"StreamName": "posts", "Records": records}, answer)
    totals = units.snapshot()
    assert totals["kinesis:posts:put_records"] == 2
    assert totals["kinesis:posts:put_payload_units"] == 3
    assert totals["kinesis:posts:put_bytes"] == 30_001 + 101


def test_batch_writes_bill_each_processed_item_and_reads_bill_keys_that_found_nothing():
    units = RequestUnits()
    item = {"id": {"S": "x:1"}, "doc": {"S": "a" * 2000}}
    puts = [{"PutRequest": {"Item": item}}] * 3
    account(
        units,
        "DynamoDB_20120810.BatchWriteItem",
        {"RequestItems": {"posts": puts}},
        {"UnprocessedItems": {"posts": puts[:1]}},
    )
    account(
        units,
        "DynamoDB_20120810.BatchGetItem",
        {
            "RequestItems": {
                "posts": {"Keys": [{"id": {"S": "a"}}, {"id": {"S": "b"}}], "ConsistentRead": True}
            }
        },
        {"Responses": {"posts": [item]}},
    )
    totals = units.snapshot()
    assert totals["dynamodb:posts:write_units"] == 2 * 2
    assert totals["dynamodb:posts:items_written"] == 2
    assert totals["dynamodb:posts:read_units"] == 2


def test_a_failed_conditional_put_still_costs_its_write_units():
    units = RequestUnits()
    account(
        units,
        "DynamoDB_20120810.PutItem",
        {"TableName": "posts", "Item": {"id": {"S": "x"}}},
        {"__type": "ConditionalCheckFailedException"},
        status=400,
    )
    assert units.snapshot()["dynamodb:posts:write_units"] == 1


def test_stream_reads_count_calls_and_empty_answers():
    units = RequestUnits()
    account(units, "DynamoDBStreams_20120810.GetRecords", {"ShardIterator": "i"}, {"Records": []})
    account(units, "DynamoDBStreams_20120810.GetRecords", {"ShardIterator": "i"}, {"Records": [{}]})
    totals = units.snapshot()
    assert totals["streams:-:get_records"] == 2
    assert totals["streams:-:get_records_empty"] == 1
