using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansLocks.Client;

namespace OrleansLocks.Chaos.Scale;

/// <summary>
/// A client process of the scale run ("scale-client"): it holds many locks through one Orleans client
/// and answers the controller's commands, one per line on standard input ("&lt;id&gt; &lt;verb&gt; args"),
/// with lines "&lt;id&gt; ..." and a last "&lt;id&gt; done ..."; the waiters it runs report on their own
/// as "ev ..." lines. Tokens never leave this process: the controller sees keys and fencing tokens only.
/// </summary>
internal static class ScaleHolder
{
    private const string LockName = "scale";
    private static readonly Lock Output = new();
    private static readonly ConcurrentDictionary<string, LockHandle> Handles = new();
    private static readonly ConcurrentDictionary<string, long> Snapshot = new();
    private static long _renewed;
    private static long _renewErrors;
    private static long _renewRefused;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        string Arg(string name) => args[args.ToList().IndexOf(name) + 1];
        var name = Arg("--name");
        var lease = TimeSpan.FromMilliseconds(double.Parse(Arg("--lease-ms"), CultureInfo.InvariantCulture));
        var renewal = TimeSpan.FromMilliseconds(double.Parse(Arg("--renewal-ms"), CultureInfo.InvariantCulture));
        var connection = Environment.GetEnvironmentVariable("CHAOS_CONNECTION") ?? throw new InvalidOperationException("CHAOS_CONNECTION is not set.");
        using var renewals = ListenToRenewals();

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => ChaosClient.Configure(client, connection, name, lease, renewal));
        using var host = builder.Build();
        await host.StartAsync();
        var locks = host.Services.GetRequiredService<ILockProvider>();
        Emit("ready");

        while (await Console.In.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ');
            var (id, verb) = (parts[0], parts[1]);
            if (verb == "quit")
            {
                break;
            }

            if (verb == "wait")
            {
                _ = WaitAsync(locks, parts[2], parts[3]);
                continue;
            }

            // Commands other than "wait" run one at a time, in the background so that "wait" lines keep flowing.
            _ = Task.Run(() => RunCommandAsync(locks, id, verb, parts[2..], lease, renewal));
        }

        await host.StopAsync();
        return 0;
    }

    private static async Task RunCommandAsync(ILockProvider locks, string id, string verb, string[] args, TimeSpan lease, TimeSpan renewal)
    {
        try
        {
            var summary = verb switch
            {
                "acquire" => await AcquireAsync(locks, id, args[0], int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), lease),
                "check" => await CheckAsync(id, long.Parse(args[0], CultureInfo.InvariantCulture), File.ReadAllLines(args[1])),
                "snapshot" => TakeSnapshot(),
                "renewals" => Renewals(id, lease, renewal),
                "release" => await ReleaseAsync(args[0]),
                _ => throw new ArgumentException($"Unknown command '{verb}'."),
            };
            Emit($"{id} done {summary}");
        }
        catch (Exception ex)
        {
            Emit($"{id} done failed {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>
    /// Takes keys prefix+from..prefix+(to-1), each with a try-acquire (they are free): "h key fencing" per
    /// lock held. A call that fails (storage error, timeout) is retried: it may have been granted with its
    /// answer lost, so a retry that then answers "held" ("orphaned") is retried until that unanswered grant's
    /// lease has passed. Only a "held" answer with no failed call before it is counted in nulls.
    /// </summary>
    private static async Task<string> AcquireAsync(ILockProvider locks, string id, string prefix, int from, int to, TimeSpan lease)
    {
        long nulls = 0, errors = 0, orphaned = 0, gaveUp = 0;
        var kinds = new ConcurrentDictionary<string, (int Count, string Sample)>();
        await Parallel.ForEachAsync(Enumerable.Range(from, to - from), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var key = prefix + i.ToString(CultureInfo.InvariantCulture);
            var failedBefore = false;
            var deadline = Now() + (long)(lease.TotalMilliseconds * 2) + 120_000;
            while (true)
            {
                try
                {
                    if (await locks.TryAcquireAsync(LockName, key) is { } handle)
                    {
                        Handles[key] = handle;
                        Emit($"{id} h {key} {handle.FencingToken}");
                        return;
                    }

                    if (!failedBefore)
                    {
                        Interlocked.Increment(ref nulls);
                        return;
                    }

                    Interlocked.Increment(ref orphaned);
                }
                catch (Exception ex) when (ex is LockStorageException or OrleansException or TimeoutException or OperationCanceledException)
                {
                    // OperationCanceledException: Orleans expires a message whose grain could not be placed in time.
                    failedBefore = true;
                    Interlocked.Increment(ref errors);
                    kinds.AddOrUpdate(ex.GetType().Name, _ => (1, ex.Message.ReplaceLineEndings(" ")), (_, k) => (k.Count + 1, k.Sample));
                }

                if (Now() > deadline)
                {
                    Interlocked.Increment(ref gaveUp);
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        });
        var why = string.Join(", ", kinds.Select(k => $"{k.Key} x{k.Value.Count}: {k.Value.Sample[..Math.Min(200, k.Value.Sample.Length)]}"));
        return $"nulls={nulls} errors={errors} orphaned-retries={orphaned} gave-up={gaveUp}{(why.Length > 0 ? $" ({why})" : "")}";
    }

    /// <summary>
    /// Asks every held lock whether this handle still holds it, retrying a lock until it answers:
    /// "c key valid msSinceKill fencing attempts" per lock. The keys in <paramref name="first"/> (those
    /// of the killed silo) are asked first, so that their time to answer is not spent queued behind the others.
    /// </summary>
    private static async Task<string> CheckAsync(string id, long since, string[] first)
    {
        long failedAttempts = 0;
        var order = first.Where(Handles.ContainsKey).Concat(Handles.Keys.Except(first)).ToList();
        await Parallel.ForEachAsync(order, new ParallelOptions { MaxDegreeOfParallelism = 256 }, async (key, _) =>
        {
            var handle = Handles[key];
            var deadline = Now() + 300_000;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    var valid = await handle.IsStillValidAsync(timeout.Token);
                    Emit($"{id} c {key} {(valid ? 1 : 0)} {Now() - since} {handle.FencingToken} {attempt}");
                    return;
                }
                catch (Exception ex) when (ex is LockStorageException or OrleansException or TimeoutException or OperationCanceledException && Now() < deadline)
                {
                    Interlocked.Increment(ref failedAttempts);
                    await Task.Delay(100, CancellationToken.None);
                }
            }
        });
        return $"retried-calls={failedAttempts}";
    }

    private static string TakeSnapshot()
    {
        foreach (var (key, handle) in Handles)
        {
            Snapshot[key] = handle.ExpiresAt.ToUnixTimeMilliseconds();
        }

        return $"handles={Snapshot.Count}";
    }

    /// <summary>
    /// How renewals went since the snapshot: handles renewed since (a later expiry), handles whose
    /// renewal fell due by now yet did not happen ("stale", with up to 5 keys), handles lost, and the
    /// renew calls this process saw end renewed, failed (error) and refused (lost).
    /// </summary>
    private static string Renewals(string id, TimeSpan lease, TimeSpan renewal)
    {
        long renewed = 0, stale = 0, lost = 0;
        var now = Now();
        foreach (var (key, handle) in Handles)
        {
            lost += handle.HandleLostToken.IsCancellationRequested ? 1 : 0;
            if (!Snapshot.TryGetValue(key, out var before))
            {
                continue;
            }

            if (handle.ExpiresAt.ToUnixTimeMilliseconds() > before)
            {
                renewed++;
            }
            else if (before - (long)lease.TotalMilliseconds + (long)renewal.TotalMilliseconds + 15_000 < now)
            {
                // The renewal after the snapshot was due (plus slack for a loaded machine) and did not land.
                if (++stale <= 5)
                {
                    Emit($"{id} stale {key}");
                }
            }
        }

        return $"renewed={renewed} stale={stale} lost={lost} calls-renewed={Interlocked.Read(ref _renewed)} calls-failed={Interlocked.Read(ref _renewErrors)} calls-refused={Interlocked.Read(ref _renewRefused)}";
    }

    private static async Task<string> ReleaseAsync(string prefix)
    {
        long released = 0, failed = 0;
        var keys = Handles.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (key, _) =>
        {
            Handles.TryRemove(key, out var handle);
            try
            {
                await handle!.ReleaseAsync();
                Interlocked.Increment(ref released);
            }
            catch (Exception ex) when (ex is LockStorageException or OrleansException or TimeoutException)
            {
                Interlocked.Increment(ref failed);
            }
        });
        return $"released={released} failed={failed}";
    }

    /// <summary>A waiter: waits in the line of <paramref name="key"/>, holds briefly, releases; reports "ev g|r|d|x tag ...".</summary>
    private static async Task WaitAsync(ILockProvider locks, string key, string tag)
    {
        LockHandle handle;
        try
        {
            handle = await locks.AcquireAsync(LockName, key, TimeSpan.FromMinutes(10));
        }
        catch (Exception ex)
        {
            Emit($"ev x {tag} {ex.GetType().Name}");
            return;
        }

        Emit($"ev g {tag} {key} {handle.FencingToken} {Now()}");
        await Task.Delay(5);
        Emit($"ev r {tag} {Now()}");
        try
        {
            await handle.ReleaseAsync();
            Emit($"ev d {tag} ok");
        }
        catch (Exception ex) when (ex is LockStorageException or OrleansException or TimeoutException)
        {
            Emit($"ev d {tag} {ex.GetType().Name}");
        }
    }

    /// <summary>Counts the handles' own renew calls by how they ended, from the client's "orleanslocks.renew" spans.</summary>
    private static ActivityListener ListenToRenewals()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "OrleansLocks",
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Name == "orleanslocks.renew" ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                switch (activity.GetTagItem("orleanslocks.outcome") as string)
                {
                    case "renewed":
                        Interlocked.Increment(ref _renewed);
                        break;
                    case "lost":
                        Interlocked.Increment(ref _renewRefused);
                        break;
                    default:
                        Interlocked.Increment(ref _renewErrors);
                        break;
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static void Emit(string line)
    {
        lock (Output)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
}
