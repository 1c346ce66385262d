using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OrleansLocks.Client.Health;

namespace OrleansLocks.Client;

/// <summary>
/// What this process holds and waits for, so that the host's stop can end it all (Synapse's
/// drop-on-shutdown): the live leases, the waits in progress and the leaves still under way.
/// </summary>
internal sealed class HeldLocks(ILogger<HeldLocks> logger, RecentLeaseLosses losses)
{
    private readonly ConcurrentDictionary<LeaseKeeper, byte> _live = new();

    // Waits and leaves in progress, so that the host's stop lets each leave its line before the client goes.
    private readonly ConcurrentDictionary<Task, byte> _waits = new();

    // Cancelled when the host stops: open waits leave their lines instead of lingering there.
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the host starts stopping.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Whether the host started stopping.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Remembers a live lease until it ends.</summary>
    public void Add(LeaseKeeper keeper) => _live.TryAdd(keeper, 0);

    /// <summary>Forgets a lease that ended (released, lost or abandoned); a lost one is noted for the client health check.</summary>
    public void Remove(LeaseKeeper keeper)
    {
        if (_live.TryRemove(keeper, out _) && keeper.EndedLost)
        {
            losses.Record(keeper.Id.Name);
        }
    }

    /// <summary>Awaits a wait, counting it as in progress until it ends.</summary>
    public async Task<T> TrackAsync<T>(Task<T> wait)
    {
        _waits.TryAdd(wait, 0);
        try
        {
            return await wait.ConfigureAwait(false);
        }
        finally
        {
            _waits.TryRemove(wait, out _);
        }
    }

    /// <summary>Counts a background task (a wait leaving its line) as in progress until it ends.</summary>
    public void Track(Task background)
    {
        _waits.TryAdd(background, 0);
        _ = background.ContinueWith(t => _waits.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Ends every wait and releases every lock this process still holds (the host is stopping).</summary>
    public async Task ReleaseAllAsync(CancellationToken cancellationToken)
    {
        // First the waits: each leaves its line (or releases what it was just granted) while the
        // client can still call; a grant that completes meanwhile becomes a handle released below.
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_waits.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The waits' own callers see their outcome; here only their end matters, and even when
            // the host's stop token cuts this short, the held locks below must still be released.
        }

        var keepers = _live.Keys.ToArray();
        if (keepers.Length == 0)
        {
            return;
        }

        Log.ReleasingOnShutdown(logger, keepers.Length);
        await Task.WhenAll(keepers.Select(async keeper =>
        {
            try
            {
                await keeper.ReleaseOnShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                keeper.ReportReleaseFailure(ex);
            }
        })).ConfigureAwait(false);
    }
}
