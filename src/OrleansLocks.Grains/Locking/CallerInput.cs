using System.Collections.Concurrent;

namespace OrleansLocks.Grains.Locking;

/// <summary>The rules for what callers pass to a lock grain besides tokens: owner names, waiter ids and attempt ids.</summary>
internal static class CallerInput
{
    /// <summary>The longest waiter or attempt id.</summary>
    public const int MaxIdLength = 64;

    // Owners are few (one per process that takes locks) and every holder keeps one, while each call
    // brings its own copy of the string: held locks share one copy per owner name (memory per held
    // lock counts). Bounded, so callers inventing owner names cannot grow it without end.
    private const int MaxSharedOwners = 4096;

    private static readonly ConcurrentDictionary<string, string> SharedOwners = new(StringComparer.Ordinal);

    /// <summary>The owner to record: <paramref name="owner"/>, else the caller's request context, else <see cref="LockOwner.Unknown"/>; validated.</summary>
    public static string ResolveOwner(string? owner)
    {
        owner ??= RequestContext.Get(LockRequestContext.OwnerKey) as string ?? LockOwner.Unknown;
        LockOwner.Validate(owner);
        if (SharedOwners.TryGetValue(owner, out var shared))
        {
            return shared;
        }

        return SharedOwners.Count < MaxSharedOwners ? SharedOwners.GetOrAdd(owner, owner) : owner;
    }

    /// <summary>Refuses a waiter id that breaks the id rule.</summary>
    public static void ValidateWaiterId(string waiterId) => ValidateId(waiterId, "A waiter id", nameof(waiterId));

    /// <summary>Refuses an attempt id that breaks the id rule (null means "no attempt id").</summary>
    public static void ValidateAttemptId(string? attemptId)
    {
        if (attemptId is not null)
        {
            ValidateId(attemptId, "An attempt id", "acquireId");
        }
    }

    // Waiter ids and attempt ids follow one rule: they are stored in the state and compared as given.
    private static void ValidateId(string value, string what, string parameter)
    {
        if (value is null)
        {
            throw new ArgumentNullException(parameter, $"{what} must be 1 to {MaxIdLength} characters from [A-Za-z0-9_-], not null.");
        }

        if (value.Length is 0 or > MaxIdLength || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new ArgumentException($"{what} must be 1 to {MaxIdLength} characters from [A-Za-z0-9_-].", parameter);
        }
    }
}
