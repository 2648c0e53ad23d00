using BlobStorage.Metadata.Sqlite;
using BlobStorage.Tests.Support;

namespace BlobStorage.Tests.Metadata;

/// <summary>The bounded pool of reader connections: taken at once when one is free, waited for without blocking when none is.</summary>
[Parallelizable(ParallelScope.All)]
public sealed class SqliteConnectionPoolTests
{
    private static (TempFolder Folder, SqliteConnectionPool Pool, Func<int> Opened) Create(int capacity)
    {
        var folder = new TempFolder("pool");
        var path = Path.Combine(folder.Path, "pool.db");
        var opened = 0;
        var pool = new SqliteConnectionPool(
            () =>
            {
                Interlocked.Increment(ref opened);
                return SqliteSession.Open($"Data Source={path};Pooling=false", SynchronousMode.Full, path, reader: true);
            },
            capacity);
        return (folder, pool, () => Volatile.Read(ref opened));
    }

    [Test]
    public async Task A_read_waits_for_a_busy_connection_and_gets_it_when_it_comes_back()
    {
        var (folder, pool, opened) = Create(capacity: 1);
        using var folderToDelete = folder;
        using (pool)
        {
            pool.TryRent(out var first).Should().BeTrue();
            pool.TryRent(out var none).Should().BeFalse("the only connection is in use");
            none.Should().BeNull();

            var waiting = pool.RentAsync(CancellationToken.None).AsTask();
            waiting.IsCompleted.Should().BeFalse();
            pool.Return(first!);
            var second = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

            second.Should().BeSameAs(first, "a connection is kept and handed on, not closed and opened again");
            opened().Should().Be(1);
            pool.Return(second);
            pool.TryRent(out var again).Should().BeTrue();
            again.Should().BeSameAs(first);
            pool.Return(again!);
        }
    }

    [Test]
    public async Task A_cancelled_wait_takes_no_connection_and_a_closed_one_makes_room()
    {
        var (folder, pool, opened) = Create(capacity: 1);
        using var folderToDelete = folder;
        using (pool)
        {
            pool.TryRent(out var first).Should().BeTrue();
            using var cancel = new CancellationTokenSource();
            var cancelled = pool.RentAsync(cancel.Token).AsTask();
            var waiting = pool.RentAsync(CancellationToken.None).AsTask();
            await cancel.CancelAsync();
            await FluentActions.Awaiting(() => cancelled).Should().ThrowAsync<OperationCanceledException>();

            // A connection that failed is closed; the read waiting next opens a new one in its place.
            pool.Discard(first!);
            var replacement = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            replacement.Should().NotBeSameAs(first);
            opened().Should().Be(2);
            pool.TryRent(out _).Should().BeFalse("the replacement holds the only place");
            pool.Return(replacement);
        }
    }

    [Test]
    public async Task Disposing_fails_the_waiting_reads()
    {
        var (folder, pool, opened) = Create(capacity: 1);
        using var folderToDelete = folder;
        pool.TryRent(out var first).Should().BeTrue();
        var waiting = pool.RentAsync(CancellationToken.None).AsTask();

        pool.Dispose();

        await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<ObjectDisposedException>();
        pool.Return(first!);
        first!.Connection.State.Should().Be(System.Data.ConnectionState.Closed, "a connection coming back to a disposed pool is closed");
        FluentActions.Invoking(() => pool.TryRent(out _)).Should().Throw<ObjectDisposedException>();
        opened().Should().Be(1);
    }
}
