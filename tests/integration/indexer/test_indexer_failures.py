"""Failures the indexer must survive without losing a post: a worker killed with kill -9, and
OpenSearch going away for 30 s in the middle of a run."""

from __future__ import annotations

import threading
import time
import urllib.request

import indexer_data as data
import indexer_helpers  # noqa: F401 - puts tests/fixtures/indexer on sys.path first
import pytest
from indexer_helpers import converged, expected_state, running_worker, settings_for, wait_until

from pulse_common.aws import client
from pulse_indexer.leases import LeaseTable

pytestmark = pytest.mark.integration


def _free_port() -> int:
    from pulse_devstack.procs import free_port

    return free_port()


def _lease_owner(stack, settings) -> str | None:
    from botocore.exceptions import ClientError

    try:
        leases = LeaseTable(client("dynamodb", stack), settings.lease_table_name, "observer").list()
    except ClientError:  # the workers have not created the lease table yet
        return None
    return leases[0].owner if leases else None


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_two_workers_share_the_stream_and_the_survivor_takes_over_from_one_killed_with_kill_9(
    indexer_stack, tmp_path
):
    from pulse_devstack.pipeline import Pipeline

    stack = indexer_stack
    settings = settings_for(stack)
    pipeline = Pipeline(stack_env={}, log_dir=tmp_path)
    ports = {"worker-a": _free_port(), "worker-b": _free_port()}
    workers = {
        name: pipeline.start_indexer(name, PULSE_INDEXER_WORKER_ID=name, PULSE_INDEXER_METRICS_PORT=str(port))
        for name, port in ports.items()
    }
    ops = data.workload(4000, seed=21)
    dynamodb = client("dynamodb", stack)
    try:
        writer = threading.Thread(target=data.write_ops, args=(dynamodb, stack.table_name, ops[:2000]))
        writer.start()
        wait_until(lambda: _lease_owner(stack, settings) in workers, 60, "a worker to take the shard")
        owner = _lease_owner(stack, settings)
        survivor = next(name for name in workers if name != owner)
        wait_until(
            lambda: (
                "pulse_indexer_docs_indexed_total 0.0"
                not in _get(f"http://127.0.0.1:{ports[owner]}/metrics")[1]
            ),
            60,
            "the owner to index its first documents",
        )
        workers[owner].kill()  # kill -9 of the whole process group, mid-run
        writer.join()
        data.write_ops(dynamodb, stack.table_name, ops[2000:])
        expected = expected_state(ops)
        wait_until(converged(stack, expected), 180, "OpenSearch to equal the table", interval_s=1)

        lease = LeaseTable(dynamodb, settings.lease_table_name, "observer").list()[0]
        assert lease.owner == survivor
        assert lease.owner_switches >= 2
        status, text = _get(f"http://127.0.0.1:{ports[survivor]}/readyz")
        assert status == 200 and survivor in text
        metrics = _get(f"http://127.0.0.1:{ports[survivor]}/metrics")[1]
        assert 'pulse_indexer_leases_taken_total{how="expired"} 1.0' in metrics
        assert "pulse_indexer_freshness_ingested_seconds_bucket" in metrics
        assert workers[survivor].running
    finally:
        pipeline.stop()


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
        with running_worker(settings_for(stack)):
            data.write_ops(dynamodb, stack.table_name, ops[:1000])
            wait_until(converged(stack, expected_state(ops[:1000])), 120, "the first half to be indexed")
            opensearch.stop_node(proc.pid)
            data.write_ops(dynamodb, stack.table_name, ops[1000:])
            time.sleep(30)  # the outage: the worker keeps reading and retrying meanwhile
            proc = start()
            wait_until(converged(stack, expected_state(ops)), 180, "OpenSearch to catch up", interval_s=1)
    finally:
        opensearch.stop_node(proc.pid)
