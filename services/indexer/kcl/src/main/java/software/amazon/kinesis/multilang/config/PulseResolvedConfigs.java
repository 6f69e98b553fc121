package software.amazon.kinesis.multilang.config;

import software.amazon.kinesis.checkpoint.CheckpointConfig;
import software.amazon.kinesis.coordinator.CoordinatorConfig;
import software.amazon.kinesis.leases.LeaseManagementConfig;
import software.amazon.kinesis.lifecycle.LifecycleConfig;
import software.amazon.kinesis.metrics.MetricsConfig;
import software.amazon.kinesis.processor.ProcessorConfig;
import software.amazon.kinesis.processor.ShardRecordProcessorFactory;
import software.amazon.kinesis.retrieval.RetrievalConfig;

/**
 * The seven KCL configs the MultiLangDaemon resolves from its properties file.
 *
 * <p>{@code MultiLangDaemonConfiguration.resolvedConfiguration} is package-private, so this bridge
 * lives in its package; everything else of the launcher is in {@code dev.pulse.indexer.kcl}.
 */
public final class PulseResolvedConfigs {
    public final CheckpointConfig checkpoint;
    public final CoordinatorConfig coordinator;
    public final LeaseManagementConfig leaseManagement;
    public final LifecycleConfig lifecycle;
    public final MetricsConfig metrics;
    public final ProcessorConfig processor;
    public final RetrievalConfig retrieval;

    private PulseResolvedConfigs(MultiLangDaemonConfiguration.ResolvedConfiguration resolved) {
        checkpoint = resolved.getCheckpointConfig();
        coordinator = resolved.getCoordinatorConfig();
        leaseManagement = resolved.getLeaseManagementConfig();
        lifecycle = resolved.getLifecycleConfig();
        metrics = resolved.getMetricsConfig();
        processor = resolved.getProcessorConfig();
        retrieval = resolved.getRetrievalConfig();
    }

    public static PulseResolvedConfigs resolve(
            MultiLangDaemonConfiguration configuration, ShardRecordProcessorFactory factory) {
        return new PulseResolvedConfigs(configuration.resolvedConfiguration(factory));
    }
}
