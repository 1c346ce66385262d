using Microsoft.Extensions.Hosting;

namespace OrleansLocks.Client;

/// <summary>
/// Synapse's drop-on-shutdown: when the host starts stopping, and before the Orleans client or silo
/// stops (every <see cref="IHostedLifecycleService.StoppingAsync"/> runs before any StopAsync),
/// every lock this process still holds is released.
/// </summary>
internal sealed class LockReleaseOnShutdown(HeldLocks held) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => held.ReleaseAllAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
