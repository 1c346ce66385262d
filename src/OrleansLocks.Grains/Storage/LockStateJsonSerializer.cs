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

    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    /// <inheritdoc/>
    public T? Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options);
    }
}
