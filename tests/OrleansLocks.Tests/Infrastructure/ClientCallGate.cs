using System.Collections.Concurrent;

namespace OrleansLocks.Tests.Infrastructure;

/// <summary>
/// Holds a client's next call of a method to a lock grain before it is sent, until the test lets it
/// go: for orderings that timing alone would make rare (a renewal that reaches the lock after the
/// handle's release).
/// </summary>
public sealed class ClientCallGate : IOutgoingGrainCallFilter
{
    private readonly ConcurrentDictionary<(string GrainKey, string Method), HeldCall> _armed = new();

    /// <summary>Holds the next call of <paramref name="method"/> to the plain lock <paramref name="id"/>.</summary>
    public HeldCall HoldNext(LockId id, string method) => _armed[(id.ToGrainKey(), method)] = new HeldCall();

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.TargetId.Type.ToString() == "orleanslocks.lock"
            && _armed.TryRemove((context.TargetId.Key.ToString()!, context.MethodName), out var held))
        {
            held.Reached.TrySetResult();
            await held.Released.Task;
        }

        await context.Invoke();
    }

    /// <summary>One held call: <see cref="Reached"/> when it was made, sent on <see cref="Send"/>.</summary>
    public sealed class HeldCall
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Send() => Released.TrySetResult();
    }
}
