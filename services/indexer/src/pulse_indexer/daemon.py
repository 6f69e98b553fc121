"""Start the indexer's KCL daemon: the launcher JVM (see launcher.py) with generated properties."""

from __future__ import annotations

import logging

from pulse_common.aws import client as aws_client
from pulse_common.kcl import DaemonError, KclDaemon, find_java, render_logback
from pulse_indexer import launcher
from pulse_indexer.properties import describe, render_properties
from pulse_indexer.settings import IndexerSettings

log = logging.getLogger("pulse.indexer.daemon")

# The KCL's lease-table audit looks for holes in the shards' hash-key ranges; the adapter gives every
# DynamoDB stream lease the range 0-1 (streams have no hash ranges), so it logs an "Incomplete hash
# range" ERROR every audit and asks for a shard sync, which is harmless. The adapter turns the
# audit's threshold off for the same reason.
SILENCED_LOGGERS = ("software.amazon.kinesis.coordinator.PeriodicShardSyncManager",)


def stream_arn(settings: IndexerSettings, dynamodb=None) -> str:
    """The posts table's current stream (LatestStreamArn)."""
    dynamodb = dynamodb or aws_client("dynamodb", settings.stack)
    table = dynamodb.describe_table(TableName=settings.stack.table_name)["Table"]
    arn = table.get("LatestStreamArn")
    if not arn:
        raise DaemonError(
            f"table {settings.stack.table_name} has no stream enabled (NEW_AND_OLD_IMAGES needed)"
        )
    return arn


def java_command(settings: IndexerSettings, properties: str, logback: str) -> list[str]:
    return [
        find_java(settings.java, "PULSE_INDEXER_JAVA"),
        *settings.jvm_opts.split(),
        "-cp",
        launcher.classpath(settings.launcher_dir),
        launcher.MAIN_CLASS,
        "--properties-file",
        properties,
        "--log-configuration",
        logback,
    ]


def start(settings: IndexerSettings, daemon: KclDaemon, arn: str) -> None:
    properties = daemon.write(f"{settings.app_name}.properties", render_properties(settings, arn))
    logback = daemon.write("logback.xml", render_logback("indexer-kcl", settings.kcl_log_level,
                                                         silenced=SILENCED_LOGGERS))
    argv = java_command(settings, str(properties), str(logback))
    log.info(
        "starting the KCL daemon (DynamoDB Streams adapter)",
        extra={"target": describe(settings, arn), "properties": str(properties)},
    )
    daemon.start(argv)
