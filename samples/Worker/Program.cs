using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansLocks.Samples.Worker;

// An Orleans client that runs a job only while it holds the job's lock. Start the CoHostedSilo sample
// first (or any silo with AddOrleansLocks on localhost clustering), then run this one or several times.
var builder = Host.CreateApplicationBuilder(args);
builder.UseOrleansClient(client => client
    .UseLocalhostClustering()
    .AddOrleansLocks(locks => locks.Owner = $"sample-worker/{Environment.ProcessId}"));
builder.Services.AddHostedService<NightlyReportJob>();
await builder.Build().RunAsync();
