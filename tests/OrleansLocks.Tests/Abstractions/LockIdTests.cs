namespace OrleansLocks.Tests.Abstractions;

public sealed class LockIdTests
{
    [Theory]
    [InlineData("purge_room:!abc:example.org", "purge_room", "!abc:example.org")]
    [InlineData("name:", "name", "")]
    [InlineData("a.b-c_D9:key:with:colons", "a.b-c_D9", "key:with:colons")]
    [InlineData("n:\u00e9\u4e2d\U0001F600", "n", "\u00e9\u4e2d\U0001F600")]
    public void Parse_SplitsAtTheFirstColon(string grainKey, string name, string key)
    {
        var id = LockId.Parse(grainKey);
        Assert.Equal(name, id.Name);
        Assert.Equal(key, id.Key);
        Assert.Equal(grainKey, id.ToGrainKey());
    }

    [Fact]
    public void Create_ThenParse_RoundTrips()
    {
        var id = LockId.Create("purge_room", "!abc:example.org");
        Assert.Equal(id, LockId.Parse(id.ToGrainKey()));
    }

    [Fact]
    public void Create_AcceptsTheLongestNameAndKey()
    {
        var id = LockId.Create(new string('n', LockId.MaxNameLength), new string('k', LockId.MaxKeyLength));
        Assert.Equal(LockId.MaxNameLength, id.Name.Length);
    }

    public static TheoryData<string?, string?, string> BadIds => new()
    {
        { "", "key", "1 to 128 characters" },
        { new string('n', 129), "key", "1 to 128 characters" },
        { "has:colon", "key", "[A-Za-z0-9_.-]" },
        { "has space", "key", "[A-Za-z0-9_.-]" },
        { "caf\u00e9", "key", "[A-Za-z0-9_.-]" },
        { "tab\t", "key", "[A-Za-z0-9_.-]" },
        { null, "key", "it is null" },
        { "name", "nul\0inside", "no NUL" },
        { "name", new string('k', 1025), "0 to 1024 characters" },
        { "name", null, "it is null" },
    };

    [Theory]
    [MemberData(nameof(BadIds))]
    public void Create_WithABadNameOrKey_ThrowsNamingTheRule(string? name, string? key, string rule)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => LockId.Create(name!, key!));
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nocolon")]
    [InlineData("")]
    public void Parse_WithoutAColon_ThrowsNamingTheRule(string grainKey)
    {
        var ex = Assert.Throws<ArgumentException>(() => LockId.Parse(grainKey));
        Assert.Contains("\"name:key\"", ex.Message, StringComparison.Ordinal);
        Assert.False(LockId.TryParse(grainKey, out _));
    }

    [Fact]
    public void TryParse_WithABadName_ReturnsFalse() => Assert.False(LockId.TryParse("bad name:key", out _));
}
