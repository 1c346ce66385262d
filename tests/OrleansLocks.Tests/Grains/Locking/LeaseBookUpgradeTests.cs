using OrleansLocks.Grains;
using OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Grains.Locking;

/// <summary>The rules of the upgradeable read hold, checked without a cluster: plain state and a clock in milliseconds.</summary>
public sealed class LeaseBookUpgradeTests
{
    private const long LeaseMs = 30_000;
    private const long Now = 1_700_000_000_000;

    [Fact]
    public void AnUpgradeableRead_FitsBesideReaders_ButNotBesideAnotherUpgradeableReadOrAWriter()
    {
        var book = new LeaseBook(new LockState { FencingToken = 10 }, LeaseMs, recordExists: true);
        book.Grant(LockKind.Read, "r", null, Now);

        Assert.True(book.Fits(LockKind.UpgradeableRead, Now));
        var upgradeable = book.Grant(LockKind.UpgradeableRead, "u", null, Now);

        Assert.True(upgradeable.Upgradeable);
        Assert.False(book.Fits(LockKind.UpgradeableRead, Now));
        Assert.True(book.Fits(LockKind.Read, Now));
        Assert.False(book.Fits(LockKind.Write, Now));
    }

    [Fact]
    public void AnExpiredUpgradeableRead_NoLongerKeepsTheNextOneOut()
    {
        var book = new LeaseBook(new LockState { FencingToken = 10 }, LeaseMs, recordExists: true);
        book.Grant(LockKind.UpgradeableRead, "u", null, Now);

        Assert.True(book.Fits(LockKind.UpgradeableRead, Now + LeaseMs));
    }

    [Fact]
    public void AnUpgrade_WaitsForTheOtherReaders_ThenKeepsTheTokenAndLeaseWithTheNextFencingToken()
    {
        var book = new LeaseBook(new LockState { FencingToken = 10 }, LeaseMs, recordExists: true);
        var reader = book.Grant(LockKind.Read, "r", null, Now);
        var upgradeable = book.Grant(LockKind.UpgradeableRead, "u", null, Now);

        Assert.Null(book.Upgrade(upgradeable.Token, "up-1", Now + 1));

        book.Remove(reader.Token);
        var writer = book.Upgrade(upgradeable.Token, "up-1", Now + 1);

        Assert.NotNull(writer);
        Assert.Equal(upgradeable.Token, writer.Token);
        Assert.Equal(upgradeable.ExpiresAt, writer.ExpiresAt);
        Assert.Equal(13, writer.FencingToken);
        Assert.Equal(13, book.Next.FencingToken);
        Assert.Empty(book.Next.Readers!);
        Assert.Equal(12, book.Next.UpgradedFrom);
        Assert.False(book.Fits(LockKind.Read, Now + 1));

        // Asking again answers the same write hold.
        Assert.Equal(writer, book.Upgrade(upgradeable.Token, "up-1", Now + 1));
    }

    [Fact]
    public void AnOrdinaryRead_CannotBeUpgraded()
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: true);
        var reader = book.Grant(LockKind.Read, "r", null, Now);

        Assert.False(LeaseBook.CanUpgrade(book.Next, reader.Token, Now));
        Assert.Null(book.Upgrade(reader.Token, null, Now));
    }

    [Fact]
    public void GivingBackAnUpgrade_RestoresTheUpgradeableRead_ButNotTheLocksFencingCounter()
    {
        var book = new LeaseBook(new LockState { FencingToken = 10 }, LeaseMs, recordExists: true);
        var upgradeable = book.Grant(LockKind.UpgradeableRead, "u", null, Now);
        book.Upgrade(upgradeable.Token, "up-1", Now);

        Assert.Null(book.GiveBackUpgrade("another-wait", Now));
        var reader = book.GiveBackUpgrade("up-1", Now);

        Assert.NotNull(reader);
        Assert.True(reader.Upgradeable);
        Assert.Equal(upgradeable.FencingToken, reader.FencingToken);
        Assert.Null(book.Next.Writer);
        Assert.Null(book.Next.UpgradedFrom);
        Assert.Equal(12, book.Next.FencingToken);
        Assert.Equal(13, book.Grant(LockKind.Read, "r", null, Now).FencingToken);
    }

    [Fact]
    public void ReleasingAnUpgradedWriter_ForgetsTheUpgrade()
    {
        var book = new LeaseBook(new LockState(), LeaseMs, recordExists: true);
        var upgradeable = book.Grant(LockKind.UpgradeableRead, "u", null, Now);
        book.Upgrade(upgradeable.Token, "up-1", Now);

        book.Remove(upgradeable.Token);

        Assert.Null(book.Next.UpgradedFrom);
        Assert.Null(book.Next.UpgradeId);
        Assert.False(LeaseBook.HoldsUpgradeable(book.Next, upgradeable.Token, Now));
    }
}
