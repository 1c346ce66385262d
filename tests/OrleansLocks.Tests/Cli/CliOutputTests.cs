using OrleansLocks.Cli;
using OrleansLocks.Cli.Connection;

namespace OrleansLocks.Tests.Cli;

/// <summary>The tool's parsing and display rules that need no cluster.</summary>
public sealed class CliOutputTests
{
    [Theory]
    [InlineData("10.0.0.5:30000", "10.0.0.5", 30000)]
    [InlineData("silo-1.internal:30001", "silo-1.internal", 30001)]
    [InlineData("[::1]:30000", "::1", 30000)]
    public void GatewayAddress_AcceptsHostColonPort_ForIPv4NamesAndBracketedIPv6(string text, string host, int port)
    {
        Assert.True(GatewayAddress.TryParse(text, out var address, out var error), error);
        Assert.Equal(new GatewayAddress(host, port), address);
        Assert.Equal(text, address!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("silo")]
    [InlineData("silo:0")]
    [InlineData("silo:65536")]
    [InlineData(":30000")]
    [InlineData("::1:30000")]
    [InlineData("silo:30000x")]
    public void GatewayAddress_RefusesAnythingElse_NamingTheRule(string text)
    {
        Assert.False(GatewayAddress.TryParse(text, out _, out var error));
        Assert.Contains(GatewayAddress.Rule, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_EscapesControlCharacters_SoAKeyCannotBreakTheTableOrDriveTheTerminal()
    {
        Assert.Equal("a\\nb\\tc\\u001b[2J", Display.Text("a\nb\tc\u001b[2J"));
        Assert.Equal("\"\"", Display.Text(""));
        Assert.Equal("!abc:example.org", Display.Text("!abc:example.org"));
    }

    [Fact]
    public void Relative_SaysAgoForThePastAndInForTheFuture()
    {
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal("12s ago", Display.Relative(now.AddSeconds(-12), now));
        Assert.Equal("in 1m48s", Display.Relative(now.AddSeconds(108), now));
        Assert.Equal("now", Display.Relative(now.AddMilliseconds(300), now));
        Assert.Equal("2h05m ago", Display.Relative(now.AddMinutes(-125), now));
        Assert.Equal("2026-12-01T12:00:00Z", Display.Utc(now.ToOffset(TimeSpan.FromHours(2))));
    }

    [Fact]
    public void Table_PadsEveryColumnToItsWidestCell()
    {
        var table = new Table("NAME", "OWNER", "FENCING").Add("purge_room", "w1", "7").Add("a", "worker-22", "1234");
        using var output = new StringWriter { NewLine = "\n" };

        table.WriteTo(output);

        Assert.Equal(
            "NAME        OWNER      FENCING\n" +
            "purge_room  w1         7\n" +
            "a           worker-22  1234\n",
            output.ToString());
    }

    [Fact]
    public void AConnectionString_IsNeverEchoed_WhereTheToolSaysWhereItConnects()
    {
        var target = ClusterTarget.Choose([], "Host=db.internal;Port=5433;Database=locks;Username=ops;Password=hunter2", null, "c1", "s1", TimeSpan.FromSeconds(1));

        var where = target.Describe();

        Assert.Equal("cluster 'c1' through the membership table of PostgreSQL database 'locks' at db.internal:5433", where);
        var both = Assert.Throws<UsageException>(() => ClusterTarget.Choose([new GatewayAddress("a", 1)], "Host=x;Password=hunter2", null, "c", "s", TimeSpan.FromSeconds(1)));
        Assert.DoesNotContain("hunter2", both.Message, StringComparison.Ordinal);
    }
}
