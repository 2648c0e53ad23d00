using System.Reflection;
using BlobStorage.Abstractions;
using BlobStorage.Internal;

namespace BlobStorage.Tests.Facade;

/// <summary>
/// Access counts merged into properties while a batch of them is being written: a read that overlaps the batch's
/// commit may or may not see it in the metadata store, so it is not merged (which counted the batch twice) but read
/// again once the write has ended; a read before the commit starts merges the batch from memory without waiting.
/// </summary>
public sealed class AccessTrackerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Test]
    [CancelAfter(30_000)]
    public async Task A_read_that_overlaps_a_batch_commit_is_read_again_once_the_batch_is_written_and_counts_it_once(CancellationToken cancellationToken)
    {
        var store = GatedRecordStore.Create();
        using var tracker = new AccessTracker(store.Proxy, batchSize: 1000);
        for (var i = 0; i < 3; i++) tracker.Record("data", "blob", "v1", 10, Now);

        var flush = tracker.FlushAsync(cancellationToken);
        await store.Committed.Task.WaitAsync(cancellationToken);

        // The batch is committed but the flush has not ended: the row already holds the 3 downloads.
        var generation = tracker.Generation;
        tracker.TryMerge(Properties(accessCount: 3), generation, out var merged).Should().BeFalse("the read overlaps a batch being written");
        merged.AccessCount.Should().Be(3);
        var wait = tracker.WaitForFlushAsync(generation, cancellationToken);
        wait.IsCompleted.Should().BeFalse("the batch is still being written");

        store.Release.SetResult();
        (await flush).Should().Be(1);
        await wait;
        tracker.TryMerge(Properties(accessCount: 3), tracker.Generation, out merged).Should().BeTrue();
        merged.AccessCount.Should().Be(3, "the batch is counted once, by the row");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_read_made_before_a_batch_commit_and_merged_after_it_is_read_again(CancellationToken cancellationToken)
    {
        var store = GatedRecordStore.Create();
        using var tracker = new AccessTracker(store.Proxy, batchSize: 1000);
        tracker.Record("data", "blob", "v1", 10, Now);
        tracker.Record("data", "blob", "v1", 10, Now);

        // The row is read before the flush starts (it holds none of the downloads) and merged after it has ended.
        var generation = tracker.Generation;
        var before = Properties(accessCount: 0);
        var flush = tracker.FlushAsync(cancellationToken);
        await store.Committed.Task.WaitAsync(cancellationToken);
        store.Release.SetResult();
        await flush;

        tracker.TryMerge(before, generation, out _).Should().BeFalse("the flush moved the counts into the row after it was read");
        tracker.TryMerge(Properties(accessCount: 2), tracker.Generation, out var merged).Should().BeTrue();
        merged.AccessCount.Should().Be(2);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_read_before_the_commit_starts_merges_the_batch_from_memory_without_waiting(CancellationToken cancellationToken)
    {
        var store = GatedRecordStore.Create(holdBeforeCommit: true);
        using var tracker = new AccessTracker(store.Proxy, batchSize: 1000);
        tracker.Record("data", "blob", "v1", 10, Now);

        var flush = tracker.FlushAsync(cancellationToken);
        await store.Committed.Task.WaitAsync(cancellationToken);
        tracker.TryMerge(Properties(accessCount: 0), tracker.Generation, out var merged).Should().BeTrue("the batch is not in the row yet");
        merged.AccessCount.Should().Be(1);

        store.Release.SetResult();
        await flush;
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_failed_batch_is_counted_again_from_memory_and_exactly_once(CancellationToken cancellationToken)
    {
        var store = GatedRecordStore.Create(fail: true);
        using var tracker = new AccessTracker(store.Proxy, batchSize: 1000);
        tracker.Record("data", "blob", "v1", 10, Now);

        var flush = tracker.FlushAsync(cancellationToken);
        await store.Committed.Task.WaitAsync(cancellationToken);
        tracker.TryMerge(Properties(accessCount: 0), tracker.Generation, out _).Should().BeFalse();
        store.Release.SetResult();
        await FluentActions.Awaiting(() => flush).Should().ThrowAsync<IOException>();

        tracker.TryMerge(Properties(accessCount: 0), tracker.Generation, out var merged).Should().BeTrue();
        merged.AccessCount.Should().Be(1, "the download is pending again, not lost and not doubled");
    }

    private static BlobProperties Properties(long accessCount) => new()
    {
        Container = "data",
        Name = "blob",
        VersionId = "v1",
        ETag = "\"e\"",
        ContentHash = "h",
        AccessCount = accessCount,
    };

    /// <summary>A metadata store that says when its commit starts, as SqliteMetadataStore does.</summary>
    internal interface ISignallingMetadataStore : IMetadataStore, IAccessCommitSignal;

    /// <summary>A metadata store whose batch of accesses starts its commit (or fails), then holds until released.</summary>
#pragma warning disable CA1852 // DispatchProxy needs a type it can derive from.
    internal class GatedRecordStore : DispatchProxy
#pragma warning restore CA1852
    {
        private bool _fail;
        private bool _holdBeforeCommit;

        public IMetadataStore Proxy { get; private set; } = null!;

        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static GatedRecordStore Create(bool fail = false, bool holdBeforeCommit = false)
        {
            var proxy = DispatchProxy.Create<ISignallingMetadataStore, GatedRecordStore>();
            var gate = (GatedRecordStore)(object)proxy;
            gate.Proxy = proxy;
            gate._fail = fail;
            gate._holdBeforeCommit = holdBeforeCommit;
            return gate;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name != nameof(IMetadataStore.RecordAccessAsync) || args!.Length != 3 || args[1] is not Action committing)
            {
                throw new InvalidOperationException($"{targetMethod.Name} is not expected here.");
            }

            return new ValueTask(RecordAsync(committing));
        }

        private async Task RecordAsync(Action committing)
        {
            if (!_holdBeforeCommit) committing();
            Committed.TrySetResult();
            await Release.Task;
            if (_holdBeforeCommit) committing();
            if (_fail) throw new IOException("The disk went away.");
        }
    }
}
