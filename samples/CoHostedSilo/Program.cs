using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansLocks.Samples.CoHostedSilo;

// A silo that hosts the lock grains beside a grain of its own, and code in the same process that takes
// locks through ILockProvider. In-memory lock storage keeps the sample self-contained; choose
// .UsePostgres(connectionString) instead of .UseInMemory() for locks that outlive the silo.
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering()
    .AddOrleansLocks()
    .UseInMemory());
builder.Services.AddOrleansLocksClient(locks => locks.Owner = $"sample-silo/{Environment.ProcessId}");
builder.Services.AddHostedService<InvoiceBatchRunner>();
await builder.Build().RunAsync();
