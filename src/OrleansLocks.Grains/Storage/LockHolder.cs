using System.Text.Json.Serialization;

namespace OrleansLocks.Grains;

/// <summary>
/// One holder of a lock: the writer (or the plain lock's holder) or one reader. Part of the stored
/// JSON of <see cref="LockState"/>, so its property names never change. Times are milliseconds since
/// the Unix epoch.
/// </summary>
/// <param name="Token">The holder's secret token.</param>
/// <param name="Owner">The holder's owner name.</param>
/// <param name="AcquiredAt">When the grant was made.</param>
/// <param name="LastRenewedAt">When the grant was last renewed.</param>
/// <param name="ExpiresAt">When the grant expires unless renewed.</param>
/// <param name="FencingToken">The fencing token of this grant.</param>
/// <param name="AcquireId">The client's id for the acquire or wait that made the grant (makes retries idempotent).</param>
/// <param name="Upgradeable">Whether this reader is the read/write lock's upgradeable reader (absent from the JSON when false).</param>
internal sealed record LockHolder(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("acquiredAt")] long AcquiredAt,
    [property: JsonPropertyName("lastRenewedAt")] long LastRenewedAt,
    [property: JsonPropertyName("expiresAt")] long ExpiresAt,
    [property: JsonPropertyName("fencingToken")] long FencingToken,
    [property: JsonPropertyName("acquireId")] string? AcquireId,
    [property: JsonPropertyName("upgradeable"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Upgradeable = false)
{
    /// <summary>Whether the grant is still in force at <paramref name="now"/>.</summary>
    public bool IsLiveAt(long now) => now < ExpiresAt;

    /// <summary>Describes the holder without its token.</summary>
    public override string ToString() => $"LockHolder {{ Owner = {Owner}, FencingToken = {FencingToken}, ExpiresAt = {ExpiresAt} }}";
}
