package dev.pulse.indexer.kcl;

import com.amazonaws.services.dynamodbv2.streamsadapter.model.DynamoDBStreamsProcessRecordsInput;
import com.amazonaws.services.dynamodbv2.streamsadapter.processor.DynamoDBStreamsShardRecordProcessor;
import java.util.ArrayList;
import software.amazon.kinesis.lifecycle.events.InitializationInput;
import software.amazon.kinesis.lifecycle.events.LeaseLostInput;
import software.amazon.kinesis.lifecycle.events.ProcessRecordsInput;
import software.amazon.kinesis.lifecycle.events.ShardEndedInput;
import software.amazon.kinesis.lifecycle.events.ShutdownRequestedInput;
import software.amazon.kinesis.processor.ShardRecordProcessor;

/**
 * The adapter's scheduler only accepts {@link DynamoDBStreamsShardRecordProcessor}s; the
 * MultiLangDaemon's processor (one Python child per shard) is a plain {@link ShardRecordProcessor}.
 * This forwards every call to it unchanged: each record's data already is the stream record's JSON.
 */
final class StreamsRecordProcessor implements DynamoDBStreamsShardRecordProcessor {
    private final ShardRecordProcessor delegate;

    StreamsRecordProcessor(ShardRecordProcessor delegate) {
        this.delegate = delegate;
    }

    @Override
    public void initialize(InitializationInput initializationInput) {
        delegate.initialize(initializationInput);
    }

    @Override
    public void processRecords(ProcessRecordsInput processRecordsInput) {
        delegate.processRecords(processRecordsInput);
    }

    @Override
    public void processRecords(DynamoDBStreamsProcessRecordsInput input) {
        delegate.processRecords(ProcessRecordsInput.builder()
                .records(new ArrayList<>(input.records()))
                .checkpointer(input.checkpointer())
                .cacheEntryTime(input.cacheEntryTime())
                .cacheExitTime(input.cacheExitTime())
                .millisBehindLatest(input.millisBehindLatest())
                .childShards(input.childShards())
                .isAtShardEnd(input.isAtShardEnd())
                .build());
    }

    @Override
    public void leaseLost(LeaseLostInput leaseLostInput) {
        delegate.leaseLost(leaseLostInput);
    }

    @Override
    public void shardEnded(ShardEndedInput shardEndedInput) {
        delegate.shardEnded(shardEndedInput);
    }

    @Override
    public void shutdownRequested(ShutdownRequestedInput shutdownRequestedInput) {
        delegate.shutdownRequested(shutdownRequestedInput);
    }
}
