using System.Collections.Concurrent;

namespace OrleansLocks.Tests.Infrastructure;

/// <summary>Records which methods reached which lock grains on the silos, so tests can assert that a call was (not) made.</summary>
public sealed class GrainCallRecorder : IIncomingGrainCallFilter
{
    private readonly ConcurrentQueue<(string GrainType, string GrainKey, string Method)> _calls = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        var declaring = context.InterfaceMethod?.DeclaringType;
        if (declaring == typeof(ILockGrain) || declaring == typeof(ILeaseGrain) || declaring == typeof(IReadWriteLockGrain))
        {
            _calls.Enqueue((context.TargetId.Type.ToString()!, context.TargetId.Key.ToString()!, context.MethodName));
        }

        return context.Invoke();
    }

    /// <summary>How many calls of <paramref name="method"/> reached the plain lock <paramref name="id"/> (or, with <paramref name="readWrite"/>, the read/write lock).</summary>
    public int Count(LockId id, string method, bool readWrite = false) =>
        _calls.Count(c => c.GrainType == (readWrite ? "orleanslocks.rwlock" : "orleanslocks.lock") && c.GrainKey == id.ToGrainKey() && c.Method == method);
}
