using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OrleansLocks.Grains;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.Abstractions;

/// <summary>
/// Options at the far end of their range (up to TimeSpan.MaxValue) are refused naming the rule, not
/// accepted only to break at run time (an overflow, a reminder or timer that cannot take them).
/// </summary>
public sealed class OptionsUpperBoundTests
{
    [Fact]
    public void LeaseOptions_WithTheLargestRenewalInterval_AreRefusedNamingTheRule_NotOverflowing()
    {
        var result = new LockLeaseOptionsValidator().Validate(null, new LockLeaseOptions { RenewalInterval = TimeSpan.MaxValue });

        Assert.True(result.Failed);
        Assert.Contains("at most a third of LeaseTimeout", result.FailureMessage, StringComparison.Ordinal);
    }

    public static TheoryData<Action<LockStorageOptions>, string> TooLargeStorage => new()
    {
        { o => o.SweepInterval = TimeSpan.FromDays(50), "SweepInterval must be at most 49 days" },
        { o => o.SweepInterval = TimeSpan.MaxValue, "SweepInterval must be at most 49 days" },
        { o => o.FreeRowRetention = TimeSpan.FromDays(366), "FreeRowRetention must be at most 365 days" },
        { o => o.FreeRowRetention = TimeSpan.MaxValue, "FreeRowRetention must be at most 365 days" },
    };

    [Theory]
    [MemberData(nameof(TooLargeStorage))]
    public void StorageOptions_BeyondWhatTheSweepCanUse_AreRefusedNamingTheRule(Action<LockStorageOptions> configure, string rule)
    {
        var options = new LockStorageOptions();
        configure(options);

        var result = new LockStorageOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(rule, Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void StorageOptions_AtTheirUpperBounds_AreValid()
    {
        var options = new LockStorageOptions { SweepInterval = TimeSpan.FromDays(49), FreeRowRetention = TimeSpan.FromDays(365) };
        Assert.True(new LockStorageOptionsValidator().Validate(null, options).Succeeded);
    }

    public static TheoryData<Action<InMemoryLockOptions>, string> BadInMemory => new()
    {
        { o => o.RenewalInterval = TimeSpan.MaxValue, "at most a third of LeaseTimeout" },
        { o => o.LeaseTimeout = TimeSpan.MaxValue, "LeaseTimeout must be positive and at most 1 day" },
        { o => o.LeaseTimeout = TimeSpan.MinValue, "LeaseTimeout must be positive and at most 1 day" },
        { o => o.Owner = null!, LockOwner.Rule },
    };

    [Theory]
    [MemberData(nameof(BadInMemory))]
    public void InMemoryOptions_OutOfRange_AreRefusedByTheCall_NamingItsParameterAndTheRule(Action<InMemoryLockOptions> configure, string rule)
    {
        var options = new InMemoryLockOptions();
        configure(options);

        var byConstructor = Assert.ThrowsAny<ArgumentException>(() => new InMemoryLockProvider(new FakeTimeProvider(), options));
        Assert.Equal("options", byConstructor.ParamName);
        Assert.Contains(rule, byConstructor.Message, StringComparison.Ordinal);

        var byRegistration = Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddInMemoryOrleansLocks(configure));
        Assert.Equal("configure", byRegistration.ParamName);
        Assert.Contains(rule, byRegistration.Message, StringComparison.Ordinal);
    }
}
