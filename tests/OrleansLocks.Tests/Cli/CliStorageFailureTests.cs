using System.Globalization;

namespace OrleansLocks.Tests.Cli;

/// <summary>The tool when the silo is up but its PostgreSQL is not: a storage failure, never "nothing held".</summary>
public sealed class CliStorageFailureTests
{
    [Fact]
    public async Task List_WhileTheSilosDatabaseIsStopped_ExitsWith4_AndPrintsNoRows()
    {
        // A server of our own: this test stops it.
        await using var postgres = await PostgresServer.StartAsync(durable: false, own: true);
        var database = await postgres.CreateDatabaseAsync("cli-storage");
        var clusterId = "cli-down-" + Guid.NewGuid().ToString("N")[..8];
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__OrleansLocks"] = database,
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__AdvertisedIP"] = "127.0.0.1",
            ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        });
        string[] connect = ["--gateway", $"127.0.0.1:{silo.GatewayPort.ToString(CultureInfo.InvariantCulture)}", "--cluster-id", clusterId];
        Assert.Equal(0, (await CliProcess.RunAsync(["list", .. connect])).ExitCode);

        await postgres.StopAsync();
        var result = await CliProcess.RunAsync(["list", "--json", .. connect]);

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("could not use the locks' storage", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Output);
    }
}
