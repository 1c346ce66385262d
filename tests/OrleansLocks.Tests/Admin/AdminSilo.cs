using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks.Client;

namespace OrleansLocks.Tests.Admin;

/// <summary>
/// A real Silo process on its own PostgreSQL database with the admin HTTP API switched on, and real
/// clients (ILockProvider, through ADO.NET clustering) that hold locks in it. Renewals are every 2
/// seconds and the lock-delay's margin 2 seconds, so a forced release reaches its old holder soon.
/// </summary>
public sealed class AdminSilo : IAsyncDisposable
{
    /// <summary>The admin key the silo is given (42 characters).</summary>
    public const string Key = "test-admin-key-7c1e0b9a4d2f45e8a6b3c9d0e1f2";

    private readonly List<IHost> _clients = [];

    private AdminSilo(SiloProcess silo, string database, string clusterId)
    {
        Silo = silo;
        Database = database;
        ClusterId = clusterId;
        Http = new HttpClient { BaseAddress = silo.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public SiloProcess Silo { get; }

    public string Database { get; }

    public string ClusterId { get; }

    /// <summary>An HTTP client for the silo's address, sending no key unless a request adds one.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts the silo; <paramref name="adminKey"/> null leaves the admin API off.</summary>
    public static async Task<AdminSilo> StartAsync(string purpose, string? adminKey = Key)
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(purpose);
        var clusterId = purpose + "-" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__OrleansLocks"] = database,
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__AdvertisedIP"] = "127.0.0.1",
            ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["OrleansLocks__Lease__LeaseTimeout"] = "00:00:30",
            ["OrleansLocks__Lease__RenewalInterval"] = "00:00:02",
            ["OrleansLocks__Admin__ForceReleaseMargin"] = "00:00:02",
        };
        if (adminKey is not null)
        {
            environment["OrleansLocks__Admin__ApiKey"] = adminKey;
        }

        return new AdminSilo(await SiloProcess.StartAsync(environment), database, clusterId);
    }

    /// <summary>A client host whose locks are held by <paramref name="owner"/>.</summary>
    public async Task<ILockProvider> ClientAsync(string owner)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = ClusterId;
                o.ServiceId = "orleanslocks";
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = Database;
            });
            client.AddOrleansLocks(o => o.Owner = owner);
        });
        var host = builder.Build();
        await host.StartAsync();
        _clients.Add(host);
        return host.Services.GetRequiredService<ILockProvider>();
    }

    /// <summary>A request to an admin endpoint carrying <paramref name="key"/> in the key header (none when null).</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string? key = Key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("X-OrleansLocks-Admin-Key", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    /// <summary>Sends a request and reads the answer's JSON (a problem document for refusals).</summary>
    public async Task<(System.Net.HttpStatusCode Status, JsonElement Body, string Text)> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            return (response.StatusCode, body, text);
        }
    }

    /// <summary>The holder's secret of a plain lock, read from storage where operators cannot.</summary>
    public async Task<string> StoredTokenAsync(LockId id)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT convert_from(PayloadBinary, 'UTF8')::jsonb ->> 'token' FROM OrleansStorage WHERE GrainTypeString = 'orleanslocks.lock' AND GrainIdExtensionString = @k",
            connection);
        command.Parameters.AddWithValue("k", id.ToGrainKey());
        return (string?)await command.ExecuteScalarAsync() ?? throw new InvalidOperationException($"No stored token for {id}.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            using (client)
            {
                await client.StopAsync();
            }
        }

        Http.Dispose();
        await Silo.DisposeAsync();
    }
}
