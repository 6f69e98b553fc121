from prometheus_client import CollectorRegistry, Histogram

from pulse_enricher.metrics import ENRICH_BUCKETS, BatchedObservations

VALUES = [0.0001, 0.0005, 0.0007, 0.001, 0.003, 0.0049, 0.2, 0.99, 1.0, 7.5, 0.0005]


def samples(histogram: Histogram) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for metric in histogram.collect() for s in metric.samples if not s.name.endswith("_created")}


def test_a_batch_of_observations_written_at_once_equals_observing_each_one():
    one_by_one = Histogram("each_seconds", "x", buckets=ENRICH_BUCKETS, registry=CollectorRegistry())
    batched = Histogram("each_seconds", "x", buckets=ENRICH_BUCKETS, registry=CollectorRegistry())
    gathered = BatchedObservations(batched)
    for value in VALUES:
        one_by_one.observe(value)
        gathered.observe(value)
    assert samples(batched)[("each_seconds_count", ())] == 0  # nothing written before the flush
    gathered.flush()
    gathered.flush()  # a second flush adds nothing
    assert samples(batched) == samples(one_by_one)


def test_observations_nobody_flushes_are_written_before_they_pile_up():
    histogram = Histogram("piled_seconds", "x", buckets=ENRICH_BUCKETS, registry=CollectorRegistry())
    gathered = BatchedObservations(histogram)
    for _ in range(BatchedObservations.FLUSH_AT):
        gathered.observe(0.002)
    assert samples(histogram)[("piled_seconds_count", ())] == BatchedObservations.FLUSH_AT
    assert gathered.values == []
