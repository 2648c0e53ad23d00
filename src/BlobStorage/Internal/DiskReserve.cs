using BlobStorage.Diagnostics;
using Microsoft.Extensions.Logging;

namespace BlobStorage.Internal;

/// <summary>
/// A file of reserved disk space beside the metadata database. A full disk would otherwise leave no room
/// for the very transactions that free space (a delete, a collection pass): the store releases the reserve
/// when such a call meets a full disk, runs the call again, and takes the reserve back once there is room.
/// </summary>
internal sealed class DiskReserve
{
    internal const string FileName = "space.reserve";
    private const int ZeroBlock = 1024 * 1024;
    private readonly string _path;
    private readonly long _size;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private bool _held;

    public DiskReserve(string rootPath, long size, ILogger logger)
    {
        _path = Path.Combine(Path.GetFullPath(rootPath), FileName);
        _size = size;
        _logger = logger;
    }

    public string FilePath => _path;

    /// <summary>True while the reserve is given up because a call met a full disk, until maintenance finds room to take it back.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>
    /// The bytes free to this process on the file system that holds <paramref name="path"/> (the mount with the longest root
    /// that contains it); null when the system does not say.
    /// </summary>
    public static long? AvailableBytes(string path)
    {
        var full = Path.GetFullPath(path);
        DriveInfo? best = null;
        try
        {
            foreach (var drive in DriveInfo.GetDrives())
            {
                var root = drive.RootDirectory.FullName;
                if (!full.StartsWith(root, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)) continue;
                if (root.Length > 1 && full.Length > root.Length && !root.EndsWith(Path.DirectorySeparatorChar) && full[root.Length] != Path.DirectorySeparatorChar) continue;
                if (best is null || root.Length > best.RootDirectory.FullName.Length) best = drive;
            }

            return best is { IsReady: true } ? best.AvailableFreeSpace : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Makes sure the reserve file exists at its full size; on a disk without room it logs and leaves none.</summary>
    public void TryTake()
    {
        if (_size == 0) return;
        lock (_gate)
        {
            if (_held) return;
            try
            {
                var existing = new FileInfo(_path);
                if (!existing.Exists || existing.Length != _size) Fill();
                _held = true;
                IsReleased = false;
            }
            catch (Exception ex) when (StorageFailures.IsIO(ex))
            {
                TryDelete();
                Log.ReserveUnavailable(_logger, ex, _size, _path);
            }
        }
    }

    /// <summary>Deletes the reserve; true when it was held, so a call that met a full disk has room to try again.</summary>
    public bool Release()
    {
        lock (_gate)
        {
            if (!_held) return false;
            _held = false;
            if (!TryDelete()) return false;
            IsReleased = true;
            Log.ReserveReleased(_logger, _size, _path);
            return true;
        }
    }

    private void Fill()
    {
        // fallocate gives the file its blocks at once where the file system has it (the length then is the
        // full size); elsewhere the zeros are written, so a file system that cannot preallocate still hands
        // over real space. Never flushed: after a crash the reserve is simply made again.
        using var handle = File.OpenHandle(_path, FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.None, _size);
        if (RandomAccess.GetLength(handle) == _size) return;
        var zeros = new byte[Math.Min(ZeroBlock, _size)];
        for (long offset = 0; offset < _size; offset += zeros.Length)
        {
            RandomAccess.Write(handle, zeros.AsSpan(0, (int)Math.Min(zeros.Length, _size - offset)), offset);
        }
    }

    private bool TryDelete()
    {
        try
        {
            File.Delete(_path);
            return true;
        }
        catch (Exception ex) when (StorageFailures.IsIO(ex))
        {
            return false;
        }
    }
}
