using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Runtime.Diagnostics;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The lock activations of this silo that keep a line of waiters, so that their open
/// <see cref="ILeaseGrain.Wait"/> calls are answered at once when the activation starts to
/// deactivate (for whatever reason: idle collection, rebalancing, a failed write, the silo stopping).
/// Orleans deactivates an activation only once no call is running in it, and the calls queued
/// behind the deactivation wait too, so an open wait would otherwise stall the lock for up to the
/// poll interval. Waiters then call again and join the line of the lock's next activation.
/// </summary>
/// <remarks>
/// Deactivation is observed through Orleans' public <c>Orleans.GrainLifecycle</c> diagnostic
/// listener (only its "Deactivating" event is enabled). The silo's stop is also observed directly,
/// so that a stopping silo refuses new waits as "silo unavailable", which callers retry elsewhere.
/// </remarks>
internal sealed class OpenWaitRegistry : ILifecycleParticipant<ISiloLifecycle>, IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private const string DeactivatingEvent = nameof(GrainLifecycleEvents.Deactivating);

    private readonly ConcurrentDictionary<LeaseGrain, TaskScheduler> _activations = new();
    private readonly List<IDisposable> _subscriptions = [];
    private volatile bool _stopping;

    public OpenWaitRegistry()
    {
        _subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));
    }

    /// <summary>Whether the silo is stopping (new waits are refused as "silo unavailable", which callers retry elsewhere).</summary>
    public bool IsStopping => _stopping;

    /// <summary>Remembers an activation with waiters and the scheduler its code must run on.</summary>
    public void Add(LeaseGrain activation, TaskScheduler scheduler) => _activations.TryAdd(activation, scheduler);

    public void Remove(LeaseGrain activation) => _activations.TryRemove(activation, out _);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(OpenWaitRegistry), ServiceLifecycleStage.BecomeActive, _ => Task.CompletedTask, OnStopAsync);

    public void OnNext(DiagnosticListener listener)
    {
        if (listener.Name == GrainLifecycleEvents.ListenerName)
        {
            lock (_subscriptions)
            {
                _subscriptions.Add(listener.Subscribe(this, name => name == DeactivatingEvent));
            }
        }
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        // Raised inside Orleans' deactivation: only schedule work here, on the activation's own scheduler.
        if (value.Value is GrainLifecycleEvents.Deactivating { GrainContext.GrainInstance: LeaseGrain activation }
            && _activations.TryGetValue(activation, out var scheduler))
        {
            _ = Task.Factory.StartNew(activation.GoAway, CancellationToken.None, TaskCreationOptions.None, scheduler);
        }
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void Dispose()
    {
        lock (_subscriptions)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }

            _subscriptions.Clear();
        }
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        var answered = _activations.Select(pair => Task.Factory.StartNew(
            pair.Key.GoAway, CancellationToken.None, TaskCreationOptions.None, pair.Value));
        await Task.WhenAll(answered).WaitAsync(cancellationToken);
    }
}
