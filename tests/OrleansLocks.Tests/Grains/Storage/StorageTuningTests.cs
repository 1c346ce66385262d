using System.Data.Common;
using Orleans.Hosting;

namespace OrleansLocks.Tests.Grains.Storage;

/// <summary>
/// The Npgsql settings the lock storage adds to its connection string: applied when the string does
/// not name them, and never overriding a value the user wrote.
/// </summary>
public sealed class StorageTuningTests
{
    [Fact]
    public void APlainConnectionString_GetsAutoPrepareAndNoResetOnClose()
    {
        var tuned = Keys(OrleansLocksSiloBuilderExtensions.TunedForLocks("Host=h;Database=d;Username=u"));

        Assert.Equal("20", tuned["Max Auto Prepare"]);
        Assert.Equal("2", tuned["Auto Prepare Min Usages"]);
        Assert.Equal("True", tuned["No Reset On Close"], ignoreCase: true);
        Assert.Equal("h", tuned["Host"]);
        Assert.Equal("d", tuned["Database"]);
        Assert.Equal("u", tuned["Username"]);
    }

    [Theory]
    [InlineData("Host=h;Max Auto Prepare=0", "Max Auto Prepare", "0")]
    [InlineData("Host=h;maxautoprepare=5", "Max Auto Prepare", "5")]
    [InlineData("Host=h;MAX AUTO PREPARE=7", "Max Auto Prepare", "7")]
    [InlineData("Host=h;Auto Prepare Min Usages=9", "Auto Prepare Min Usages", "9")]
    [InlineData("Host=h;No Reset On Close=false", "No Reset On Close", "False")]
    [InlineData("Host=h;NO RESET ON CLOSE=false", "No Reset On Close", "False")]
    [InlineData("Host=h;noresetonclose=False", "No Reset On Close", "False")]
    public void AValueTheConnectionStringSets_IsKeptAsWritten(string connectionString, string key, string expected)
    {
        var tuned = Keys(OrleansLocksSiloBuilderExtensions.TunedForLocks(connectionString));

        Assert.Equal(expected, tuned[key], ignoreCase: true);
    }

    [Fact]
    public void OnlyTheKeysTheStringLeavesOut_AreAdded()
    {
        var tuned = Keys(OrleansLocksSiloBuilderExtensions.TunedForLocks("Host=h;No Reset On Close=false"));

        Assert.Equal("False", tuned["No Reset On Close"], ignoreCase: true);
        Assert.Equal("20", tuned["Max Auto Prepare"]);
        Assert.Equal("2", tuned["Auto Prepare Min Usages"]);
    }

    // Read back with Npgsql's builder, which names every key canonically.
    internal static Dictionary<string, string> Keys(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var named = new DbConnectionStringBuilder { ConnectionString = builder.ConnectionString };
        return named.Keys.Cast<string>().ToDictionary(k => k, k => Convert.ToString(named[k], System.Globalization.CultureInfo.InvariantCulture)!, StringComparer.OrdinalIgnoreCase);
    }
}
