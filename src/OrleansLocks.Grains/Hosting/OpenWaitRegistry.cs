using System.Collections.Concurrent;

namespace OrleansLocks.Grains.Hosting;

/// <summary>
/// The lock activations of this silo that keep a line of waiters. When the silo stops, their open
/// <see cref="ILeaseGrain.Wait"/> calls are answered at once: Orleans deactivates an activation only
/// once no call is running in it, so open calls would otherwise hold the shutdown for up to the poll
/// interval. Waiters then call again and join the line of the lock's next activation.
/// </summary>
internal sealed class OpenWaitRegistry : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<LeaseGrain, TaskScheduler> _activations = new();
    private volatile bool _stopping;

    /// <summary>Whether the silo is stopping (new waits are refused as "silo unavailable", which callers retry elsewhere).</summary>
    public bool IsStopping => _stopping;

    /// <summary>Remembers an activation with waiters and the scheduler its code must run on.</summary>
    public void Add(LeaseGrain activation, TaskScheduler scheduler) => _activations.TryAdd(activation, scheduler);

    public void Remove(LeaseGrain activation) => _activations.TryRemove(activation, out _);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(OpenWaitRegistry), ServiceLifecycleStage.BecomeActive, _ => Task.CompletedTask, OnStopAsync);

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        var answered = _activations.Select(pair => Task.Factory.StartNew(
            pair.Key.AnswerOpenCalls, CancellationToken.None, TaskCreationOptions.None, pair.Value));
        await Task.WhenAll(answered).WaitAsync(cancellationToken);
    }
}
