using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using OrleansLocks.Client.Diagnostics;

namespace OrleansLocks.Client;

/// <summary>
/// The client's one retry mechanism, for calls that failed because the cluster or the lock's
/// storage failed transiently. Only calls that are safe to repeat go through it: renew, release and
/// validity checks are idempotent, an acquire carries an attempt id that makes the grain answer a
/// retry with the same lease (even when the failed attempt's write did reach storage), and a wait
/// call carries its waiter id, which keeps its place in line.
/// </summary>
/// <remarks>
/// Pauses double from <see cref="LockClientOptions.RetryDelay"/> up to
/// <see cref="LockClientOptions.MaxRetryDelay"/>, and each is drawn at random between half and all
/// of that value, so clients that lost the same silo at the same moment do not all call again at
/// the same instant.
/// </remarks>
internal sealed class TransientFaultPolicy
{
    // Past this many doublings every pause is the cap anyway; it keeps the shift from overflowing.
    private const int MaxDoublings = 30;

    private readonly LockClientOptions _options;
    private readonly ILogger _logger;
    private readonly Func<double> _random;
    private readonly Func<TimeSpan, CancellationToken, Task> _pause;
    private readonly LockClientInstruments? _instruments;

    public TransientFaultPolicy(LockClientOptions options, ILogger logger, LockClientInstruments instruments)
        : this(options, logger, Random.Shared.NextDouble, RealPause, instruments)
    {
    }

    /// <summary>For tests: the random source (0 inclusive to 1 exclusive) and the pause itself are given; retries are counted only with <paramref name="instruments"/>.</summary>
    internal TransientFaultPolicy(LockClientOptions options, ILogger logger, Func<double> random, Func<TimeSpan, CancellationToken, Task> pause, LockClientInstruments? instruments = null)
    {
        _options = options;
        _logger = logger;
        _random = random;
        _pause = pause;
        _instruments = instruments;
    }

    /// <summary>Runs <paramref name="call"/>, attempting it up to <see cref="LockClientOptions.MaxAttempts"/> times.</summary>
    public Task<T> RunAsync<T>(string operation, LockId lockId, Func<Task<T>> call, CancellationToken cancellationToken) =>
        RunAsync(operation, lockId, call, _options.MaxAttempts, onFault: null, cancellationToken);

    /// <summary>
    /// Runs <paramref name="call"/> until it answers or <paramref name="stop"/> fires: the form for a
    /// wait, which outlives any number of faults. <paramref name="onFault"/> sees each fault retried.
    /// </summary>
    public Task<T> RunUntilStoppedAsync<T>(string operation, LockId lockId, Func<Task<T>> call, Action<Exception> onFault, CancellationToken stop) =>
        RunAsync(operation, lockId, call, int.MaxValue, onFault, stop);

    /// <summary>The pause before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    internal TimeSpan PauseBefore(int retry)
    {
        var doublings = Math.Clamp(retry - 1, 0, MaxDoublings);
        var cap = _options.MaxRetryDelay.Ticks;
        var first = Math.Min(_options.RetryDelay.Ticks, cap);
        var nominal = first > cap >> doublings ? cap : first << doublings;

        // Between half and all of the nominal pause: spread out, yet never past the cap.
        return TimeSpan.FromTicks((long)(nominal * (1 - (0.5 * _random()))));
    }

    internal static bool IsTransient(Exception ex) => ex is
        SiloUnavailableException or
        OrleansMessageRejectionException or
        ConnectionFailedException or
        GatewayTooBusyException or
        TimeoutException or
        LockStorageException;

    private async Task<T> RunAsync<T>(string operation, LockId lockId, Func<Task<T>> call, int maxAttempts, Action<Exception>? onFault, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < maxAttempts && IsTransient(ex))
            {
                // Giving up wins over a fault that arrives with it.
                cancellationToken.ThrowIfCancellationRequested();
                onFault?.Invoke(ex);
                _instruments?.Retried(operation, lockId);
                if (maxAttempts == int.MaxValue)
                {
                    Log.WaitFault(_logger, ex, lockId);
                }
                else
                {
                    Log.TransientFault(_logger, ex, operation, lockId, attempt, maxAttempts);
                }
            }

            await _pause(PauseBefore(attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    // Real time on purpose: this paces retries against a real network; no lease logic depends on
    // it, and a faked clock must not stall a retry.
    private static Task RealPause(TimeSpan pause, CancellationToken cancellationToken) => Task.Delay(pause, cancellationToken);
}
