using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansLocks.Admin;

namespace OrleansLocks.Cli;

/// <summary>
/// What <c>--json</c> prints: one document per invocation (per refresh for <c>watch</c>), on one line.
/// The property names are part of the tool's contract with scripts, so each is pinned here rather than
/// derived from the admin records. Instants are UTC ISO 8601 with milliseconds. Never a token.
/// </summary>
internal static class JsonDocuments
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new UtcInstantConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
    };

    public static void Write<T>(TextWriter output, T document)
    {
        output.WriteLine(JsonSerializer.Serialize(document, Options));
        output.Flush();
    }

    public static LockRow Row(HeldLock row) =>
        new(row.Name, row.Key, Display.Kind(row.Kind), row.Owner, row.FencingToken, row.AcquiredAt, row.LastRenewedAt, row.ExpiresAt, row.Waiting);

    public static string Outcome(ForceReleaseOutcome outcome) => outcome switch
    {
        ForceReleaseOutcome.Released => "released",
        ForceReleaseOutcome.NotHeld => "notHeld",
        ForceReleaseOutcome.FencingTokenMoved => "fencingTokenMoved",
        _ => ((int)outcome).ToString(CultureInfo.InvariantCulture),
    };

    private sealed class UtcInstantConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}

/// <summary>One holder of one lock.</summary>
internal sealed record LockRow(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("fencingToken")] long FencingToken,
    [property: JsonPropertyName("acquiredAt")] DateTimeOffset AcquiredAt,
    [property: JsonPropertyName("lastRenewedAt")] DateTimeOffset LastRenewedAt,
    [property: JsonPropertyName("expiresAt")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("waiting")] int? Waiting);

/// <summary><c>list --json</c>: the rows, and the continuation for the next page (null on the last page and with <c>--all</c>).</summary>
internal sealed record ListDocument(
    [property: JsonPropertyName("locks")] IReadOnlyList<LockRow> Locks,
    [property: JsonPropertyName("continuation")] string? Continuation);

/// <summary><c>watch --json</c>: one per refresh, with when it was read.</summary>
internal sealed record WatchDocument(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("locks")] IReadOnlyList<LockRow> Locks,
    [property: JsonPropertyName("continuation")] string? Continuation);

/// <summary><c>inspect --json</c>: one lock, held or free.</summary>
internal sealed record InspectDocument(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("lock")] string Lock,
    [property: JsonPropertyName("held")] bool Held,
    [property: JsonPropertyName("holders")] IReadOnlyList<LockRow> Holders,
    [property: JsonPropertyName("waiters")] IReadOnlyList<WaiterRow> Waiters,
    [property: JsonPropertyName("storedVersion")] string? StoredVersion,
    [property: JsonPropertyName("noGrantsBefore")] DateTimeOffset? NoGrantsBefore);

/// <summary>One caller in a lock's line.</summary>
internal sealed record WaiterRow(
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("since")] DateTimeOffset Since);

/// <summary><c>release --json</c> and <c>release-owner --json</c>: what was freed, or why nothing was.</summary>
internal sealed record ReleaseDocument(
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("released")] IReadOnlyList<ReleasedRow> Released);

/// <summary>One hold a release freed.</summary>
internal sealed record ReleasedRow(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("fencingToken")] long FencingToken,
    [property: JsonPropertyName("noGrantsBefore")] DateTimeOffset NoGrantsBefore);
