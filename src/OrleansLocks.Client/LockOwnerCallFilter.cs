namespace OrleansLocks.Client;

/// <summary>
/// Puts this process's owner name in the request context of every call to a lock grain (<see cref="ILockGrain"/>, <see cref="IReadWriteLockGrain"/>),
/// so that even a raw <c>GetGrain&lt;ILockGrain&gt;(...).TryAcquire()</c> records a traceable holder.
/// </summary>
internal sealed class LockOwnerCallFilter(Microsoft.Extensions.Options.IOptions<LockClientOptions> options) : IOutgoingGrainCallFilter
{
    // async, so the request-context change stays inside this call and never leaks to the caller.
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType is { } declaring && typeof(ILeaseGrain).IsAssignableFrom(declaring) && RequestContext.Get(LockRequestContext.OwnerKey) is null)
        {
            RequestContext.Set(LockRequestContext.OwnerKey, options.Value.Owner);
        }

        await context.Invoke().ConfigureAwait(false);
    }
}
