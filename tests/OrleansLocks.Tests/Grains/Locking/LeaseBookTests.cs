using OrleansLocks.Grains;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>The rules of one lock, checked without a cluster: plain state and a clock in milliseconds.</summary>
public sealed class LeaseBookTests
{
    private const long LeaseMs = 30_000;
    private const long Now = 1_700_000_000_000;

    [Fact]
    public void AFreshLock_StartsItsFencingTokensFromTheClockInMicroseconds()
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: false);

        var holder = book.Grant(LockKind.Plain, "a", null, Now);

        Assert.Equal(Now * 1000, holder.FencingToken);
        Assert.Equal(Now * 1000, book.Next.FencingToken);
    }

    [Fact]
    public void AStoredLock_ContinuesItsFencingTokensByOne()
    {
        var stored = new LockState { FencingToken = 41 };

        var holder = new LeaseBook(stored, LeaseMs, recordExists: true).Grant(LockKind.Plain, "a", null, Now);

        Assert.Equal(42, holder.FencingToken);
    }

    [Fact]
    public void AClearedLock_NeverGoesBelowTheTokensItIssued()
    {
        // Without a stored record the floor is the clock, unless the last token is already past it.
        var stored = new LockState { FencingToken = Now * 1000 + 5 };

        var holder = new LeaseBook(stored, LeaseMs, recordExists: false).Grant(LockKind.Plain, "a", null, Now);

        Assert.Equal(Now * 1000 + 6, holder.FencingToken);
    }

    [Fact]
    public void SeveralGrantsInOneWrite_GetIncreasingTokens()
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: false);

        var first = book.Grant(LockKind.Read, "a", null, Now);
        var second = book.Grant(LockKind.Read, "b", null, Now);

        Assert.Equal(first.FencingToken + 1, second.FencingToken);
    }

    [Fact]
    public void AForcedRelease_FreesOnlyTheChosenFencingToken_AndGrantsNobodyUntilTheDelayEnds()
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: true);
        var first = book.Grant(LockKind.Read, "a", null, Now);
        var second = book.Grant(LockKind.Read, "b", null, Now);
        var held = book.Seal(Now);

        var stale = new LeaseBook(held, LeaseMs, recordExists: true);
        var (staleMatched, staleRemoved) = stale.ForceOut(_ => true, fencingToken: 999, until: Now + 5_000);
        Assert.Equal(2, staleMatched);
        Assert.Empty(staleRemoved);
        Assert.Null(stale.Next.NoGrantsBefore); // nothing freed, no delay

        var forced = new LeaseBook(held, LeaseMs, recordExists: true);
        var (matched, removed) = forced.ForceOut(_ => true, first.FencingToken, until: Now + 5_000);
        var after = forced.Seal(Now);

        Assert.Equal(2, matched);
        Assert.Equal([first.Token], removed.Select(h => h.Token));
        Assert.Equal([second.Token], after.Holders.Select(h => h.Token));
        Assert.False(LeaseBook.Fits(after, LockKind.Read, Now + 4_999));
        Assert.True(LeaseBook.Fits(after, LockKind.Read, Now + 5_000));
    }

    [Fact]
    public void AHolder_HoldsWhileNowIsBeforeItsExpiry()
    {
        var holder = Held(out var state);

        Assert.Equal(Now + LeaseMs, holder.ExpiresAt);
        Assert.True(holder.IsLiveAt(holder.ExpiresAt - 1));
        Assert.False(holder.IsLiveAt(holder.ExpiresAt));
        Assert.False(LeaseBook.Fits(state, LockKind.Plain, holder.ExpiresAt - 1));
        Assert.True(LeaseBook.Fits(state, LockKind.Plain, holder.ExpiresAt));
    }

    [Fact]
    public void Expire_RemovesOnlyTheHoldersWhoseLeaseRanOut_AndReturnsThem()
    {
        var state = new LockState();
        var book = new LeaseBook(state, LeaseMs, recordExists: true);
        var early = book.Grant(LockKind.Read, "early", null, Now);
        var late = book.Grant(LockKind.Read, "late", null, Now + 10);
        state = book.Seal(Now + 10);

        var expiring = new LeaseBook(state, LeaseMs, recordExists: true);
        var expired = expiring.Expire(early.ExpiresAt);

        Assert.Equal([early], expired);
        Assert.Equal([late], expiring.Next.Holders);
        Assert.True(expiring.HoldersChanged);
        Assert.Equal(2, state.Readers!.Count);
    }

    [Fact]
    public void Renew_ExtendsALiveHolderByALease_AndRefusesAnExpiredOne()
    {
        var holder = Held(out var state);

        var renewed = new LeaseBook(state, LeaseMs, recordExists: true).Renew(holder.Token, Now + 1000);
        var tooLate = new LeaseBook(state, LeaseMs, recordExists: true).Renew(holder.Token, holder.ExpiresAt);

        Assert.NotNull(renewed);
        Assert.Equal(Now + 1000 + LeaseMs, renewed.ExpiresAt);
        Assert.Equal(Now + 1000, renewed.LastRenewedAt);
        Assert.Equal(holder.FencingToken, renewed.FencingToken);
        Assert.Null(tooLate);
    }

    [Fact]
    public void RenewAndRemove_WithAnotherToken_ChangeNothing()
    {
        Held(out var state);
        var book = new LeaseBook(state, LeaseMs, recordExists: true);

        Assert.Null(book.Renew(LockToken.New(), Now));
        Assert.Null(book.Remove(LockToken.New()));
        Assert.False(book.HoldersChanged);
    }

    [Fact]
    public void Remove_FreesTheLock_AndSealRecordsSinceWhen()
    {
        var holder = Held(out var state);
        var book = new LeaseBook(state, LeaseMs, recordExists: true);

        Assert.Equal(holder, book.Remove(holder.Token));
        var next = book.Seal(Now + 5);

        Assert.Empty(next.Holders);
        Assert.Equal(Now + 5, next.FreedAt);
        Assert.Equal(holder.FencingToken, next.FencingToken);
        Assert.True(LeaseBook.Fits(next, LockKind.Plain, Now + 5));
    }

    [Fact]
    public void AHeldLock_HasNoFreedAt()
    {
        Held(out var state);

        Assert.Null(state.FreedAt);
    }

    [Fact]
    public void AWaitingWriter_KeepsNewReadersOut_EvenWhileTheLockIsOnlyRead()
    {
        var state = new LockState();
        var book = new LeaseBook(state, LeaseMs, recordExists: true);
        book.Grant(LockKind.Read, "reader", null, Now);
        state = book.Seal(Now);

        Assert.True(LeaseBook.Fits(state, LockKind.Read, Now));
        Assert.True(LeaseBook.CanGrantNow(state, LockKind.Read, Now, anyoneWaiting: false));
        Assert.False(LeaseBook.CanGrantNow(state, LockKind.Read, Now, anyoneWaiting: true));
    }

    [Fact]
    public void AWriter_ExcludesReadersAndWriters_AndReadersExcludeAWriter()
    {
        var writer = Held(out var written, LockKind.Write);
        var readBook = new LeaseBook(new LockState(), LeaseMs, recordExists: true);
        readBook.Grant(LockKind.Read, "reader", null, Now);
        var read = readBook.Seal(Now);

        Assert.False(LeaseBook.Fits(written, LockKind.Read, Now));
        Assert.False(LeaseBook.Fits(written, LockKind.Write, Now));
        Assert.False(LeaseBook.Fits(read, LockKind.Write, Now));
        Assert.True(LeaseBook.Fits(written, LockKind.Read, writer.ExpiresAt));
    }

    [Fact]
    public void Readers_AreCappedAtMaxReaders()
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: true);
        for (var i = 0; i < IReadWriteLockGrain.MaxReaders - 1; i++)
        {
            book.Grant(LockKind.Read, "r", null, Now);
        }

        Assert.True(book.Fits(LockKind.Read, Now));
        book.Grant(LockKind.Read, "last", null, Now);
        Assert.False(book.Fits(LockKind.Read, Now));
    }

    [Fact]
    public void FindLiveByAcquireId_FindsTheGrantOfThatAttemptWhileItIsLive()
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: true);
        var holder = book.Grant(LockKind.Plain, "a", "attempt-1", Now);
        var state = book.Seal(Now);

        Assert.Equal(holder, LeaseBook.FindLiveByAcquireId(state, "attempt-1", Now + 1));
        Assert.Null(LeaseBook.FindLiveByAcquireId(state, "attempt-2", Now + 1));
        Assert.Null(LeaseBook.FindLiveByAcquireId(state, "attempt-1", holder.ExpiresAt));
    }

    [Fact]
    public void TheStateABookWasOpenedOn_IsNeverChanged()
    {
        var holder = Held(out var state);

        var book = new LeaseBook(state, LeaseMs, recordExists: true);
        book.Remove(holder.Token);
        book.Seal(Now);

        Assert.Equal([holder], state.Holders);
        Assert.Null(state.FreedAt);
    }

    private static LockHolder Held(out LockState state, LockKind kind = LockKind.Plain)
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: true);
        var holder = book.Grant(kind, "owner", null, Now);
        state = book.Seal(Now);
        return holder;
    }
}
