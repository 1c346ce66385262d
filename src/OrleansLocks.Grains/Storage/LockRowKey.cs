using System.Text;
using Orleans.Storage;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// Where one grain state lives in the <c>OrleansStorage</c> table, computed exactly as the Orleans
/// ADO.NET grain storage provider computes it (the same key columns and the same stable hashes), so
/// the group-commit writer and the provider address the same row for the same lock.
/// </summary>
/// <remarks>
/// A grain key that reads as a Guid or integer key (with a '+' key extension) is split into
/// <c>GrainIdN0</c>/<c>GrainIdN1</c> and the extension, as the provider does; every other key (nearly
/// every lock key: "name:key") is stored whole in <c>GrainIdExtensionString</c>. The hashes are
/// Orleans' <see cref="OrleansDefaultHasher"/> over the key's bytes (reversed on little-endian
/// machines, as the provider does) and over the state name's UTF-8 bytes.
/// </remarks>
internal sealed record LockRowKey(int GrainIdHash, long N0, long N1, int GrainTypeHash, string GrainType, string? KeyExtension, string ServiceId)
{
    /// <summary>The whole grain key ("name:key"), for messages; the same string as <see cref="KeyExtension"/> for string keys.</summary>
    public required string GrainKey { get; init; }

    private static readonly OrleansDefaultHasher Hasher = new();

    /// <summary>The row of <paramref name="grainId"/>'s state named <paramref name="stateName"/> in service <paramref name="serviceId"/>.</summary>
    public static LockRowKey For(GrainId grainId, string stateName, string serviceId)
    {
        long n0 = 0, n1 = 0;
        string? extension;
        byte[]? numeric = null;
        if (grainId.TryGetGuidKey(out var guid, out extension))
        {
            var bytes = guid.ToByteArray();
            n0 = BitConverter.ToInt64(bytes, 0);
            n1 = BitConverter.ToInt64(bytes, 8);
            numeric = bytes;
        }
        else if (grainId.TryGetIntegerKey(out var integer, out extension))
        {
            n1 = integer;
            numeric = BitConverter.GetBytes(integer);
        }
        else
        {
            extension = grainId.Key.ToString()!;
        }

        var hashed = numeric is null
            ? Encoding.UTF8.GetBytes(extension!)
            : extension is null ? numeric : [.. numeric, .. Encoding.UTF8.GetBytes(extension)];
        if (BitConverter.IsLittleEndian)
        {
            Array.Reverse(hashed);
        }

        return new LockRowKey(
            Hasher.Hash(hashed), n0, n1, Hasher.Hash(Encoding.UTF8.GetBytes(stateName)), stateName, extension, serviceId)
        {
            GrainKey = numeric is null ? extension! : grainId.Key.ToString()!,
        };
    }
}
