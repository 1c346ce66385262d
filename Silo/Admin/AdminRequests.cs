using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansLocks.Admin;

namespace OrleansLocks.Silo.Admin;

/// <summary>The body of <c>POST /admin/locks/release</c>: which lock (and which grant), why, and who asks.</summary>
/// <param name="Name">The lock name (required).</param>
/// <param name="Key">The lock key (required; may be empty).</param>
/// <param name="Kind"><c>Plain</c>, <c>Read</c> or <c>Write</c>; absent for every holder of both locks of that name and key.</param>
/// <param name="FencingToken">When given, only the grant with this fencing token is freed.</param>
/// <param name="Reason">Why, for the silo's log (required, 1 to 500 characters).</param>
/// <param name="Operator">Who is asking, for the log (optional, at most 100 characters).</param>
internal sealed record ForceReleaseRequest(string? Name, string? Key, LockKind? Kind, long? FencingToken, string? Reason, string? Operator);

/// <summary>The body of <c>POST /admin/locks/release-owner</c>.</summary>
/// <param name="Owner">The owner whose every lock is freed (required), exactly as the locks record it.</param>
/// <param name="Reason">Why, for the silo's log (required, 1 to 500 characters).</param>
/// <param name="Operator">Who is asking, for the log (optional, at most 100 characters).</param>
internal sealed record ReleaseOwnerRequest(string? Owner, string? Reason, string? Operator);

/// <summary>How the admin API reads and writes JSON, and the rules of its own inputs.</summary>
internal static class AdminJson
{
    /// <summary>The longest operator name: 100 characters.</summary>
    public const int MaxOperatorLength = 100;

    /// <summary>
    /// camelCase names, kinds and outcomes as words (<c>"Plain"</c>; read case-insensitively, never as
    /// numbers), and a body member the API does not know is refused rather than ignored, so a
    /// misspelt <c>fencingToken</c> cannot silently widen a release.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>Reads a request body; a missing or malformed one is an <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request)
        where T : class
    {
        if (request.HasJsonContentType() is false)
        {
            throw new ArgumentException("The body must be JSON (Content-Type: application/json).");
        }

        try
        {
            return await request.ReadFromJsonAsync<T>(Options, request.HttpContext.RequestAborted)
                ?? throw new ArgumentException("The body must be a JSON object, not null.");
        }
        catch (JsonException ex)
        {
            // The parser's message says where (path, line) and what; it quotes no value of ours.
            throw new ArgumentException($"The body is not valid for this call: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Who asked, as the admin grain logs it: <c>http:&lt;remote address&gt;</c>, then the operator's
    /// name in brackets when given. The address is the connection's peer (a proxy's, behind one).
    /// </summary>
    public static string RequestedBy(HttpContext context, string? operatorName)
    {
        var address = context.Connection.RemoteIpAddress;
        var from = "http:" + (address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString());
        if (string.IsNullOrWhiteSpace(operatorName))
        {
            return from;
        }

        if (operatorName.Length > MaxOperatorLength || operatorName.Any(char.IsControl))
        {
            throw new ArgumentException($"Invalid operator: an operator name is at most {MaxOperatorLength} characters without control characters; it has {operatorName.Length}.");
        }

        return $"{from} ({operatorName.Trim()})";
    }
}
