using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using OrleansLocks.Grains;

namespace OrleansLocks.Tests.Admin;

/// <summary>The admin option: bound from its section, checked at start-up with a message naming the rule.</summary>
public sealed class LockAdminOptionsTests
{
    [Fact]
    public void ForceReleaseMargin_DefaultsToFiveSeconds_AndIsBoundFromItsSection()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), Resolve([]).ForceReleaseMargin);
        Assert.Equal(TimeSpan.FromSeconds(12), Resolve(new() { ["OrleansLocks:Admin:ForceReleaseMargin"] = "00:00:12" }).ForceReleaseMargin);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:10:01")]
    public void ForceReleaseMargin_OutOfRange_IsRefusedNamingTheRule(string margin)
    {
        var refused = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["OrleansLocks:Admin:ForceReleaseMargin"] = margin }));
        Assert.Contains("ForceReleaseMargin must be from 0 to 10 minutes", refused.Message, StringComparison.Ordinal);
    }

    private static LockAdminOptions Resolve(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddOrleansLocksGrains();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<LockAdminOptions>>().Value;
    }
}
