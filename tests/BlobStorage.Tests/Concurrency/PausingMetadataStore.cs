using System.Reflection;
using System.Runtime.ExceptionServices;
using BlobStorage.Abstractions;

namespace BlobStorage.Tests.Concurrency;

/// <summary>
/// Wraps a real metadata store and can hold one call at a chosen point until the test releases it,
/// so that an interleaving of the facade's steps with other calls is forced instead of hoped for.
/// Every other member is forwarded as it is (a dispatch proxy, so the wrapper follows the interface
/// as it grows).
/// </summary>
public class PausingMetadataStore : DispatchProxy
{
    private IMetadataStore _inner = null!;
    private Pause? _afterGetBlob;
    private Pause? _beforeRecordAccess;

    /// <summary>Wraps <paramref name="inner"/>: give <c>Store</c> to the builder, arm pauses on <c>Control</c>.</summary>
    public static (IMetadataStore Store, PausingMetadataStore Control) Wrap(IMetadataStore inner)
    {
        var store = Create<IMetadataStore, PausingMetadataStore>();
        var control = (PausingMetadataStore)(object)store;
        control._inner = inner;
        return (store, control);
    }

    /// <summary>The next <see cref="IMetadataStore.GetBlobAsync"/> that finds a blob will wait, after reading it, until the pause is released.</summary>
    public Pause PauseAfterNextGetBlob()
    {
        var pause = new Pause();
        Volatile.Write(ref _afterGetBlob, pause);
        return pause;
    }

    /// <summary>The next <see cref="IMetadataStore.RecordAccessAsync"/> will wait, before writing, until the pause is released.</summary>
    public Pause PauseBeforeNextRecordAccess()
    {
        var pause = new Pause();
        Volatile.Write(ref _beforeRecordAccess, pause);
        return pause;
    }

    /// <summary>A one-shot pause: the held call signals <see cref="Reached"/> and waits for <see cref="Release"/>.</summary>
    public sealed class Pause
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _reached.Task;

        public void Release() => _released.TrySetResult();

        internal Task HoldAsync()
        {
            _reached.TrySetResult();
            return _released.Task;
        }
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        args ??= [];
        if (targetMethod.Name == nameof(IMetadataStore.GetBlobAsync))
        {
            return new ValueTask<BlobRecord?>(GetBlobAsync((string)args[0]!, (string)args[1]!, (CancellationToken)args[2]!));
        }

        if (targetMethod.Name == nameof(IMetadataStore.RecordAccessAsync))
        {
            return new ValueTask(RecordAccessAsync((IReadOnlyCollection<BlobAccess>)args[0]!, (CancellationToken)args[1]!));
        }

        return Forward(targetMethod, args);
    }

    private async Task<BlobRecord?> GetBlobAsync(string container, string name, CancellationToken cancellationToken)
    {
        var record = await _inner.GetBlobAsync(container, name, cancellationToken);
        if (record is not null && Interlocked.Exchange(ref _afterGetBlob, null) is { } pause) await pause.HoldAsync();
        return record;
    }

    private async Task RecordAccessAsync(IReadOnlyCollection<BlobAccess> accesses, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _beforeRecordAccess, null) is { } pause) await pause.HoldAsync();
        await _inner.RecordAccessAsync(accesses, cancellationToken);
    }

    private object? Forward(MethodInfo method, object?[] args)
    {
        try
        {
            return method.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }
}
