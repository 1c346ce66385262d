namespace OrleansLocks.Diagnostics;

/// <summary>
/// The tag (attribute) keys and values the client and the silo share, so that both sides name a
/// lock the same way. Only low-cardinality, non-secret values: never a key, an owner or a token.
/// </summary>
internal static class TelemetryTags
{
    /// <summary>The lock's name (its first part; validated to 1-128 characters from [A-Za-z0-9_.-]).</summary>
    public const string LockName = "orleanslocks.lock.name";

    /// <summary>The kind of hold: <c>plain</c>, <c>read</c>, <c>write</c> or <c>semaphore</c>.</summary>
    public const string LockKind = "orleanslocks.lock.kind";

    /// <summary>How an acquire was asked for: <c>try</c>, <c>wait</c> or <c>multi</c>.</summary>
    public const string Mode = "orleanslocks.acquire.mode";

    /// <summary>How an operation ended (each instrument documents its values).</summary>
    public const string Outcome = "orleanslocks.outcome";

    /// <summary>Which operation: a retried client call, or a storage operation.</summary>
    public const string Operation = "orleanslocks.operation";

    /// <summary>Why a lease was lost or a waiter was dropped.</summary>
    public const string Reason = "orleanslocks.reason";

    /// <summary>How a hold ended: <c>released</c>, <c>lost</c> or <c>abandoned</c>.</summary>
    public const string End = "orleanslocks.hold.end";

    /// <summary>How a grant was made: <c>try</c> (at once) or <c>wait</c> (to a waiter in line).</summary>
    public const string Path = "orleanslocks.grant.path";

    /// <summary>A span attribute only: the fencing token of a grant (a number, not a secret).</summary>
    public const string FencingToken = "orleanslocks.lock.fencing_token";

    /// <summary>The lower-case tag value of <paramref name="kind"/>, without allocating.</summary>
    public static string KindValue(LockKind kind) => kind switch
    {
        OrleansLocks.LockKind.Plain => "plain",
        OrleansLocks.LockKind.Read => "read",
        OrleansLocks.LockKind.Write => "write",
        OrleansLocks.LockKind.UpgradeableRead => "upgradeable_read",
        OrleansLocks.LockKind.Semaphore => "semaphore",
        _ => "unknown",
    };
}
