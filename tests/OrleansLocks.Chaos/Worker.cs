using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Npgsql;
using OrleansLocks.Client;
using OrleansLocks.Fencing.Postgres;

namespace OrleansLocks.Chaos;

/// <summary>
/// A client process of the chaos run: several actors acquire (try and waiting), hold while writing
/// to the guarded resource, renew, and release random locks, and report every step as a
/// <see cref="ChaosEvent"/> line on standard output. It runs until it is stopped (SIGTERM or SIGINT,
/// which release what it holds) or killed.
/// </summary>
internal static class Worker
{
    private static readonly Lock Output = new();

    // Scheduling slack on a loaded 2-core machine running a dozen processes.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    // When the host began to stop: from then on it may release held locks by itself.
    private static long _stoppingAt = long.MaxValue;

    // A process frozen by SIGSTOP (the pause-client fault) sees every timer fire at once when it is
    // continued: the ticker notices the gap, so that a deadline that passed while frozen is not
    // reported as the lock hanging.
    private static long _lastTick = Now();
    private static long _lastPauseEnd;
    private static long _writes;
    private static NpgsqlDataSource? _guarded;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        string Arg(string name) => args[args.ToList().IndexOf(name) + 1];
        var name = Arg("--name");
        var seed = int.Parse(Arg("--seed"), CultureInfo.InvariantCulture);
        var locks = int.Parse(Arg("--locks"), CultureInfo.InvariantCulture);
        var actors = int.Parse(Arg("--actors"), CultureInfo.InvariantCulture);
        var lease = TimeSpan.FromMilliseconds(double.Parse(Arg("--lease-ms"), CultureInfo.InvariantCulture));
        var renewal = TimeSpan.FromMilliseconds(double.Parse(Arg("--renewal-ms"), CultureInfo.InvariantCulture));
        var connection = Environment.GetEnvironmentVariable("CHAOS_CONNECTION") ?? throw new InvalidOperationException("CHAOS_CONNECTION is not set.");
        var guarded = Environment.GetEnvironmentVariable("CHAOS_GUARDED") ?? throw new InvalidOperationException("CHAOS_GUARDED is not set.");
        await using var guardedSource = NpgsqlDataSource.Create(guarded);
        _guarded = guardedSource;
        var ticker = new Thread(Tick) { IsBackground = true, Name = "pause detector" };
        ticker.Start();

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => ChaosClient.Configure(client, connection, name, lease, renewal));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        using var host = builder.Build();
        await host.StartAsync();
        var provider = host.Services.GetRequiredService<ILockProvider>();
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        stopping.Register(() => Interlocked.Exchange(ref _stoppingAt, Now()));
        Emit(new ChaosEvent { Kind = "ready", Worker = name, At = Now() });

        var running = Enumerable.Range(0, actors)
            .Select(actor => Task.Run(() => ActAsync(provider, name, actor, new Random(HashCode.Combine(seed, name, actor)), locks, lease, stopping)))
            .ToArray();
        await host.WaitForShutdownAsync();
        await Task.WhenAll(running);
        return 0;
    }

    private static async Task ActAsync(ILockProvider locks, string worker, int actor, Random random, int lockCount, TimeSpan lease, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var lockName = $"k{random.Next(lockCount)}";
            var wait = random.Next(2) == 0;
            var op = wait ? "wait" : "try";
            var sent = Now();
            Emit(new ChaosEvent { Kind = "start", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = sent, At = sent });

            // Every operation has a deadline; passing it is reported as a hang (a violation). A try may
            // take the client's whole retry budget (4 attempts of at most the 10 s response timeout, and
            // 1.4 s of pauses); a wait must end within its timeout and the 2 s it may spend leaving the line.
            var waitTimeout = TimeSpan.FromMilliseconds(random.Next(1000, 8000));
            var deadline = wait ? waitTimeout + TimeSpan.FromSeconds(2) + Margin : (4 * ChaosClient.ResponseTimeout) + TimeSpan.FromSeconds(1.4) + Margin;
            LockHandle? handle;
            try
            {
                var acquire = wait
                    ? AcquireOrThrowAsync(locks, lockName, waitTimeout, stopping)
                    : locks.TryAcquireAsync("chaos", lockName, stopping).AsTask();
                handle = await WithDeadline(acquire, deadline, worker, actor, lockName, op, sent);
            }
            catch (TimeoutException) when (wait)
            {
                Emit(new ChaosEvent { Kind = "wait-timeout", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = sent, At = Now(), Timeout = (long)waitTimeout.TotalMilliseconds });
                continue;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                Emit(new ChaosEvent { Kind = "error", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = sent, At = Now(), Error = "stopping" });
                return;
            }
            catch (HungException)
            {
                return;
            }
            catch (Exception ex)
            {
                Emit(new ChaosEvent { Kind = "error", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = sent, At = Now(), Error = $"{ex.GetType().Name}: {ex.Message}" });
                await Task.Delay(random.Next(50, 300), CancellationToken.None);
                continue;
            }

            if (handle is null)
            {
                Emit(new ChaosEvent { Kind = "null", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = sent, At = Now() });
                await Task.Delay(random.Next(20, 200), CancellationToken.None);
                continue;
            }

            await HoldAsync(handle, worker, actor, lockName, op, sent, random, lease);
        }
    }

    private static async Task HoldAsync(LockHandle handle, string worker, int actor, string lockName, string op, long sent, Random random, TimeSpan lease)
    {
        var fencing = handle.FencingToken;
        var expires = handle.ExpiresAt.ToUnixTimeMilliseconds();
        Emit(new ChaosEvent
        {
            Kind = "grant",
            Worker = worker,
            Actor = actor,
            Lock = lockName,
            Op = op,
            Sent = sent,
            At = Now(),
            Fencing = fencing,
            Granted = handle.AcquiredAt.ToUnixTimeMilliseconds(),
            Expires = expires,
        });

        // Mostly short holds; some outlast several renewals.
        var holdMs = random.Next(10) == 0 ? random.Next((int)lease.TotalMilliseconds / 2, (int)lease.TotalMilliseconds * 2) : random.Next(5, 400);
        var until = Now() + holdMs;
        var lost = handle.HandleLostToken;
        long? heldSeen = null;
        while (Now() < until && !lost.IsCancellationRequested)
        {
            // Read the time first: the lease was not yet lost at that moment if it is not now.
            var looked = Now();
            if (!lost.IsCancellationRequested)
            {
                heldSeen = looked;
            }

            await FencedWriteAsync(handle, worker, actor);
            try
            {
                await Task.Delay((int)Math.Clamp(until - Now(), 1, 100), lost);
            }
            catch (OperationCanceledException)
            {
            }

            if (handle.ExpiresAt.ToUnixTimeMilliseconds() is var renewed && renewed != expires)
            {
                expires = renewed;
                Emit(new ChaosEvent { Kind = "renew", Worker = worker, Actor = actor, Lock = lockName, Fencing = fencing, Expires = expires, At = Now() });
            }
        }

        // The work's last write, made without looking at HandleLostToken, as a holder that was frozen
        // mid-work would make it on waking: the fence, not the holder, must refuse it when stale.
        await FencedWriteAsync(handle, worker, actor);
        var usedUntil = Now();
        var wasLost = lost.IsCancellationRequested;
        var releaseSent = Math.Min(Now(), Interlocked.Read(ref _stoppingAt));

        // Said before the release is sent: if this process is killed right after, the history still
        // knows the lock may have been released from here on (the pipe keeps what was written).
        Emit(new ChaosEvent { Kind = "releasing", Worker = worker, Actor = actor, Lock = lockName, Fencing = fencing, At = Now(), ReleaseSent = releaseSent });
        string reason;
        long? releaseAcked = null;
        try
        {
            await handle.ReleaseAsync();
            releaseAcked = Now();
            reason = wasLost ? "lost" : "released";
        }
        catch (Exception ex) when (ex is LockStorageException or OrleansException or TimeoutException)
        {
            reason = "release-failed";
        }

        Emit(new ChaosEvent
        {
            Kind = "end",
            Worker = worker,
            Actor = actor,
            Lock = lockName,
            Fencing = fencing,
            At = Now(),
            Reason = reason,
            ReleaseSent = releaseSent,
            ReleaseAcked = releaseAcked,
            UsedUntil = usedUntil,
            HeldSeen = heldSeen,
            Expires = handle.ExpiresAt.ToUnixTimeMilliseconds(),
        });
    }

    private static async Task<LockHandle?> WithDeadline(Task<LockHandle?> acquire, TimeSpan deadline, string worker, int actor, string lockName, string op, long sent)
    {
        var end = sent + (long)deadline.TotalMilliseconds;
        while (await Task.WhenAny(acquire, Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, end - Now())))) != acquire)
        {
            // Let the ticker run before asking it: after SIGCONT every timer fires at once.
            await Task.Delay(300);
            if (Interlocked.Read(ref _lastPauseEnd) is var pauseEnd && pauseEnd >= sent && pauseEnd + (long)deadline.TotalMilliseconds > end)
            {
                // Frozen during the operation: its deadline counts again from the waking.
                end = pauseEnd + (long)deadline.TotalMilliseconds;
                continue;
            }

            Emit(new ChaosEvent { Kind = "hung", Worker = worker, Actor = actor, Lock = lockName, Op = op, Sent = sent, At = Now() });
            throw new HungException();
        }

        return await acquire;
    }

    private static async Task<LockHandle?> AcquireOrThrowAsync(ILockProvider locks, string lockName, TimeSpan timeout, CancellationToken stopping) =>
        await locks.AcquireAsync("chaos", lockName, timeout, stopping);

    /// <summary>
    /// One write to the guarded table through the database fence, recorded as write (committed and
    /// acknowledged), write-refused (the fence refused a stale token) or write-failed (not written).
    /// </summary>
    private static async Task FencedWriteAsync(LockHandle handle, string worker, int actor)
    {
        var writeId = $"{worker}-{Interlocked.Increment(ref _writes)}";
        var ev = new ChaosEvent { Kind = "write", Worker = worker, Actor = actor, Lock = handle.Id.Key, Fencing = handle.FencingToken, WriteId = writeId, Sent = Now(), At = 0 };
        try
        {
            await GuardedResource.WriteAsync(_guarded!, handle, writeId);
            Emit(ev with { At = Now() });
        }
        catch (StaleFencingTokenException)
        {
            Emit(ev with { Kind = "write-refused", At = Now() });
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            Emit(ev with { Kind = "write-failed", At = Now(), Error = ex.GetType().Name });
        }
    }

    private static void Tick()
    {
        while (true)
        {
            Thread.Sleep(100);
            var now = Now();
            if (now - Interlocked.Read(ref _lastTick) > 1000)
            {
                Interlocked.Exchange(ref _lastPauseEnd, now);
            }

            Interlocked.Exchange(ref _lastTick, now);
        }
    }

    private static void Emit(ChaosEvent e)
    {
        var line = e.ToLine();
        lock (Output)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    private static long Now() => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed class HungException : Exception;
}
