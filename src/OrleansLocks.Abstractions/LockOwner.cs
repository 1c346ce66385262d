namespace OrleansLocks;

/// <summary>Owner names: who holds a lock, for humans and the <c>worker_locks</c> view (Synapse's <c>instance_name</c>).</summary>
public static class LockOwner
{
    /// <summary>The longest owner name: 256 characters.</summary>
    public const int MaxLength = 256;

    /// <summary>The owner recorded when a caller names none and no client library supplied one.</summary>
    public const string Unknown = "unknown";

    /// <summary>The rule an owner name must follow, as quoted in error messages.</summary>
    public const string Rule = "an owner must be 1 to 256 characters without NUL";

    /// <summary>Throws an <see cref="ArgumentException"/> naming the rule when <paramref name="owner"/> is not a valid owner name.</summary>
    public static void Validate(string? owner, string paramName = "owner")
    {
        string? error = owner switch
        {
            null => "it is null",
            { Length: 0 } => "it is empty",
            { Length: > MaxLength } => $"it has {owner.Length} characters",
            _ when owner.Contains('\0', StringComparison.Ordinal) => "it contains NUL (U+0000)",
            _ => null,
        };
        if (error is not null)
        {
            throw new ArgumentException($"Invalid lock owner: {Rule}; {error}.", paramName);
        }
    }
}
