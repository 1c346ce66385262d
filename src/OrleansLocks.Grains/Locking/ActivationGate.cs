namespace OrleansLocks.Grains.Locking;

/// <summary>
/// Lets one change of a lock activation run at a time (its calls interleave with open wait calls),
/// without allocating anything until two changes meet: most locks never see that, and memory per
/// held lock counts. Kept as a mutable field of the activation (never copied).
/// </summary>
/// <remarks>
/// Only for code that runs on one activation's scheduler, which never runs two pieces of it at once,
/// so the gate needs no thread synchronization; a change that had to wait resumes on that scheduler
/// too (it awaited there). Turns are given in arrival order.
/// </remarks>
internal struct ActivationGate
{
    private bool _taken;
    private Queue<TaskCompletionSource>? _waiting;

    /// <summary>Whether a change holds the gate.</summary>
    public readonly bool IsTaken => _taken;

    /// <summary>Takes the gate, now when it is free, else when the changes before this one have left it.</summary>
    public Task EnterAsync()
    {
        if (!_taken)
        {
            _taken = true;
            return Task.CompletedTask;
        }

        var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (_waiting ??= new Queue<TaskCompletionSource>()).Enqueue(turn);
        return turn.Task;
    }

    /// <summary>Leaves the gate: the next waiting change gets it (it stays taken), or it is free.</summary>
    public void Exit()
    {
        if (_waiting is { } waiting && waiting.TryDequeue(out var next))
        {
            next.SetResult();
            return;
        }

        _taken = false;
    }
}
