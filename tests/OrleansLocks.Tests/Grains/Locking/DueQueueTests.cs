using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>The expiry schedule's queue of due times, checked as plain data with a clock in milliseconds.</summary>
public sealed class DueQueueTests
{
    [Fact]
    public void KeysAreTaken_EarliestFirst_OnlyOnceDue()
    {
        var queue = new DueQueue<string>();
        queue.Set("b", 200);
        queue.Set("a", 100);

        Assert.False(queue.TryTakeDue(99, out _));
        Assert.True(queue.TryTakeDue(250, out var first));
        Assert.True(queue.TryTakeDue(250, out var second));
        Assert.False(queue.TryTakeDue(250, out _));

        Assert.Equal(("a", "b"), (first, second));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void ADueTimeMovedLater_IsNotTakenAtTheOldTime_ButAtTheNewOne()
    {
        var queue = new DueQueue<string>();
        queue.Set("lock", 100);

        var moved = queue.Set("lock", 500);

        Assert.False(moved);
        Assert.False(queue.TryTakeDue(100, out _));
        Assert.Equal(500, queue.DueAt("lock"));
        Assert.Equal(500, queue.NextAt());
        Assert.Equal(1, queue.Places);
        Assert.True(queue.TryTakeDue(500, out var key));
        Assert.Equal("lock", key);
    }

    [Fact]
    public void ADueTimeMovedEarlier_IsTakenOnce_AtTheNewTime()
    {
        var queue = new DueQueue<string>();
        queue.Set("lock", 500);

        var earlier = queue.Set("lock", 100);

        Assert.True(earlier);
        Assert.Equal(100, queue.NextAt());
        Assert.True(queue.TryTakeDue(100, out _));
        Assert.False(queue.TryTakeDue(1_000, out _));
    }

    [Fact]
    public void ARemovedKey_IsNeverTaken()
    {
        var queue = new DueQueue<string>();
        queue.Set("lock", 100);

        queue.Remove("lock");

        Assert.Null(queue.DueAt("lock"));
        Assert.Null(queue.NextAt());
        Assert.False(queue.TryTakeDue(1_000, out _));
    }

    [Fact]
    public void SetIfAbsent_KeepsADueTimeTheKeySetItself()
    {
        var queue = new DueQueue<string>();
        queue.Set("lock", 300);

        queue.SetIfAbsent("lock", 100);
        queue.SetIfAbsent("other", 100);

        Assert.Equal(300, queue.DueAt("lock"));
        Assert.Equal(100, queue.DueAt("other"));
    }

    [Fact]
    public void ManyLocksTakenAndReleased_LeaveABoundedHeap()
    {
        var queue = new DueQueue<int>();
        queue.Set(-1, 1_000_000);
        for (var i = 0; i < 100_000; i++)
        {
            queue.Set(i, 600_000 + i);
            queue.Remove(i);
        }

        Assert.Equal(1, queue.Count);
        Assert.True(queue.Places <= 2_100, $"{queue.Places} places for 1 key");
        Assert.True(queue.TryTakeDue(1_000_000, out var key));
        Assert.Equal(-1, key);
    }

    [Fact]
    public void AKeyRemovedAndSetAgainAtTheSameTime_IsTakenOnce()
    {
        var queue = new DueQueue<string>();
        queue.Set("lock", 100);
        queue.Remove("lock");
        queue.Set("lock", 100);

        Assert.True(queue.TryTakeDue(100, out _));
        Assert.False(queue.TryTakeDue(100, out _));
    }
}
