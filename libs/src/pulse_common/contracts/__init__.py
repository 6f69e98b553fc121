"""The pipeline's contracts: the one place each rule of the data's way through Pulse is written.

- `envelope`: the Kinesis record (`RecordEnvelope`, its encoding, partition key and `decode`);
- `items`: the posts table's item codec (`to_item`, `tombstone_item`, `from_item`, size limits,
  the version rules as condition expressions);
- `search`: the search document (`document`, derived fields) and index naming;
- `dead_letter`: the dead letter (`DeadLetter`, its SQS body) and its one writer.

Services, pulse-dlq and the checks of the reliability suite import these; none writes its own copy.
"""
