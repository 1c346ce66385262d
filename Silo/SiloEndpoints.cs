using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansLocks.Silo;

/// <summary>
/// The silo's HTTP endpoints: <c>/health/live</c> (the checks tagged <c>live</c>), <c>/health/ready</c>
/// (those tagged <c>ready</c>) and the Prometheus scrape endpoint <c>/metrics</c>. Health answers are
/// 200 (Healthy or Degraded) or 503 (Unhealthy), with a small JSON body naming each check.
/// </summary>
internal static class SiloEndpoints
{
    /// <summary>The liveness endpoint.</summary>
    public const string LivePath = "/health/live";

    /// <summary>The readiness endpoint.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>The Prometheus scrape endpoint.</summary>
    public const string MetricsPath = "/metrics";

    public static void Map(WebApplication app)
    {
        app.MapHealthChecks(LivePath, Options(OrleansLocksHealthChecksBuilderExtensions.LiveTag));
        app.MapHealthChecks(ReadyPath, Options(OrleansLocksHealthChecksBuilderExtensions.ReadyTag));
        app.MapPrometheusScrapingEndpoint(MetricsPath);
    }

    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = registration => registration.Tags.Contains(tag),
        ResponseWriter = WriteAsync,
    };

    // {"status":"Unhealthy","checks":{"orleanslocks-storage":{"status":"Unhealthy","description":"..."}}}
    // The descriptions are the checks' own words: never an exception's stack, a connection string or a token.
    private static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
