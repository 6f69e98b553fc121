package dev.pulse.indexer.kcl;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.amazonaws.services.dynamodbv2.streamsadapter.AmazonDynamoDBStreamsAdapterClient;
import com.amazonaws.services.dynamodbv2.streamsadapter.StreamsSchedulerFactory;
import com.amazonaws.services.dynamodbv2.streamsadapter.polling.DynamoDBStreamsPollingConfig;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.StandardRetryStrategy;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClientBuilder;
import software.amazon.kinesis.common.InitialPositionInStream;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.multilang.MultiLangDaemonConfig;
import software.amazon.kinesis.multilang.MultiLangRecordProcessorFactory;
import software.amazon.kinesis.multilang.config.MultiLangDaemonConfiguration;
import software.amazon.kinesis.multilang.config.PulseResolvedConfigs;
import software.amazon.kinesis.retrieval.RetrievalConfig;
import software.amazon.kinesis.retrieval.polling.PollingConfig;

/**
 * The KCL 3 MultiLangDaemon, reading a DynamoDB stream through AWS's DynamoDB Streams Kinesis
 * Adapter (2.x ships the adapter's {@code StreamsSchedulerFactory} but no MultiLang launcher).
 *
 * <p>The same properties file and command line as {@code software.amazon.kinesis.multilang.MultiLangDaemon}
 * ({@code --properties-file}, {@code --log-configuration}); {@code streamName} is the table's stream
 * ARN. Two keys of its own: {@code regionName} (required) and {@code dynamoDBStreamsEndpoint}
 * (optional, a local emulator). The MultiLangDaemon resolves every other setting exactly as it
 * would for Kinesis; the retrieval config is then rebuilt around the adapter's client and polling
 * config, and the scheduler built by {@code StreamsSchedulerFactory}.
 */
public final class StreamsMultiLangDaemon {
    private static final Logger log = LoggerFactory.getLogger(StreamsMultiLangDaemon.class);

    private StreamsMultiLangDaemon() {}

    public static void main(String[] args) {
        int exitCode = 1;
        try {
            exitCode = run(args);
        } catch (Throwable t) {
            log.error("the DynamoDB Streams MultiLangDaemon could not start", t);
            t.printStackTrace(System.err);
        }
        System.exit(exitCode);
    }

    static int run(String[] args) throws Exception {
        String propertiesFile = null;
        String logConfiguration = null;
        for (int i = 0; i < args.length; i++) {
            if (("--properties-file".equals(args[i]) || "-p".equals(args[i])) && i + 1 < args.length) {
                propertiesFile = args[++i];
            } else if (("--log-configuration".equals(args[i]) || "-l".equals(args[i])) && i + 1 < args.length) {
                logConfiguration = args[++i];
            } else {
                throw new IllegalArgumentException("usage: --properties-file FILE [--log-configuration logback.xml]");
            }
        }
        if (propertiesFile == null) {
            throw new IllegalArgumentException("usage: --properties-file FILE [--log-configuration logback.xml]");
        }
        if (logConfiguration != null) {
            configureLogging(logConfiguration);
        }
        Properties properties = new Properties();
        try (InputStream in = new FileInputStream(propertiesFile)) {
            properties.load(in);
        }
        MultiLangDaemonConfig config = new MultiLangDaemonConfig(propertiesFile);
        MultiLangDaemonConfiguration settings = config.getMultiLangDaemonConfiguration();
        String streamArn = settings.getStreamName();
        Region region = Region.of(required(properties, "regionName"));

        AmazonDynamoDBStreamsAdapterClient adapterClient = new AmazonDynamoDBStreamsAdapterClient(
                streamsClient(region, properties.getProperty("dynamoDBStreamsEndpoint")), region);
        MultiLangRecordProcessorFactory multiLang = config.getRecordProcessorFactory();
        PulseResolvedConfigs resolved = PulseResolvedConfigs.resolve(
                settings, () -> new StreamsRecordProcessor(multiLang.shardRecordProcessor()));

        InitialPositionInStreamExtended initialPosition = settings.getInitialPositionInStreamExtended() != null
                ? settings.getInitialPositionInStreamExtended()
                : InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.TRIM_HORIZON);
        RetrievalConfig retrieval = new RetrievalConfig(
                adapterClient,
                StreamsSchedulerFactory.createSingleStreamTracker(streamArn, initialPosition),
                settings.getApplicationName());
        retrieval.listShardsBackoffTimeInMillis(resolved.retrieval.listShardsBackoffTimeInMillis());
        retrieval.maxListShardsRetryAttempts(resolved.retrieval.maxListShardsRetryAttempts());
        PollingConfig polling = (PollingConfig) resolved.retrieval.retrievalSpecificConfig();
        DynamoDBStreamsPollingConfig streamsPolling = new DynamoDBStreamsPollingConfig(streamArn, adapterClient);
        streamsPolling.maxRecords(polling.maxRecords());
        streamsPolling.idleTimeBetweenReadsInMillis(polling.idleTimeBetweenReadsInMillis());
        retrieval.retrievalSpecificConfig(streamsPolling);

        Scheduler scheduler = StreamsSchedulerFactory.createScheduler(
                resolved.checkpoint,
                resolved.coordinator,
                resolved.leaseManagement,
                resolved.lifecycle,
                resolved.metrics,
                resolved.processor,
                retrieval,
                adapterClient);
        log.info("consuming {} as application {} (worker {})",
                streamArn, settings.getApplicationName(), settings.getWorkerIdentifier());

        long graceMillis = settings.getShutdownGraceMillis();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("Process terminated, will initiate shutdown.");
            try {
                scheduler.startGracefulShutdown().get(graceMillis, TimeUnit.MILLISECONDS);
                log.info("Process shutdown is complete.");
            } catch (Exception e) {
                log.error("Encountered an error during shutdown.", e);
            }
        }));
        ExecutorService executor = config.getExecutorService();
        Future<Integer> running = executor.submit(() -> {
            try {
                scheduler.run();
                return 0;
            } catch (Throwable t) {
                log.error("Caught throwable while processing data", t);
                return 1;
            }
        });
        return running.get();
    }

    /** The DynamoDB Streams client, with the retry policy the adapter recommends (100 ms to 10 s). */
    static DynamoDbStreamsClient streamsClient(Region region, String endpoint) {
        BackoffStrategy backoff = BackoffStrategy.exponentialDelay(Duration.ofMillis(100), Duration.ofMillis(10000));
        StandardRetryStrategy retry = StandardRetryStrategy.builder()
                .maxAttempts(10)
                .backoffStrategy(backoff)
                .throttlingBackoffStrategy(backoff)
                .build();
        DynamoDbStreamsClientBuilder builder = DynamoDbStreamsClient.builder()
                .region(region)
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .overrideConfiguration(ClientOverrideConfiguration.builder().retryStrategy(retry).build());
        if (endpoint != null && !endpoint.isBlank()) {
            builder.endpointOverride(URI.create(endpoint.trim()));
        }
        return builder.build();
    }

    private static String required(Properties properties, String key) {
        String value = properties.getProperty(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("the properties file must set " + key);
        }
        return value.trim();
    }

    private static void configureLogging(String path) throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try (InputStream in = new FileInputStream(path)) {
            configurator.doConfigure(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the log configuration " + path, e);
        }
    }
}
