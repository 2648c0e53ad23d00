using BlobStorage.Internal;

namespace BlobStorage.Tests.Concurrency;

[TestFixture]
public sealed class DedicatedWorkersTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Work_runs_on_the_workers_own_threads_and_in_parallel(CancellationToken cancellationToken)
    {
        using var workers = new DedicatedWorkers(3, "test worker");
        using var allThree = new CountdownEvent(3);
        var names = new string?[3];
        var pool = new bool[3];
        var tasks = Enumerable.Range(0, 3).Select(i => workers.Run(() =>
        {
            names[i] = Thread.CurrentThread.Name;
            pool[i] = Thread.CurrentThread.IsThreadPoolThread;

            // Each waits for the other two: it only ends if the three run at once.
            allThree.Signal();
            allThree.Wait(cancellationToken);
        })).ToArray();

        await Task.WhenAll(tasks).WaitAsync(cancellationToken);

        names.Should().AllBe("test worker");
        pool.Should().AllBeEquivalentTo(false);
    }

    [Test]
    public async Task A_failure_faults_only_its_own_task()
    {
        using var workers = new DedicatedWorkers(1, "test worker");
        var failing = workers.Run(() => throw new IOException("flush failed"));
        var next = workers.Run(() => { });

        await FluentActions.Awaiting(() => failing).Should().ThrowAsync<IOException>().WithMessage("flush failed");
        await next;
        next.IsCompletedSuccessfully.Should().BeTrue();
    }

    [Test]
    public async Task After_disposal_work_runs_on_the_callers_thread_and_is_never_dropped()
    {
        var workers = new DedicatedWorkers(2, "test worker");
        var before = workers.Run(() => { });
        workers.Dispose();
        var caller = Environment.CurrentManagedThreadId;
        var ranOn = -1;

        var after = workers.Run(() => ranOn = Environment.CurrentManagedThreadId);

        after.IsCompletedSuccessfully.Should().BeTrue();
        ranOn.Should().Be(caller);
        await before;
    }

    [Test]
    public void Fewer_than_one_worker_is_refused()
    {
        FluentActions.Invoking(() => new DedicatedWorkers(0, "none")).Should().Throw<ArgumentOutOfRangeException>();
    }
}
