using System.Text;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Storage;

namespace OrleansLocks.Tests.Grains.Storage;

/// <summary>The stored state's rare fields (lock-delay, upgrade record, semaphore count): stored flat, copied apart.</summary>
public sealed class LockStateTests
{
    [Fact]
    public void APlainLocksState_StoresNoneOfTheRareFields()
    {
        var json = Encoding.UTF8.GetString(LockStateJsonSerializer.ToBytes(new LockState { Name = "n", Key = "k", FencingToken = 3 }));

        foreach (var name in new[] { "noGrantsBefore", "maxCount", "upgradedFrom", "upgradeId" })
        {
            Assert.DoesNotContain(name, json, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheRareFields_AreStoredFlatAtTheTopLevel_AndReadBack()
    {
        var state = new LockState { Name = "n", Key = "k", NoGrantsBefore = 5, MaxCount = 4, UpgradedFrom = 7, UpgradeId = "w1" };

        var bytes = LockStateJsonSerializer.ToBytes(state);
        var json = Encoding.UTF8.GetString(bytes);
        var back = LockStateJsonSerializer.FromBytes(bytes);

        Assert.Contains("\"noGrantsBefore\":5", json, StringComparison.Ordinal);
        Assert.Contains("\"maxCount\":4", json, StringComparison.Ordinal);
        Assert.Contains("\"upgradedFrom\":7", json, StringComparison.Ordinal);
        Assert.Contains("\"upgradeId\":\"w1\"", json, StringComparison.Ordinal);
        Assert.Equal((5L, 4, 7L, "w1"), (back.NoGrantsBefore, back.MaxCount, back.UpgradedFrom, back.UpgradeId));
    }

    [Fact]
    public void AClone_ChangesItsRareFieldsWithoutTouchingTheOriginal()
    {
        var original = new LockState { MaxCount = 3, NoGrantsBefore = 10 };

        var copy = original.Clone();
        copy.MaxCount = 5;
        copy.NoGrantsBefore = null;
        copy.UpgradeId = "w2";

        Assert.Equal((3, 10L, (string?)null), (original.MaxCount, original.NoGrantsBefore, original.UpgradeId));
        Assert.Equal((5, (long?)null, "w2"), (copy.MaxCount, copy.NoGrantsBefore, copy.UpgradeId));
    }
}
