using OrleansLocks.Grains;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>A semaphore's count rule and its room for holders, checked without a cluster.</summary>
public sealed class SemaphoreCountTests
{
    private const long LeaseMs = 30_000;
    private const long Now = 1_700_000_000_000;
    private static readonly LockId Id = LockId.Create("sem", "k");

    [Fact]
    public void TheFirstCaller_SetsTheCount()
    {
        var state = new LockState();

        SemaphoreCount.Agree(state, 3, Now, anyoneWaiting: false, Id);

        Assert.Equal(3, state.MaxCount);
    }

    [Fact]
    public void AnotherCount_WhileAPermitIsHeld_IsRefusedNamingBothCounts_AndChangesNothing()
    {
        var state = HeldBy(1, maxCount: 2);

        var refused = Assert.Throws<ArgumentException>(() => SemaphoreCount.Agree(state, 5, Now, anyoneWaiting: false, Id));

        Assert.Equal("maxCount", refused.ParamName);
        Assert.Contains("maxCount 2", refused.Message, StringComparison.Ordinal);
        Assert.Contains("maxCount 5", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, state.MaxCount);
    }

    [Fact]
    public void AnotherCount_WhileSomeoneWaits_IsRefused()
    {
        var state = new LockState { MaxCount = 2 };

        Assert.Throws<ArgumentException>(() => SemaphoreCount.Agree(state, 4, Now, anyoneWaiting: true, Id));
    }

    [Fact]
    public void OnceNobodyHoldsOrWaits_TheNextCallerSetsTheCountAnew()
    {
        var state = HeldBy(1, maxCount: 2);

        // The only holder's lease is over at Now + LeaseMs: the count is no longer in force.
        Assert.Null(SemaphoreCount.InForce(state, Now + LeaseMs, anyoneWaiting: false));
        SemaphoreCount.Agree(state, 7, Now + LeaseMs, anyoneWaiting: false, Id);

        Assert.Equal(7, state.MaxCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void ACountBelowOne_IsRefusedByRule(int maxCount)
    {
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => SemaphoreCount.Validate(maxCount));

        Assert.Contains("must be 1 or more", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APermitFits_WhileFewerThanTheCountHold()
    {
        Assert.True(LeaseBook.Fits(HeldBy(2, maxCount: 3), LockKind.Semaphore, Now));
        Assert.False(LeaseBook.Fits(HeldBy(3, maxCount: 3), LockKind.Semaphore, Now));
    }

    [Fact]
    public void AHugeCount_StillHoldsAtMostMaxHolders()
    {
        Assert.True(LeaseBook.Fits(HeldBy(ISemaphoreGrain.MaxHolders - 1, maxCount: int.MaxValue), LockKind.Semaphore, Now));
        Assert.False(LeaseBook.Fits(HeldBy(ISemaphoreGrain.MaxHolders, maxCount: int.MaxValue), LockKind.Semaphore, Now));
    }

    [Fact]
    public void APermit_IsStoredAsAShare_WithTheNextFencingToken()
    {
        var book = new LeaseBook(new LockState { MaxCount = 2, FencingToken = 10 }, LeaseMs, recordExists: true);

        var first = book.Grant(LockKind.Semaphore, "a", null, Now);
        var second = book.Grant(LockKind.Semaphore, "b", null, Now);

        Assert.Null(book.Next.Writer);
        Assert.Equal([first, second], book.Next.Readers!);
        Assert.Equal((11, 12), (first.FencingToken, second.FencingToken));
        Assert.False(book.Fits(LockKind.Semaphore, Now));
    }

    private static LockState HeldBy(int holders, int maxCount)
    {
        var book = new LeaseBook(new LockState { MaxCount = maxCount }, LeaseMs, recordExists: true);
        for (var i = 0; i < holders; i++)
        {
            book.Grant(LockKind.Semaphore, $"h{i}", null, Now);
        }

        return book.Seal(Now);
    }
}
