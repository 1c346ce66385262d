using System.Text.Json;
using Orleans.Storage;

namespace OrleansLocks.Grains.Storage;

/// <summary>
/// Stores grain state as plain UTF-8 JSON with no .NET type names, so the SQL views can read it
/// and a rename of a .NET type never orphans stored locks.
/// </summary>
internal sealed class LockStateJsonSerializer : IGrainStorageSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>The stored bytes of a lock's state (what <see cref="Serialize{T}"/> gives for it).</summary>
    public static byte[] ToBytes(LockState state) => JsonSerializer.SerializeToUtf8Bytes(state, Options);

    /// <summary>A lock's state from its stored bytes.</summary>
    /// <exception cref="JsonException">The bytes are not a lock state.</exception>
    public static LockState FromBytes(byte[] payload) =>
        JsonSerializer.Deserialize<LockState>(payload, Options) ?? new LockState();

    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    /// <inheritdoc/>
    public T? Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options);
    }
}
