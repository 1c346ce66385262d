using OrleansLocks.Admin;

namespace OrleansLocks.Cli.Commands;

/// <summary>The tables the commands print for people.</summary>
internal static class LockTables
{
    /// <summary>Held locks: one row per holder; acquired as a UTC time, renewal and expiry relative to now.</summary>
    public static Table Held(IEnumerable<HeldLock> rows, DateTimeOffset now, bool withWaiting)
    {
        string[] headers = ["NAME", "KEY", "KIND", "OWNER", "FENCING", "ACQUIRED (UTC)", "RENEWED", "EXPIRES"];
        var table = new Table(withWaiting ? [.. headers, "WAITING"] : headers);
        foreach (var row in rows)
        {
            string[] cells =
            [
                row.Name,
                Display.Text(row.Key),
                Display.Kind(row.Kind),
                Display.Text(row.Owner),
                row.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Display.Utc(row.AcquiredAt),
                Display.Relative(row.LastRenewedAt, now),
                Display.Relative(row.ExpiresAt, now),
            ];
            table.Add(withWaiting ? [.. cells, row.Waiting?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"] : cells);
        }

        return table;
    }

    /// <summary>What a release freed.</summary>
    public static Table Released(IEnumerable<ReleasedHold> rows)
    {
        var table = new Table("NAME", "KEY", "KIND", "OWNER", "FENCING", "NO GRANTS BEFORE (UTC)");
        foreach (var row in rows)
        {
            table.Add(
                row.Name,
                Display.Text(row.Key),
                Display.Kind(row.Kind),
                Display.Text(row.Owner),
                row.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Display.Utc(row.NoGrantsBefore));
        }

        return table;
    }
}
