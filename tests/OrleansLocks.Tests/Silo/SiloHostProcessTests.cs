using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Silo;

/// <summary>The Silo host as users run it: a real process, configured by environment only, used by a real client.</summary>
public sealed class SiloHostProcessTests
{
    [Fact]
    public async Task DevDefault_RunsALockServiceOnLocalhostWithoutADatabase_AndStopsCleanlyOnCtrlC()
    {
        var clusterId = "dev-" + Guid.NewGuid().ToString("N");
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Assert.Contains("in-memory storage", silo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("SiloOptionsLogger", silo.Output, StringComparison.Ordinal); // appsettings.json's log levels applied

        using (var client = await StartClientAsync(c => c.UseLocalhostClustering(silo.GatewayPort, "orleanslocks", clusterId), "dev-client"))
        {
            var locks = client.Services.GetRequiredService<ILockProvider>();
            await using var handle = await locks.TryAcquireAsync("purge_room", "!abc:example.org");
            Assert.NotNull(handle);
            Assert.Equal("dev-client", handle.Owner);
            Assert.Null(await locks.TryAcquireAsync("purge_room", "!abc:example.org"));
            Assert.True(await handle.IsStillValidAsync());
            await client.StopAsync();
        }

        Assert.Equal(0, await silo.InterruptAsync());
    }

    /// <summary>
    /// A service manager stops the silo with SIGTERM, and that must work however the silo was started: a
    /// program started in the background of a non-interactive shell (<c>cmd &amp;</c>) inherits SIGINT as
    /// ignored, so Ctrl+C's signal never reaches it (this stalled the chaos program's graceful stops).
    /// </summary>
    [Fact]
    public async Task StartedWithSigintIgnored_TheSiloIgnoresCtrlC_ButStopsCleanlyOnSigterm()
    {
        var clusterId = "term-" + Guid.NewGuid().ToString("N");
        await using var silo = await SiloProcess.StartAsync(
            new Dictionary<string, string>
            {
                ["Orleans__ClusterId"] = clusterId,
                ["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            launcher: ["sh", "-c", "trap '' INT; exec \"$0\" \"$@\""]);

        using (var client = await StartClientAsync(c => c.UseLocalhostClustering(silo.GatewayPort, "orleanslocks", clusterId), "term-client"))
        {
            var locks = client.Services.GetRequiredService<ILockProvider>();
            await using var handle = await locks.TryAcquireAsync("purge_room", "!term:example.org");
            Assert.NotNull(handle);
            await client.StopAsync();
        }

        await ProcessRunner.RunAsync("kill", ["-INT", silo.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        Assert.False(await silo.ExitsWithinAsync(TimeSpan.FromSeconds(5)), "The silo stopped on SIGINT although the shell that started it ignored SIGINT.");
        Assert.Equal(0, await silo.TerminateAsync());
        Assert.Contains("Application is shutting down", silo.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A console nobody reads (a full pipe, a stalled log shipper) must not stop the lock service. At a
    /// silo loss with 100,000 held locks, Orleans logged a warning per expired message, hundreds of
    /// thousands a minute; the console logger's queue filled, every thread that logged waited for it,
    /// and both surviving silos stalled. Here the silo logs at Trace into a pipe whose reader never reads.
    /// </summary>
    [Fact]
    public async Task AConsoleThatIsNotRead_DoesNotStopTheSilo_ItDropsLogLinesInstead()
    {
        var http = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var info = new System.Diagnostics.ProcessStartInfo("sh")
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in new[] { "-c", "dotnet \"$0\" 2>&1 | sleep 600", BuiltProgram.PathOf("Silo", "OrleansLocks.Silo.dll") })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_URLS"] = http.ToString();
        foreach (var category in new[] { "Default", "Orleans", "Orleans.Hosting", "Microsoft.AspNetCore", "OrleansLocks.Silo" })
        {
            info.Environment[$"Logging__LogLevel__{category}"] = "Trace";
        }

        info.Environment["Orleans__ClusterId"] = "unread-" + Guid.NewGuid().ToString("N");
        info.Environment["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = System.Diagnostics.Process.Start(info)!;
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        return (await client.GetAsync(new Uri(http, "/health/live"))).IsSuccessStatusCode;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        return false;
                    }
                },
                "the silo answering /health/live while its console was not read",
                TimeSpan.FromSeconds(90));

            // Every call logs at Trace: far more lines than the console logger's queue holds.
            using var lockClient = await StartClientAsync(c => c.UseLocalhostClustering(int.Parse(info.Environment["Orleans__GatewayPort"]!, System.Globalization.CultureInfo.InvariantCulture), "orleanslocks", info.Environment["Orleans__ClusterId"]!), "unread-client");
            var locks = lockClient.Services.GetRequiredService<ILockProvider>();
            for (var i = 0; i < 300; i++)
            {
                await using var handle = await locks.TryAcquireAsync("purge_room", $"!unread{i}:example.org");
                Assert.NotNull(handle);
            }

            Assert.True((await client.GetAsync(new Uri(http, "/health/live"))).IsSuccessStatusCode);
            await lockClient.StopAsync();
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task TwoSilosOnPostgres_ApplyTheSchema_ClusterThroughTheDatabase_AndServeLocks()
    {
        // A database with no schema at all: the silos apply it themselves (ApplySchema defaults to on).
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("silos", applySchema: false);
        var clusterId = "pg-" + Guid.NewGuid().ToString("N");
        var silos = new List<SiloProcess>();
        try
        {
            foreach (var _ in new[] { 1, 2 })
            {
                silos.Add(await SiloProcess.StartAsync(new Dictionary<string, string>
                {
                    ["ConnectionStrings__OrleansLocks"] = database,
                    ["Orleans__ClusterId"] = clusterId,
                    ["Orleans__AdvertisedIP"] = "127.0.0.1",
                    ["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
                }));
            }

            Assert.All(silos, s => Assert.DoesNotContain("in-memory storage", s.Output, StringComparison.Ordinal));
            Assert.Equal(2, await ActiveSilosAsync(database, clusterId));

            using var client = await StartClientAsync(
                c => c.Configure<ClusterOptions>(o =>
                    {
                        o.ClusterId = clusterId;
                        o.ServiceId = "orleanslocks";
                    })
                    .UseAdoNetClustering(o =>
                    {
                        o.Invariant = "Npgsql";
                        o.ConnectionString = database;
                    }),
                "pg-client");
            var locks = client.Services.GetRequiredService<ILockProvider>();
            await using (var handle = await locks.TryAcquireAsync("purge_room", "!abc:example.org"))
            {
                Assert.NotNull(handle);
                var row = await WorkerLocksView.FindAsync(database, handle.Id);
                Assert.NotNull(row);
                Assert.Equal("pg-client", row.InstanceName);
                Assert.Equal(handle.FencingToken, row.FencingToken);
                Assert.Equal(handle.ExpiresAt.ToUnixTimeMilliseconds() - 120_000, row.LastRenewedTs);
            }

            await Eventually.TrueAsync(
                async () => await WorkerLocksView.FindAsync(database, LockId.Create("purge_room", "!abc:example.org")) is null,
                "the release was written (within the release write delay)");
            await client.StopAsync();
            foreach (var silo in silos)
            {
                Assert.Equal(0, await silo.InterruptAsync());
            }
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("OrleansLocks__Lease__RenewalInterval", "00:01:00", "RenewalInterval must be at most a third of LeaseTimeout")]
    [InlineData("OrleansLocks__Storage__SweepInterval", "00:00:10", "SweepInterval must be at least 1 minute")]
    [InlineData("Orleans__AdvertisedIP", "not-an-ip", "Orleans:AdvertisedIP must be an IP address")]
    [InlineData("OrleansLocks__Wait__MaxWaiters", "0", "MaxWaiters must be between 1 and 1,000,000")]
    [InlineData("OrleansLocks__Wait__WaiterTimeout", "-00:00:01", "WaiterTimeout must be positive")]
    [InlineData("OrleansLocks__Lease__LeaseTimeout", "3650.00:00:00", "LeaseTimeout must be positive and at most 1 day")]
    [InlineData("OrleansLocks__Lease__LeaseTimeout", "soon", "cannot start: Failed to convert configuration value 'soon' at 'OrleansLocks:Lease:LeaseTimeout'")]
    public async Task BadConfiguration_StopsTheSiloAtStartNamingTheRule(string setting, string value, string rule)
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__OrleansLocks"] = setting.StartsWith("Orleans__", StringComparison.Ordinal) ? "Host=127.0.0.1;Port=1" : "",
            ["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            [setting] = value,
        }));
        Assert.Contains("exited with 1 ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("OrleansLocks cannot start", ex.Message, StringComparison.Ordinal);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnHttpPortInUse_StopsTheSiloAtStartNamingTheAddressAndWhereToChangeIt()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, FreePort.Next());
        taken.Start();
        var address = $"http://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}";

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = address,
            ["Orleans__ClusterId"] = "port-" + Guid.NewGuid().ToString("N"),
            ["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));
        Assert.Contains("exited with 1 ", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"OrleansLocks cannot start: Failed to bind to address {address}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Choose another with --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralBadSettings_AreAllNamedInOneRefusal()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["OrleansLocks__Lease__RenewalInterval"] = "00:01:00",
            ["OrleansLocks__Storage__SweepInterval"] = "00:00:10",
        }));
        Assert.Contains("exited with 1 ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RenewalInterval must be at most a third of LeaseTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SweepInterval must be at least 1 minute", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADatabaseWithoutTheSchema_AndApplySchemaOff_StopsTheSiloNamingBothVersionsAndTheFix()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("noschema", applySchema: false);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__OrleansLocks"] = database,
            ["Orleans__ClusterId"] = "noschema-" + Guid.NewGuid().ToString("N"),
            ["Orleans__AdvertisedIP"] = "127.0.0.1",
            ["Orleans__SiloPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["OrleansLocks__Storage__ApplySchema"] = "false",
        }));
        Assert.Contains("exited with 1 ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("OrleansLocks cannot start: OrleansLocks schema version mismatch: the database has no OrleansLocks schema version", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Apply sql/orleans-locks.sql", ex.Message, StringComparison.Ordinal);
    }

    private static async Task<IHost> StartClientAsync(Action<IClientBuilder> cluster, string owner)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            cluster(client);
            client.AddOrleansLocks(o => o.Owner = owner);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<long> ActiveSilosAsync(string database, string clusterId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @c AND Status = 3", connection);
        command.Parameters.AddWithValue("c", clusterId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
