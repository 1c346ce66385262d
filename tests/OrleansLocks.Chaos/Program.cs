using System.Collections.Concurrent;
using OrleansLocks.Chaos;
using OrleansLocks.Chaos.Network;

// dotnet run --project tests/OrleansLocks.Chaos -c Release -- --seed 42 --duration 600
// (the same program runs as a worker process: "worker --name ...").
if (args.Length > 0 && args[0] == "worker")
{
    return await Worker.RunAsync(args);
}

// dotnet run --project tests/OrleansLocks.Chaos -c Release -- scale [--locks 100000] (see Scale/ScaleOptions.cs).
if (args.Length > 0 && args[0] is "scale" or "scale-client")
{
    return args[0] == "scale" ? await OrleansLocks.Chaos.Scale.ScaleProgram.RunAsync(args[1..]) : await OrleansLocks.Chaos.Scale.ScaleHolder.RunAsync(args);
}

ChaosOptions options;
try
{
    options = ChaosOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(ChaosOptions.Usage);
    return 2;
}

// With network faults, the run happens inside a network lab that this process builds and removes.
var lab = options.Network ? LabSupervisor.Attached() : null;
if (options.Network && lab is null)
{
    if (await LabSupervisor.TryRunAsync(args) is { } exitCode)
    {
        return exitCode;
    }

    options = options with { Network = false };
}

var events = new ConcurrentQueue<ChaosEvent>();
await using var cluster = await ChaosCluster.StartAsync(options, events, lab);
var run = new ChaosRun(options, cluster, events);
return await run.RunAsync();
