using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Npgsql;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Health;

/// <summary>
/// The Silo host's HTTP endpoints as operators and container runtimes use them: a real Silo process on
/// a real PostgreSQL, asked over real HTTP, and its own <c>--probe</c> mode run as a process.
/// </summary>
public sealed class SiloHealthEndpointTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task OnPostgres_LiveAndReadyAnswer200WithEveryCheck_MetricsServePrometheusText_AndTheProbeSaysReady()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("health");
        await using var silo = await StartSiloAsync(database);

        var (liveStatus, live) = await GetHealthAsync(silo, "/health/live");
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.Equal("Healthy", live.GetProperty("status").GetString());
        Assert.Equal(new[] { "orleanslocks-silo" }, live.GetProperty("checks").EnumerateObject().Select(c => c.Name));

        var (readyStatus, ready) = await GetHealthAsync(silo, "/health/ready");
        Assert.Equal(HttpStatusCode.OK, readyStatus);
        var checks = ready.GetProperty("checks");
        Assert.Equal(new[] { "orleanslocks-schema", "orleanslocks-silo", "orleanslocks-storage", "orleanslocks-sweep" }, checks.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("Healthy", c.Value.GetProperty("status").GetString()));
        Assert.Contains("PostgreSQL answered SELECT 1", checks.GetProperty("orleanslocks-storage").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Password", ready.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Host=", ready.GetRawText(), StringComparison.OrdinalIgnoreCase);

        using var metrics = await Http.GetAsync(new Uri(silo.HttpAddress, "/metrics"));
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("# TYPE orleans_", text, StringComparison.Ordinal);

        var (exitCode, output) = await ProbeAsync(new Uri(silo.HttpAddress, "/health/ready"));
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task WhileItsPostgreSqlIsStopped_ReadyAnswers503NamingTheStorageCheck_LiveStays200_AndReadyRecoversAfter()
    {
        await using var postgres = await PostgresServer.StartAsync(durable: false, own: true);
        var database = await postgres.CreateDatabaseAsync("outage");
        await using var silo = await StartSiloAsync(database);
        Assert.Equal(HttpStatusCode.OK, (await GetHealthAsync(silo, "/health/ready")).Status);

        await postgres.StopAsync();
        var (readyStatus, ready) = await GetHealthAsync(silo, "/health/ready");
        var (liveStatus, _) = await GetHealthAsync(silo, "/health/live");
        var (probeExit, probeOutput) = await ProbeAsync(new Uri(silo.HttpAddress, "/health/ready"));
        await postgres.RestartAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyStatus);
        Assert.Equal("Unhealthy", ready.GetProperty("status").GetString());
        var storage = ready.GetProperty("checks").GetProperty("orleanslocks-storage");
        Assert.Equal("Unhealthy", storage.GetProperty("status").GetString());
        Assert.Contains("PostgreSQL could not be reached", storage.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("orleanslocks-silo").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.True(probeExit == 1, probeOutput);
        Assert.Contains("answered 503", probeOutput, StringComparison.Ordinal);

        await Eventually.TrueAsync(
            async () => (await GetHealthAsync(silo, "/health/ready")).Status == HttpStatusCode.OK,
            "ready answers 200 again once PostgreSQL is back",
            TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task WhenTheDatabasesSchemaStampIsNotTheSilos_ReadyAnswers503NamingBothVersions()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("stamp");
        await using var silo = await StartSiloAsync(database);

        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var restamp = new NpgsqlCommand("UPDATE orleanslocks_schema SET version = 99 WHERE id", connection);
            Assert.Equal(1, await restamp.ExecuteNonQueryAsync());
        }

        var (status, ready) = await GetHealthAsync(silo, "/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var schema = ready.GetProperty("checks").GetProperty("orleanslocks-schema");
        Assert.Equal("Unhealthy", schema.GetProperty("status").GetString());
        var words = schema.GetProperty("description").GetString();
        Assert.Contains("the database has OrleansLocks schema version 99", words, StringComparison.Ordinal);
        Assert.Contains("this silo needs version 1", words, StringComparison.Ordinal);
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("orleanslocks-storage").GetProperty("status").GetString());
    }

    [Fact]
    public async Task TheProbe_ExitsWith1NamingTheUrl_WhenNothingAnswers_OrTheUrlIsNotOne()
    {
        var nowhere = new Uri($"http://127.0.0.1:{FreePort.Next()}/health/ready");

        var (unanswered, unansweredOutput) = await ProbeAsync(nowhere);
        var (malformed, malformedOutput) = await ProbeAsync(null);

        Assert.Equal(1, unanswered);
        Assert.Contains($"{nowhere} did not answer", unansweredOutput, StringComparison.Ordinal);
        Assert.Equal(1, malformed);
        Assert.Contains("--probe needs an absolute http(s) URL", malformedOutput, StringComparison.Ordinal);
    }

    private static Task<SiloProcess> StartSiloAsync(string database) => SiloProcess.StartAsync(new Dictionary<string, string>
    {
        ["ConnectionStrings__OrleansLocks"] = database,
        ["Orleans__ClusterId"] = "health-" + Guid.NewGuid().ToString("N"),
        ["Orleans__AdvertisedIP"] = "127.0.0.1",
        ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
    });

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetHealthAsync(SiloProcess silo, string path)
    {
        using var response = await Http.GetAsync(new Uri(silo.HttpAddress, path));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }

    /// <summary>Runs <c>OrleansLocks.Silo --probe url</c> as a container healthcheck does.</summary>
    private static async Task<(int ExitCode, string Output)> ProbeAsync(Uri? url)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(BuiltProgram.PathOf("Silo", "OrleansLocks.Silo.dll"));
        info.ArgumentList.Add("--probe");
        if (url is not null)
        {
            info.ArgumentList.Add(url.ToString());
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
