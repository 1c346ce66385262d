using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansLocks;
using OrleansLocks.Benchmarks;
using OrleansLocks.Benchmarks.Subjects;
using OrleansLocks.Client;
using OrleansLocks.Testing;

// dotnet run --project tests/OrleansLocks.Benchmarks -c Release -- [--quick] [--seconds 5] [--out benchmark-results.md]
//   [--only uncontended|try-held|valid|renew|handoff|drain|memory|writer] [--silo-env NAME=VALUE ...]
//   [--in-flight 1,16] [--subjects pg,cohosted,memory,synapse,dlock] (for profiling)
var options = BenchOptions.Parse(args);
var lease = TimeSpan.FromMinutes(10);
var renewal = TimeSpan.FromMinutes(2);
Console.WriteLine($"OrleansLocks benchmarks on {Machine.Describe()}");

// One PostgreSQL with default durability (fsync on) for every subject.
await using var postgres = await PostgresServer.StartAsync(durable: true, own: true, maxConnections: 1500);
var orleansDb = await postgres.CreateDatabaseAsync("bench_orleans");
var coHostedDb = await postgres.CreateDatabaseAsync("bench_cohosted");
var synapseDb = await postgres.CreateDatabaseAsync("bench_synapse", applySchema: false);
var dlockDb = await postgres.CreateDatabaseAsync("bench_dlock", applySchema: false);
await using (var connection = new NpgsqlConnection(synapseDb))
{
    await connection.OpenAsync();
    await using var create = new NpgsqlCommand(SynapseSqlSubject.Schema, connection);
    await create.ExecuteNonQueryAsync();
}

// The silos as users deploy them: the unchanged Silo host, in processes of their own.
var leaseSettings = new Dictionary<string, string>
{
    ["OrleansLocks__Lease__LeaseTimeout"] = lease.ToString("c", CultureInfo.InvariantCulture),
    ["OrleansLocks__Lease__RenewalInterval"] = renewal.ToString("c", CultureInfo.InvariantCulture),
    ["Logging__LogLevel__Default"] = "Warning",
    ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
};
foreach (var (name, value) in options.SiloEnvironment)
{
    leaseSettings[name] = value;
}
var pgGateway = FreePort.Next();
await using var pgSilo = await SiloProcess.StartAsync(new Dictionary<string, string>(leaseSettings)
{
    ["ConnectionStrings__OrleansLocks"] = orleansDb,
    ["Orleans__ClusterId"] = "bench",
    ["Orleans__ServiceId"] = "bench",
    ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
    ["Orleans__GatewayPort"] = pgGateway.ToString(CultureInfo.InvariantCulture),
    ["Orleans__AdvertisedIP"] = "127.0.0.1",
});
var memoryGateway = FreePort.Next();
await using var memorySilo = options.Includes("memory")
    ? await SiloProcess.StartAsync(new Dictionary<string, string>(leaseSettings)
    {
        ["ConnectionStrings__OrleansLocks"] = "",
        ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans__GatewayPort"] = memoryGateway.ToString(CultureInfo.InvariantCulture),
    })
    : null;

using var pgClient = await StartClientAsync(c => c.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", orleansDb)), "bench");
using var memoryClient = memorySilo is null ? null : await StartClientAsync(c => c.UseStaticClustering(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, memoryGateway)), "orleanslocks");

// The silo that takes its own locks, in this process, on its own database.
var (coHostedSilo, orleansCoHosted) = options.Includes("cohosted") ? await CoHostedSilo.StartAsync(coHostedDb, lease, renewal) : (null, null);

var orleansPg = new OrleansSubject("OrleansLocks (PostgreSQL)", pgClient.Services.GetRequiredService<ILockProvider>(), pgClient.Services.GetRequiredService<IGrainFactory>());
var orleansMemory = memoryClient is null ? null : new OrleansSubject("OrleansLocks (in-memory)", memoryClient.Services.GetRequiredService<ILockProvider>(), memoryClient.Services.GetRequiredService<IGrainFactory>());
// 500 waiters open up to 500 connections at once in the drain scenario: on 2 cores forking that many
// backends can take longer than Npgsql's 15 s connect timeout, which once aborted a whole run.
await using var synapseSource = NpgsqlDataSource.Create(synapseDb + ";Maximum Pool Size=700;Timeout=120");
var synapse = new SynapseSqlSubject(synapseSource, lease);
var distributedLock = new DistributedLockSubject(dlockDb + ";Maximum Pool Size=700;Timeout=120");
IBenchSubject[] subjects = new (string Name, IBenchSubject? Subject)[]
{
    ("pg", orleansPg), ("cohosted", orleansCoHosted), ("memory", orleansMemory), ("synapse", synapse), ("dlock", distributedLock),
}.Where(s => options.Includes(s.Name) && s.Subject is not null).Select(s => s.Subject!).ToArray();
var siloProcesses = new List<(string, int)> { ("PG silo", pgSilo.ProcessId) };
if (memorySilo is not null)
{
    siloProcesses.Add(("in-memory silo", memorySilo.ProcessId));
}

var bench = new Bench(options, siloProcesses, postgres.PostmasterProcessId ?? 0);
if (options.Only != "memory")
{
    await bench.WarmUpAsync(subjects);
}

if (options.Runs("uncontended"))
{
    await bench.UncontendedAsync(subjects);
}

if (options.Runs("try-held"))
{
    await bench.TryOnHeldAsync(subjects);
}

if (options.Runs("valid"))
{
    await bench.IsStillValidAsync(subjects);
}

if (options.Runs("renew"))
{
    await bench.RenewAsync(subjects);
}

if (options.Runs("handoff"))
{
    await bench.HandoffAsync(subjects);
}

if (options.Runs("drain"))
{
    await bench.DrainAsync(subjects, synapseSource.Clear);
}

// The co-hosted silo stops before the memory scenario, whose managed-heap breakdown hosts a silo in this process too.
if (coHostedSilo is not null)
{
    await coHostedSilo.StopAsync();
    coHostedSilo.Dispose();
}

if (options.Runs("memory"))
{
    await bench.MemoryPerHeldLockAsync(pgClient.Services.GetRequiredService<IGrainFactory>(), pgSilo.ProcessId);
    bench.MemoryBreakdown = await MemoryBreakdown.MeasureAsync(orleansDb, options.Quick ? 500 : 20_000);
}

var report = bench.Report($"{Machine.Describe()}; PostgreSQL 15 with default durability; command: `dotnet run --project tests/OrleansLocks.Benchmarks -c Release -- {string.Join(' ', args)}`");
if (options.Runs("writer"))
{
    // Last, alone: the silos are idle by now. No Orleans: what one PostgreSQL server takes.
    var capacity = await WriterCapacity.RunAsync(await postgres.CreateDatabaseAsync("bench_writer"), options.Quick ? [1, 4] : [1, 16, 64, 256], options.Measure);
    report += $"\n## Lock writes one PostgreSQL server takes (no Orleans)\n\nEach lock renewed in a loop, every write carrying the version the previous one returned: through the silo's group-commit writer, then the writer's own single-row versioned UPDATE, one per write on a pool, same server, same rows.\n\n{capacity}";
}

Console.WriteLine(report);
await File.WriteAllTextAsync(options.Out, report);
Console.WriteLine($"Written to {Path.GetFullPath(options.Out)}");
return 0;

async Task<IHost> StartClientAsync(Action<IClientBuilder> clustering, string clusterAndService)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.UseOrleansClient(client =>
    {
        clustering(client);
        client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterAndService, clusterAndService))
            .AddOrleansLocks(o => o.Owner = "bench", o => (o.LeaseTimeout, o.RenewalInterval) = (lease, renewal));
    });
    var host = builder.Build();
    await host.StartAsync();
    return host;
}
