using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace OrleansLocks.Client;

/// <summary>
/// Retries a lock call, a bounded number of times, when the cluster or the lock's storage failed
/// transiently. Only calls that are safe to repeat go through it: renew, release and validity
/// checks are idempotent, and an acquire carries an attempt id that makes the grain answer a retry
/// with the same lease, even when the failed attempt's write did reach storage.
/// </summary>
internal sealed class TransientFaultPolicy(LockClientOptions options, ILogger logger)
{
    public async Task<T> RunAsync<T>(string operation, LockId lockId, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        var delay = options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < options.MaxAttempts && IsTransient(ex))
            {
                Log.TransientFault(logger, ex, operation, lockId, attempt, options.MaxAttempts);
            }

            // Real time on purpose: this paces retries against a real network; no lease logic
            // depends on it, and a faked clock must not stall a retry.
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay *= 2;
        }
    }

    internal static bool IsTransient(Exception ex) => ex is
        SiloUnavailableException or
        OrleansMessageRejectionException or
        ConnectionFailedException or
        GatewayTooBusyException or
        TimeoutException or
        LockStorageException;
}
