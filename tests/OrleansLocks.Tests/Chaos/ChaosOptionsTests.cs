using Microsoft.Extensions.Options;
using OrleansLocks.Chaos;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Hosting;

namespace OrleansLocks.Tests.Chaos;

/// <summary>The chaos program's --lease gives silo settings the silo accepts, for any lease.</summary>
public sealed class ChaosOptionsTests
{
    [Theory]
    [InlineData(6)]
    [InlineData(18)]
    [InlineData(20)]
    [InlineData(7)]
    public void ALease_GivesARenewalIntervalAndPollIntervalTheSiloAccepts(int seconds)
    {
        var options = ChaosOptions.Parse(["--lease", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var lease = new LockLeaseOptions { LeaseTimeout = options.LeaseTimeout, RenewalInterval = options.RenewalInterval };

        Assert.True(new LockLeaseOptionsValidator().Validate(null, lease).Succeeded, $"lease {seconds} s: renewal {options.RenewalInterval}");
        var wait = new LockWaitOptions { PollInterval = options.PollInterval, WaiterTimeout = options.WaiterTimeout };
        Assert.True(new LockWaitAgainstLeaseValidator(Options.Create(lease)).Validate(null, wait).Succeeded, $"lease {seconds} s: poll {options.PollInterval}");
    }
}
