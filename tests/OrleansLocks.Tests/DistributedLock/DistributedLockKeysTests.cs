using Medallion.Threading;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansLocks.Client;
using OrleansLocks.DistributedLock;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.DistributedLock;

/// <summary>
/// How DistributedLock names become OrleansLocks keys (stable, documented, collision-free), the
/// adapter's options and its registration. No cluster: names are mapped before any network call.
/// </summary>
public sealed class DistributedLockKeysTests
{
    [Theory]
    [InlineData("")]
    [InlineData("reports/daily")]
    [InlineData("!room:example.org")]
    [InlineData("emoji 🔒")]
    public void ANameThatIsAValidKey_IsTheKeyItself(string name) =>
        Assert.Equal(name, OrleansLocksDistributedLockProvider.GetKey(name));

    [Fact]
    public void ANameOfExactlyTheKeyLimit_IsTheKeyItself_AndOneMoreCharacterIsHashed()
    {
        var atLimit = new string('k', LockId.MaxKeyLength);
        Assert.Equal(atLimit, OrleansLocksDistributedLockProvider.GetKey(atLimit));
        Assert.Contains("#sha256:", OrleansLocksDistributedLockProvider.GetKey(atLimit + "k"), StringComparison.Ordinal);
    }

    [Fact]
    public void AHashedKey_IsStable_AReadablePrefix_TheMarker_AndTheSha256OfTheUtf16Name()
    {
        // SHA-256 of the UTF-16LE code units of "a\0b", computed independently (Python's hashlib).
        Assert.Equal("a?b#sha256:d06c13d806836ab3011b178376b23276469c411c1c199ec8fbfd3a4a5b2b95e3", OrleansLocksDistributedLockProvider.GetKey("a\0b"));

        var key = OrleansLocksDistributedLockProvider.GetKey(new string('N', 2000));
        Assert.Equal(new string('N', 64) + "#sha256:703feb72db92c4c9372e14087bb335dde453356b7ecd4d59611c73b47f1cd328", key);
    }

    [Fact]
    public void NamesThatAreNotValidKeys_OrLookHashed_AreHashedIntoValidKeys()
    {
        // Built here rather than as theory data: xunit carries theory data as UTF-8, which has no unpaired surrogates.
        string[] names =
        [
            "nul\0inside",
            "lone " + (char)0xD800 + " high",
            "lone " + (char)0xDC00 + " low",
            "ends high " + (char)0xD83D,
            "contains #sha256: already",
        ];

        Assert.All(names, AssertHashedIntoAValidKey);
    }

    private static void AssertHashedIntoAValidKey(string name)
    {
        var key = OrleansLocksDistributedLockProvider.GetKey(name);
        Assert.NotEqual(name, key);
        Assert.Contains("#sha256:", key, StringComparison.Ordinal);
        LockId.ValidateKey(key);
    }

    [Fact]
    public void ALongNameWhosePrefixEndsInASurrogatePair_KeepsThePairWhole()
    {
        var name = new string('x', 63) + "🔒" + new string('y', 2000);
        var key = OrleansLocksDistributedLockProvider.GetKey(name);
        LockId.ValidateKey(key);
        Assert.StartsWith(new string('x', 63) + "#sha256:", key, StringComparison.Ordinal);
    }

    [Fact]
    public void NamesDifferingOnlyInCase_OrInAnUnpairedSurrogate_MapToDifferentKeys()
    {
        var longName = new string('n', 1500);
        Assert.NotEqual(OrleansLocksDistributedLockProvider.GetKey(longName), OrleansLocksDistributedLockProvider.GetKey(longName.ToUpperInvariant()));
        Assert.NotEqual(OrleansLocksDistributedLockProvider.GetKey("Name"), OrleansLocksDistributedLockProvider.GetKey("name"));

        // UTF-8 would make both U+FFFD; the hash is over UTF-16 code units, so they stay apart.
        Assert.NotEqual(OrleansLocksDistributedLockProvider.GetKey("x" + (char)0xD800), OrleansLocksDistributedLockProvider.GetKey("x" + (char)0xD801));
    }

    [Fact]
    public void GetKey_OfNull_IsRefused() =>
        Assert.Throws<ArgumentNullException>(() => OrleansLocksDistributedLockProvider.GetKey(null!));

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("has:colon")]
    public void ALockNameOptionThatBreaksTheNameRule_IsRefusedAtRegistration_NamingTheRule(string lockName)
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<ArgumentException>(() => services.AddOrleansLocksDistributedLock(o => o.LockName = lockName));
        Assert.Contains(LockId.NameRule, error.Message, StringComparison.Ordinal);
        Assert.Equal("LockName", error.ParamName);

        error = Assert.Throws<ArgumentException>(() => new OrleansLocksDistributedLockProvider(new InMemoryLockProvider(), new() { ReaderWriterLockName = lockName }));
        Assert.Equal("ReaderWriterLockName", error.ParamName);
    }

    [Fact]
    public void TheProvider_NeedsALockProvider() =>
        Assert.Throws<ArgumentNullException>(() => new OrleansLocksDistributedLockProvider(null!));

    [Fact]
    public void AddOrleansLocksDistributedLock_RegistersTheAdapterForBothInterfaces_InPlaceOfAnEarlierProvider()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILockProvider>(new InMemoryLockProvider());
        services.AddSingleton<IDistributedLockProvider>(new OtherDistributedLockProvider());
        services.AddOrleansLocksDistributedLock(o => o.LockName = "jobs");
        using var provider = services.BuildServiceProvider();

        var locks = Assert.IsType<OrleansLocksDistributedLockProvider>(provider.GetRequiredService<IDistributedLockProvider>());
        Assert.Same(locks, provider.GetRequiredService<IDistributedReaderWriterLockProvider>());
        Assert.Equal(LockId.Create("jobs", "reports/daily"), locks.CreateLock("reports/daily").Id);
        Assert.Equal(LockId.Create("distributedlock-rw", "reports/daily"), locks.CreateReaderWriterLock("reports/daily").Id);
    }

    [Fact]
    public void TheClientBuilderExtension_AddsTheOrleansLocksClientToo_SoSwitchingIsOneLine()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client => client.UseLocalhostClustering().AddOrleansLocksDistributedLock());
        using var host = builder.Build();

        Assert.IsType<OrleansLocksDistributedLockProvider>(host.Services.GetRequiredService<IDistributedLockProvider>());
        Assert.NotNull(host.Services.GetRequiredService<ILockProvider>());
    }

    private sealed class OtherDistributedLockProvider : IDistributedLockProvider
    {
        public IDistributedLock CreateLock(string name) => throw new NotSupportedException();
    }
}
