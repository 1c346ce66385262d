using System.Globalization;

namespace OrleansLocks.Grains.Admin;

/// <summary>
/// Where a page of the held-lock list ended: the sort key of its last row (grant time, fencing token,
/// kind and grain key, newest first), written as the opaque continuation string callers pass back.
/// </summary>
internal sealed record ListContinuation(long AcquiredAt, long FencingToken, LockKind Kind, string GrainKey)
{
    private const string Version = "c1";

    public override string ToString() =>
        string.Join(':', Version, AcquiredAt.ToString(CultureInfo.InvariantCulture), FencingToken.ToString(CultureInfo.InvariantCulture), ((int)Kind).ToString(CultureInfo.InvariantCulture), GrainKey);

    /// <summary>Reads a continuation this code wrote; null for none.</summary>
    /// <exception cref="ArgumentException">It is not a continuation that List returned.</exception>
    public static ListContinuation? Parse(string? text)
    {
        if (text is null)
        {
            return null;
        }

        // The grain key is last and may itself hold ':' (lock keys may).
        var parts = text.Split(':', 5);
        if (parts.Length == 5
            && parts[0] == Version
            && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var acquiredAt)
            && long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var fencing)
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var kind)
            && Enum.IsDefined((LockKind)kind)
            && LockId.TryParse(parts[4], out _))
        {
            return new ListContinuation(acquiredAt, fencing, (LockKind)kind, parts[4]);
        }

        throw new ArgumentException("Invalid continuation: pass back the Continuation of the page List returned, unchanged.", "query");
    }

    /// <summary>Whether a row with these sort keys comes after this point (newest first).</summary>
    public bool IsBefore(long acquiredAt, long fencingToken, LockKind kind, string grainKey) =>
        Compare(acquiredAt, fencingToken, kind, grainKey) < 0;

    private int Compare(long acquiredAt, long fencingToken, LockKind kind, string grainKey)
    {
        var byTime = acquiredAt.CompareTo(AcquiredAt);
        if (byTime != 0)
        {
            return byTime;
        }

        var byFencing = fencingToken.CompareTo(FencingToken);
        return byFencing != 0 ? byFencing
            : kind != Kind ? ((int)kind).CompareTo((int)Kind)
            : string.CompareOrdinal(grainKey, GrainKey);
    }
}
