using OrleansLocks.Admin;

namespace OrleansLocks.Grains.Admin;

/// <summary>The rules of the admin operations' arguments; each refusal names its rule and changes nothing.</summary>
internal static class AdminInput
{
    /// <summary>The longest reason: 500 characters.</summary>
    public const int MaxReasonLength = 500;

    public const string ReasonRule = "a reason is required: 1 to 500 characters, not only white space, without NUL";

    public const string RequestedByRule = "requestedBy must name who asks: 1 to 256 characters, not only white space, without NUL";

    public const string PageSizeRule = "a page size must be from 1 to 1000 rows";

    public const string PrefixRule = "a name prefix must be at most 128 characters from [A-Za-z0-9_.-] (what lock names are made of)";

    public static void ValidateReason(string? reason) =>
        Validate(reason, MaxReasonLength, ReasonRule, "Invalid reason", nameof(reason));

    public static void ValidateRequestedBy(string? requestedBy) =>
        Validate(requestedBy, LockOwner.MaxLength, RequestedByRule, "Invalid requestedBy", nameof(requestedBy));

    public static void ValidateQuery(LockListQuery? query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.PageSize is < 1 or > LockListQuery.MaxPageSize)
        {
            throw new ArgumentException($"Invalid page size: {PageSizeRule}; it was {query.PageSize}.", nameof(query));
        }

        if (query.NamePrefix is { Length: > 0 } prefix
            && (prefix.Length > LockId.MaxNameLength || !prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
        {
            throw new ArgumentException($"Invalid name prefix: {PrefixRule}.", nameof(query));
        }

        if (query.Owner is not null)
        {
            LockOwner.Validate(query.Owner, nameof(query));
        }
    }

    private static void Validate(string? text, int maxLength, string rule, string what, string paramName)
    {
        string? error = text switch
        {
            null => "it is null",
            _ when string.IsNullOrWhiteSpace(text) => "it is empty or white space",
            { Length: var length } when length > maxLength => $"it has {length} characters",
            _ when text.Contains('\0', StringComparison.Ordinal) => "it contains NUL (U+0000)",
            _ => null,
        };
        if (error is not null)
        {
            throw new ArgumentException($"{what}: {rule}; {error}.", paramName);
        }
    }
}
