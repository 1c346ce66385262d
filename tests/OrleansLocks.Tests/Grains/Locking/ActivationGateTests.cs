using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>The lock activation's gate: one change at a time, in arrival order, nothing allocated when alone.</summary>
public sealed class ActivationGateTests
{
    [Fact]
    public void AFreeGate_IsTakenAtOnce()
    {
        var gate = default(ActivationGate);

        var entered = gate.EnterAsync();

        Assert.True(entered.IsCompletedSuccessfully);
        Assert.True(gate.IsTaken);
        gate.Exit();
        Assert.False(gate.IsTaken);
    }

    [Fact]
    public async Task ChangesThatMeet_TakeTurns_InArrivalOrder()
    {
        var gate = default(ActivationGate);
        _ = gate.EnterAsync();
        var second = gate.EnterAsync();
        var third = gate.EnterAsync();

        Assert.False(second.IsCompleted);
        gate.Exit();
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(third.IsCompleted);
        Assert.True(gate.IsTaken);
        gate.Exit();
        await third.WaitAsync(TimeSpan.FromSeconds(10));
        gate.Exit();
        Assert.False(gate.IsTaken);
    }
}
