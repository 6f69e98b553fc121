"""Failures the indexer must survive without losing a post: a worker killed with kill -9, and
OpenSearch going away for 30 s in the middle of a run."""

from __future__ import annotations

import os
import threading
import time

import indexer_data as data
import indexer_helpers  # noqa: F401 - puts tests/fixtures/indexer on sys.path first
import pytest
from indexer_helpers import (
    IndexerRun,
    converged,
    expected_state,
    leases,
    running_worker,
    seed_leases,
    settings_for,
    wait_until,
)

from pulse_common.aws import client

pytestmark = pytest.mark.integration


def _free_port() -> int:
    from pulse_devstack.procs import free_port

    return free_port()


def test_two_workers_share_the_stream_and_the_survivor_takes_over_from_one_killed_with_kill_9(
    indexer_stack, tmp_path
):
    stack = indexer_stack
    app = settings_for(stack).app_name
    seed_leases(stack, app)
    workers = {
        name: IndexerRun({**os.environ, "PULSE_INDEXER_WORKER_ID": name}, tmp_path / f"{name}.log").start()
        for name in ("worker-a", "worker-b")
    }

    def owner() -> str | None:
        found = [lease.get("leaseOwner") for lease in leases(stack, app)]
        return found[0] if found and found[0] in workers else None

    ops = data.workload(4000, seed=21)
    dynamodb = client("dynamodb", stack)
    try:
        writer = threading.Thread(target=data.write_ops, args=(dynamodb, stack.table_name, ops[:2000]))
        writer.start()
        wait_until(lambda: owner() is not None, 90, "a worker to take the shard")
        first = owner()
        survivor = next(name for name in workers if name != first)
        wait_until(lambda: workers[first].applied() > 0, 60, "the owner to index its first documents")
        workers[first].kill9()  # kill -9 of run, its JVM and its processor, mid-run
        writer.join()
        data.write_ops(dynamodb, stack.table_name, ops[2000:])
        expected = expected_state(ops)
        # KCL 3: the survivor takes the lease once it expired (failover 5 s locally); when the dead
        # worker was the lease-assignment leader, after its leader lock expired (about 2 minutes).
        wait_until(converged(stack, expected), 240, "OpenSearch to equal the table", interval_s=1)

        assert owner() == survivor
        assert workers[survivor].applied() > 0
        status, text = workers[survivor].get("/readyz")
        assert status == 200 and survivor in text
        metrics = workers[survivor].get("/metrics")[1]
        assert "pulse_indexer_freshness_ingested_seconds_bucket" in metrics
        assert workers[survivor].running, workers[survivor].log_tail()
    finally:
        for run in workers.values():
            run.stop()


def test_opensearch_stopped_for_30_seconds_mid_run_loses_nothing(indexer_stack, tmp_path):
    from pulse_devstack import opensearch
    from pulse_devstack.paths import CACHE_DIR
    from pulse_indexer.migrate import apply_migrations

    http_port, transport_port = _free_port(), _free_port()
    home, log_path = tmp_path / "node", tmp_path / "node.log"

    def start():
        proc = opensearch.start_node(
            cache_dir=CACHE_DIR / "opensearch",
            home=home,
            http_port=http_port,
            transport_port=transport_port,
            log_path=log_path,
            heap_mb=384,
        )
        opensearch.wait_healthy(f"http://127.0.0.1:{http_port}", timeout_s=180, log_path=log_path, proc=proc)
        return proc

    proc = start()
    try:
        stack = indexer_stack.model_copy(update={"opensearch_url": f"http://127.0.0.1:{http_port}"})
        apply_migrations(stack)
        ops = data.workload(2000, seed=31)
        dynamodb = client("dynamodb", stack)
        with running_worker(tmp_path, PULSE_OPENSEARCH_URL=stack.opensearch_url) as run:
            data.write_ops(dynamodb, stack.table_name, ops[:1000])
            wait_until(converged(stack, expected_state(ops[:1000])), 120, "the first half to be indexed")
            opensearch.stop_node(proc.pid)
            data.write_ops(dynamodb, stack.table_name, ops[1000:])
            time.sleep(30)  # the outage: the worker keeps reading and retrying meanwhile
            proc = start()
            wait_until(converged(stack, expected_state(ops)), 180, "OpenSearch to catch up", interval_s=1)
            assert run.running, run.log_tail()
    finally:
        opensearch.stop_node(proc.pid)
