using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLocks.Chaos;

/// <summary>
/// One line of a worker's history, written to its standard output as JSON after <see cref="Prefix"/>.
/// Times are Unix milliseconds of the machine's clock, which the silos (grant times) share.
/// </summary>
internal sealed record ChaosEvent
{
    public const string Prefix = "EV ";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>start, grant, renew, write, write-refused, write-failed, end, null, wait-timeout, error, hung.</summary>
    public required string Kind { get; init; }

    public required string Worker { get; init; }

    public int Actor { get; init; }

    public string? Lock { get; init; }

    /// <summary>try or wait.</summary>
    public string? Op { get; init; }

    public long? Fencing { get; init; }

    /// <summary>When the operation was sent.</summary>
    public long? Sent { get; init; }

    /// <summary>When this event happened (the answer, the write, the end).</summary>
    public long At { get; init; }

    /// <summary>The grant's time on the silo.</summary>
    public long? Granted { get; init; }

    /// <summary>The lease's known expiry (silo clock).</summary>
    public long? Expires { get; init; }

    /// <summary>For end: released, lost, or release-failed.</summary>
    public string? Reason { get; init; }

    /// <summary>For end: when the release was sent and acknowledged.</summary>
    public long? ReleaseSent { get; init; }

    public long? ReleaseAcked { get; init; }

    /// <summary>For end: when the worker stopped using the resource.</summary>
    public long? UsedUntil { get; init; }

    /// <summary>
    /// For end: the last moment the holder looked and its <c>HandleLostToken</c> was not cancelled,
    /// so it believed it held the lock until at least then (the clock-skew rules compare beliefs).
    /// </summary>
    public long? HeldSeen { get; init; }

    /// <summary>For wait-timeout: the timeout the wait was given, in milliseconds.</summary>
    public long? Timeout { get; init; }

    /// <summary>For error: the exception type and message.</summary>
    public string? Error { get; init; }

    /// <summary>
    /// For write, write-refused and write-failed: the id of a fenced write to the guarded table
    /// (unique in the run), which a committed write's row carries.
    /// </summary>
    public string? WriteId { get; init; }

    public string ToLine() => Prefix + JsonSerializer.Serialize(this, Json);

    public static ChaosEvent? TryParse(string? line) =>
        line is not null && line.StartsWith(Prefix, StringComparison.Ordinal)
            ? JsonSerializer.Deserialize<ChaosEvent>(line.AsSpan(Prefix.Length), Json)
            : null;
}
