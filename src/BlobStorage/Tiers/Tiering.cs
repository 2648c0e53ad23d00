using BlobStorage.Abstractions;
using BlobStorage.Chunks;
using BlobStorage.Replication;

namespace BlobStorage.Tiers;

/// <summary>How storage classes reach the chunk stores: their treatment, and the rewrite of a blob's chunks when it changes class.</summary>
internal static class Tiering
{
    /// <summary>Gives every node of the replicator that treats chunks by class the classes' treatment from the options.</summary>
    public static void ApplyTreatments(IReplicator replicator, BlobStorageOptions options)
    {
        if (replicator is not RendezvousReplicator rendezvous) return;
        var treatments = new StorageClassTreatments(options.StorageClasses);
        foreach (var node in rendezvous.Nodes)
        {
            if (node.Store is ITieredChunkStore tiered) tiered.Treatments = treatments;
        }
    }

    /// <summary>
    /// Writes a chunk for a blob that moved to <paramref name="placement"/>'s class: copies the placement asks for
    /// and lacks are written, and copies in another form are rewritten into the class's form. Returns how many
    /// copies were written or rewritten.
    /// </summary>
    public static async ValueTask<int> RewriteAsync(IReplicator replicator, ChunkId id, ReadOnlyMemory<byte> content, ChunkPlacement placement, CancellationToken cancellationToken)
    {
        var written = await replicator.WriteAsync(id, content, placement, cancellationToken).ConfigureAwait(false) ? 1 : 0;
        if (replicator is not RendezvousReplicator rendezvous) return written;
        foreach (var node in rendezvous.Place(id, placement))
        {
            if (node.Store is ITieredChunkStore tiered && await tiered.RewriteAsync(id, content, placement.StorageClass, cancellationToken).ConfigureAwait(false))
            {
                written++;
            }
        }

        return written;
    }
}
