using System.Globalization;
using OrleansLocks.Admin;

namespace OrleansLocks.Silo.Admin;

/// <summary>
/// The admin HTTP API over <see cref="ILockAdminGrain"/> and the operator page, mapped only when an
/// admin key is configured (<see cref="AdminApiKey.Setting"/>); without one both are absent (404).
/// They listen where the health and metrics endpoints do. Every API call needs the key (else 401
/// and nothing is done); answers are JSON and never carry a token (the grain's records hold none).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>GET /admin/locks</c></term><description>List: <c>namePrefix</c>, <c>owner</c>, <c>pageSize</c> (1 to 1000, default 100), <c>continuation</c>, <c>includeWaiting</c>.</description></item>
/// <item><term><c>GET /admin/locks/inspect</c></term><description>One lock: <c>name</c>, <c>key</c> (may be empty), <c>kind</c> (<c>Plain</c> by default; <c>Read</c> or <c>Write</c> for the read/write lock).</description></item>
/// <item><term><c>POST /admin/locks/release</c></term><description>Force release: <see cref="ForceReleaseRequest"/>.</description></item>
/// <item><term><c>POST /admin/locks/release-owner</c></term><description>Release an owner's every lock: <see cref="ReleaseOwnerRequest"/>.</description></item>
/// </list>
/// A refused input is 400 with a problem document naming the rule; a storage failure or an
/// unreachable cluster is 503 (never "not held").
/// </remarks>
internal static class AdminEndpoints
{
    /// <summary>The list endpoint; the others are below it.</summary>
    public const string LocksPath = "/admin/locks";

    /// <summary>The inspect endpoint.</summary>
    public const string InspectPath = LocksPath + "/inspect";

    /// <summary>The force-release endpoint.</summary>
    public const string ReleasePath = LocksPath + "/release";

    /// <summary>The release-owner endpoint.</summary>
    public const string ReleaseOwnerPath = LocksPath + "/release-owner";

    /// <summary>Maps the API and the page when a key is configured.</summary>
    /// <exception cref="SiloConfigurationException">The configured key breaks its rule.</exception>
    public static void Map(WebApplication app)
    {
        var key = AdminApiKey.FromConfiguration(app.Configuration);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansLocks.Silo.Admin");
        if (key is null)
        {
            Log.AdminApiOff(logger);
            return;
        }

        var api = app.MapGroup(LocksPath);
        api.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!key.IsPresentedBy(http.Request))
            {
                Log.AdminKeyRefused(logger, http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress);
                http.Response.Headers.WWWAuthenticate = "Bearer realm=\"orleanslocks-admin\"";
                return Results.Problem(
                    statusCode: StatusCodes.Status401Unauthorized,
                    title: "Admin key required",
                    detail: $"Send the admin key (the silo's {AdminApiKey.Setting}) in the {AdminApiKey.HeaderName} header or as Authorization: Bearer.");
            }

            http.Response.Headers.CacheControl = "no-store";
            return await next(context);
        });
        api.MapGet("/", (HttpContext http, IGrainFactory grains) => Answer(() => ListAsync(http, grains)));
        api.MapGet("/inspect", (HttpContext http, IGrainFactory grains) => Answer(() => InspectAsync(http, grains)));
        api.MapPost("/release", (HttpContext http, IGrainFactory grains) => Answer(() => ForceReleaseAsync(http, grains)));
        api.MapPost("/release-owner", (HttpContext http, IGrainFactory grains) => Answer(() => ReleaseOwnerAsync(http, grains)));

        OperatorPage.Map(app);
        Log.AdminApiOn(logger, LocksPath, OperatorPage.Path);
    }

    private static async Task<object> ListAsync(HttpContext http, IGrainFactory grains)
    {
        var query = http.Request.Query;
        var list = new LockListQuery(
            NamePrefix: Text(query, "namePrefix"),
            Owner: Text(query, "owner"),
            PageSize: Text(query, "pageSize") is { } size
                ? int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw new ArgumentException($"Invalid pageSize: a page size must be a whole number from 1 to {LockListQuery.MaxPageSize}.")
                : 100,
            Continuation: Text(query, "continuation"),
            IncludeWaiting: Text(query, "includeWaiting") is { } waiting
                && (bool.TryParse(waiting, out var include) ? include : throw new ArgumentException("Invalid includeWaiting: it must be true or false.")));
        return await Admin(grains).List(list);
    }

    private static async Task<object> InspectAsync(HttpContext http, IGrainFactory grains)
    {
        var query = http.Request.Query;
        var name = Required(query, "name", "the lock name");

        // The empty key is a valid key, so it must be given (key=) rather than left out.
        var key = query.TryGetValue("key", out var keys) && keys.Count == 1 ? keys[0] ?? string.Empty : throw new ArgumentException("Invalid key: key is required once (it may be empty: key=).");
        var kind = Text(query, "kind") is { } text ? ParseKind(text) : LockKind.Plain;
        return await Admin(grains).Inspect(name, key, kind);
    }

    private static async Task<object> ForceReleaseAsync(HttpContext http, IGrainFactory grains)
    {
        var request = await AdminJson.ReadAsync<ForceReleaseRequest>(http.Request);
        var requestedBy = AdminJson.RequestedBy(http, request.Operator);
        return await Admin(grains).ForceRelease(
            request.Name ?? throw new ArgumentException("Invalid name: name (the lock name) is required."),
            request.Key ?? throw new ArgumentException("Invalid key: key is required (it may be empty: \"key\": \"\")."),
            request.Kind,
            request.FencingToken,
            request.Reason ?? string.Empty,
            requestedBy);
    }

    private static async Task<object> ReleaseOwnerAsync(HttpContext http, IGrainFactory grains)
    {
        var request = await AdminJson.ReadAsync<ReleaseOwnerRequest>(http.Request);
        var requestedBy = AdminJson.RequestedBy(http, request.Operator);
        return await Admin(grains).ReleaseOwner(
            request.Owner ?? throw new ArgumentException("Invalid owner: owner is required."),
            request.Reason ?? string.Empty,
            requestedBy);
    }

    // Any key reaches a local activation: the admin grain is a stateless worker.
    private static ILockAdminGrain Admin(IGrainFactory grains) => grains.GetGrain<ILockAdminGrain>(0);

    private static async Task<IResult> Answer(Func<Task<object>> call)
    {
        try
        {
            return Results.Json(await call(), AdminJson.Options);
        }
        catch (ArgumentException ex)
        {
            // The grain's (and our) refusals name the rule; nothing was changed.
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Refused", detail: ex.Message);
        }
        catch (LockStorageException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Lock storage failed", detail: ex.Message);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The cluster did not answer", detail: ex.Message);
        }
    }

    private static string? Text(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && values.Count > 0 && !string.IsNullOrEmpty(values[^1]) ? values[^1] : null;

    private static string Required(IQueryCollection query, string name, string what) =>
        Text(query, name) ?? throw new ArgumentException($"Invalid {name}: {name} ({what}) is required.");

    private static LockKind ParseKind(string text) =>
        Enum.TryParse<LockKind>(text, ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(text, CultureInfo.InvariantCulture, out _)
            ? kind
            : throw new ArgumentException("Invalid kind: a kind must be Plain, Read or Write.");
}
