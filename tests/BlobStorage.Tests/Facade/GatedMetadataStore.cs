using System.Reflection;
using System.Runtime.ExceptionServices;
using BlobStorage.Abstractions;

namespace BlobStorage.Tests.Facade;

/// <summary>
/// Wraps a metadata store so that a test can hold a call at a gate and look at the store while the
/// call is under way: access-count writes are held before they reach the store, a container lookup
/// after it has read its answer. A <see cref="DispatchProxy"/> forwards every other member, so the
/// wrapper keeps up with the interface as it grows.
/// </summary>
public class GatedMetadataStore : DispatchProxy
{
    private IMetadataStore _inner = null!;
    private TaskCompletionSource? _accessGate;
    private bool _holdAfterCommit;
    private TaskCompletionSource? _blockingGate;
    private TaskCompletionSource? _lookupGate;
    private int _lookupArmed;

    /// <summary>Completes when a held call has reached its gate.</summary>
    public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static (IMetadataStore Store, GatedMetadataStore Gate) Wrap(IMetadataStore inner)
    {
        var store = Create<IMetadataStore, GatedMetadataStore>();
        var gate = (GatedMetadataStore)(object)store;
        gate._inner = inner;
        return (store, gate);
    }

    /// <summary>
    /// Holds every following access-count write until <see cref="Release"/>: before it reaches the
    /// store, or with <paramref name="afterCommit"/> after the store has committed it but before the caller hears so.
    /// </summary>
    public void HoldAccessWrites(bool afterCommit = false)
    {
        Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holdAfterCommit = afterCommit;
        _accessGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Holds every following access-count write on the thread that makes it, before it reaches the
    /// store, until <see cref="Release"/>: as a write that runs its commit on its caller's thread would.
    /// </summary>
    public void BlockAccessWrites()
    {
        Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _blockingGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Holds the next container lookup, after it has read its answer, until <see cref="Release"/>.</summary>
    public void HoldNextContainerLookup()
    {
        Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _lookupGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _lookupArmed, 1);
    }

    public void Release()
    {
        Interlocked.Exchange(ref _accessGate, null)?.TrySetResult();
        Interlocked.Exchange(ref _blockingGate, null)?.TrySetResult();
        Interlocked.Exchange(ref _lookupGate, null)?.TrySetResult();
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IMetadataStore.RecordAccessAsync) && _accessGate is { } accessGate)
        {
            // The interface method returns a ValueTask; a Task-backed one carries the held write.
            return new ValueTask(HeldWriteAsync(accessGate, targetMethod, args));
        }

        if (targetMethod.Name == nameof(IMetadataStore.RecordAccessAsync) && _blockingGate is { } blockingGate)
        {
            Entered.TrySetResult();
            blockingGate.Task.Wait(TimeSpan.FromMinutes(1));
        }

        if (targetMethod.Name == nameof(IMetadataStore.GetContainerAsync) && Interlocked.Exchange(ref _lookupArmed, 0) == 1 && _lookupGate is { } lookupGate)
        {
            return new ValueTask<ContainerProperties?>(HeldLookupAsync(lookupGate, targetMethod, args));
        }

        return Forward(targetMethod, args);
    }

    private async Task HeldWriteAsync(TaskCompletionSource gate, MethodInfo targetMethod, object?[]? args)
    {
        if (_holdAfterCommit) await (ValueTask)Forward(targetMethod, args)!;
        Entered.TrySetResult();
        await gate.Task;
        if (!_holdAfterCommit) await (ValueTask)Forward(targetMethod, args)!;
    }

    private async Task<ContainerProperties?> HeldLookupAsync(TaskCompletionSource gate, MethodInfo targetMethod, object?[]? args)
    {
        var answer = await (ValueTask<ContainerProperties?>)Forward(targetMethod, args)!;
        Entered.TrySetResult();
        await gate.Task;
        return answer;
    }

    private object? Forward(MethodInfo targetMethod, object?[]? args)
    {
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }
}
