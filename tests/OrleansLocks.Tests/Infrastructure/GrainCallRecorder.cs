using System.Collections.Concurrent;

namespace OrleansLocks.Tests.Infrastructure;

/// <summary>Records which methods reached which lock grains on the silos, so tests can assert that a call was (not) made.</summary>
public sealed class GrainCallRecorder : IIncomingGrainCallFilter
{
    private readonly ConcurrentQueue<(string GrainKey, string Method)> _calls = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(ILockGrain))
        {
            _calls.Enqueue((context.TargetId.Key.ToString()!, context.MethodName));
        }

        return context.Invoke();
    }

    public int Count(LockId id, string method) => _calls.Count(c => c.GrainKey == id.ToGrainKey() && c.Method == method);
}
