"""The reliability suite: failure scenarios run against the real services on the local stack.

Each scenario gets its own stream, table, dead-letter queue, index alias and KCL applications
(the enricher's and the indexer's, unique names), feeds posts through the real producer (or, where the
scenario needs records the producer would never write, straight into Kinesis), injects its
fault, waits until the stores converge and checks them against what the input says they must
hold. It returns one `Result`; `bench/reliability.py` prints

    reliability: <scenario> posts=<n> lost=<n> sink_duplicates=<n> dead_letter=<n> recovered_s=<s>

Definitions (what is counted, precisely):

- **expected state**: from the input alone. For every post id the operation with the highest
  `version` wins (a delete wins a tie), exactly the rule of `pulse_enricher.store_ops.latest_per_id`
  and of OpenSearch external versioning. The expected `Post` of an upsert is what
  `pulse_producer.parsers.parse_line` makes of the input line (or the envelope we put ourselves).
- **posts**: the number of distinct valid post ids in the input (poison records not included).
- **lost**: ids whose expected state is "present" but that are missing from DynamoDB or from
  OpenSearch, plus ids whose expected state is "deleted" but that are still present in either
  (each id counted once). A tombstone (the enricher's record of a delete: `deleted` = true) is not
  a post: "deleted" means no live item, a tombstone is fine; "present" needs a live item.
- **sink_duplicates**: ids stored in a state that a single, in-order delivery of the input could
  not give: (a) an `_id` found in more than one OpenSearch document (across the alias' monthly
  indices), (b) a DynamoDB item whose `version` is not the expected one, whose post fields (every
  field of `Post`, compared after JSON round trip) differ from the expected post, or whose id is
  not in the input at all, (c) an OpenSearch document whose external `_version` differs from the
  DynamoDB item's `version` or whose source differs from the item's `doc` (every field of the
  EnrichedPost except the derived `aspects[].name`). In the replay scenario (6) additionally any
  DynamoDB item or OpenSearch document whose bytes changed at all (`enriched_at` included): a
  replay must be a no-op. Each id counted once. Enrichment itself is not re-computed: the
  enriched fields are compared between the two stores, not against a reference model.
- **dead_letter**: messages in the scenario's dead-letter queue (SQS, approximate count, read
  after convergence).
- **recovered_s**: seconds from the end of the fault (the restart of the killed service, the
  moment OpenSearch is healthy again, the end of the input for the other scenarios) until both
  stores hold the expected state. `-1` when they never did within the scenario's timeout.

Scenarios are sequential and short (a few thousand posts each): the machine has 2 cores.
"""

from __future__ import annotations

from collections.abc import Callable

from .check import Options, Result, Verdict, verify
from .faults import s1_enricher_kill, s2_indexer_kill, s3_opensearch_down, s4_producer_throttling, s5_poison
from .inputs import Expected
from .ordering import s6_replay, s7_out_of_order, s8_two_enrichers, s10_reshard
from .soak import s9_soak
from .world import Workspace

SCENARIOS: dict[str, Callable[[Options], Result]] = {
    "enricher_kill": s1_enricher_kill,
    "indexer_kill": s2_indexer_kill,
    "opensearch_down": s3_opensearch_down,
    "producer_throttling": s4_producer_throttling,
    "poison": s5_poison,
    "replay": s6_replay,
    "out_of_order": s7_out_of_order,
    "two_enrichers": s8_two_enrichers,
    "reshard": s10_reshard,
    "soak": s9_soak,
}

__all__ = ["SCENARIOS", "Expected", "Options", "Result", "Verdict", "Workspace", "verify"]
