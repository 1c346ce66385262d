using System.Globalization;
using System.Text.Json;
using OrleansLocks.Client;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Cli;

/// <summary>
/// The <c>orleanslocks</c> tool as operators run it: a real process against a real Silo process on
/// PostgreSQL, looking at locks that real clients hold. Every run is also checked never to print a
/// held lock's token.
/// </summary>
public sealed class OrleansLocksCliTests(CliClusterFixture cluster) : IClassFixture<CliClusterFixture>, IAsyncLifetime
{
    // Long enough for a loaded 2-core machine; a bound on waiting, never an assertion on speed.
    private static readonly TimeSpan LostBound = TimeSpan.FromSeconds(60);

    private readonly List<LockHandle> _handles = [];

    // Each test lists only its own names: the cluster is shared.
    private readonly string _prefix = "cli" + Guid.NewGuid().ToString("N")[..10];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var handle in _handles)
        {
            await handle.DisposeAsync();
        }
    }

    [Fact]
    public async Task List_PrintsOneAlignedRowPerHolder_AndTheSameRowsAsJson()
    {
        var plain = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix + "-plain", "!room:example.org"));
        var reader = await HoldAsync(cluster.OwnerB.TryAcquireReadAsync(_prefix + "-rw", "shared key"));
        var writer = await HoldAsync(cluster.OwnerA.TryAcquireWriteAsync(_prefix + "-rw", "other"));

        var table = await RunAsync("list", "--name-prefix", _prefix);

        Assert.Equal(0, table.ExitCode);
        var lines = table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        var header = lines[0];
        Assert.StartsWith("NAME", header, StringComparison.Ordinal);
        var ownerColumn = header.IndexOf("OWNER", StringComparison.Ordinal);
        var fencingColumn = header.IndexOf("FENCING", StringComparison.Ordinal);
        foreach (var handle in new[] { plain, reader, writer })
        {
            var row = Assert.Single(lines, l => l.Contains(handle.Id.Name + " ", StringComparison.Ordinal) && l.Contains(handle.Id.Key, StringComparison.Ordinal));
            Assert.Equal(handle.Owner, row.Substring(ownerColumn, handle.Owner.Length));
            Assert.StartsWith(handle.FencingToken.ToString(CultureInfo.InvariantCulture) + " ", row[fencingColumn..], StringComparison.Ordinal);
            Assert.Contains(" " + handle.Kind.ToString().ToLowerInvariant() + " ", row, StringComparison.Ordinal);
        }

        var json = await RunAsync("list", "--name-prefix", _prefix, "--json");

        Assert.Equal(0, json.ExitCode);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal(["locks", "continuation"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("continuation").ValueKind);
        var rows = document.RootElement.GetProperty("locks").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(
            ["name", "key", "kind", "owner", "fencingToken", "acquiredAt", "lastRenewedAt", "expiresAt", "waiting"],
            r.EnumerateObject().Select(p => p.Name)));
        foreach (var handle in new[] { plain, reader, writer })
        {
            var row = Assert.Single(rows, r => r.GetProperty("fencingToken").GetInt64() == handle.FencingToken && r.GetProperty("name").GetString() == handle.Id.Name);
            Assert.Equal(handle.Id.Key, row.GetProperty("key").GetString());
            Assert.Equal(handle.Kind.ToString().ToLowerInvariant(), row.GetProperty("kind").GetString());
            Assert.Equal(handle.Owner, row.GetProperty("owner").GetString());
            Assert.Equal(handle.AcquiredAt, row.GetProperty("acquiredAt").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
            Assert.EndsWith("Z", row.GetProperty("expiresAt").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task List_FiltersByOwner_PagesWithAContinuation_AndReadsEveryPageWithAll()
    {
        for (var i = 0; i < 5; i++)
        {
            await HoldAsync((i % 2 == 0 ? cluster.OwnerA : cluster.OwnerB).TryAcquireAsync(_prefix, $"k{i}"));
        }

        var ownerB = Rows(await RunAsync("list", "--name-prefix", _prefix, "--owner", "cli-b", "--json"));
        Assert.Equal(["k1", "k3"], ownerB.Select(r => r.GetProperty("key").GetString()).Order());
        Assert.All(ownerB, r => Assert.Equal("cli-b", r.GetProperty("owner").GetString()));

        var first = await RunAsync("list", "--name-prefix", _prefix, "--page-size", "2", "--json");
        using var firstPage = JsonDocument.Parse(first.Output);
        Assert.Equal(2, firstPage.RootElement.GetProperty("locks").GetArrayLength());
        var continuation = firstPage.RootElement.GetProperty("continuation").GetString();
        Assert.False(string.IsNullOrEmpty(continuation));
        var second = Rows(await RunAsync("list", "--name-prefix", _prefix, "--page-size", "2", "--continuation", continuation!, "--json"));
        Assert.Equal(2, second.Count);

        var all = await RunAsync("list", "--name-prefix", _prefix, "--page-size", "2", "--all", "--json");
        using var allPages = JsonDocument.Parse(all.Output);
        Assert.Equal(JsonValueKind.Null, allPages.RootElement.GetProperty("continuation").ValueKind);
        var keys = allPages.RootElement.GetProperty("locks").EnumerateArray().Select(r => r.GetProperty("key").GetString()).ToList();
        Assert.Equal(["k0", "k1", "k2", "k3", "k4"], keys.Order());
        Assert.Equal(keys.Take(4), firstPage.RootElement.GetProperty("locks").EnumerateArray().Concat(second).Select(r => r.GetProperty("key").GetString()));

        var paged = await RunAsync("list", "--name-prefix", _prefix, "--page-size", "2");
        Assert.Contains($"--continuation {continuation}", paged.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_ShowsTheHolder_AndAFreeLockIsShownAsFreeWithExitCode0()
    {
        var handle = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "!abc:example.org"));

        var json = await RunAsync("inspect", _prefix, "!abc:example.org", "--json");

        Assert.Equal(0, json.ExitCode);
        using (var document = JsonDocument.Parse(json.Output))
        {
            var root = document.RootElement;
            Assert.Equal(["name", "key", "lock", "held", "holders", "waiters", "storedVersion", "noGrantsBefore"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal("plain", root.GetProperty("lock").GetString());
            Assert.True(root.GetProperty("held").GetBoolean());
            var holder = Assert.Single(root.GetProperty("holders").EnumerateArray());
            Assert.Equal(handle.FencingToken, holder.GetProperty("fencingToken").GetInt64());
            Assert.Equal("cli-a", holder.GetProperty("owner").GetString());
            Assert.False(string.IsNullOrEmpty(root.GetProperty("storedVersion").GetString()));
        }

        var table = await RunAsync("inspect", _prefix, "!abc:example.org");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("held (1 holder)", table.Output, StringComparison.Ordinal);
        Assert.Contains("cli-a", table.Output, StringComparison.Ordinal);

        var free = await RunAsync("inspect", _prefix, "nobody-holds-this", "--json");
        Assert.Equal(0, free.ExitCode);
        using var freeDocument = JsonDocument.Parse(free.Output);
        Assert.False(freeDocument.RootElement.GetProperty("held").GetBoolean());
        Assert.Empty(freeDocument.RootElement.GetProperty("holders").EnumerateArray());
        Assert.Contains("free", (await RunAsync("inspect", _prefix, "nobody-holds-this")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_WithKindSemaphore_ShowsEachPermitHolder()
    {
        var a = await HoldAsync(cluster.OwnerA.TryAcquireSemaphoreAsync(_prefix, "pool", 3));
        var b = await HoldAsync(cluster.OwnerB.TryAcquireSemaphoreAsync(_prefix, "pool", 3));

        var json = await RunAsync("inspect", _prefix, "pool", "--kind", "semaphore", "--json");

        Assert.Equal(0, json.ExitCode);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal("semaphore", document.RootElement.GetProperty("lock").GetString());
        Assert.Equal(
            [("cli-a", a.FencingToken), ("cli-b", b.FencingToken)],
            document.RootElement.GetProperty("holders").EnumerateArray().Select(h => (h.GetProperty("owner").GetString(), h.GetProperty("fencingToken").GetInt64())).OrderBy(h => h.Item2));
        var table = await RunAsync("inspect", _prefix, "pool", "--kind", "semaphore");
        Assert.Contains("(semaphore)", table.Output, StringComparison.Ordinal);
        Assert.Contains("held (2 holders)", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_WithAReason_FreesTheLock_AndTheOldHolderLearnsItLost()
    {
        var handle = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "stuck"));

        var result = await RunAsync("release", _prefix, "stuck", "--reason", "worker hung in a test", "--by", "the-tests", "--json");

        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Output);
        Assert.Equal("released", document.RootElement.GetProperty("outcome").GetString());
        var released = Assert.Single(document.RootElement.GetProperty("released").EnumerateArray());
        Assert.Equal(["name", "key", "kind", "owner", "fencingToken", "noGrantsBefore"], released.EnumerateObject().Select(p => p.Name));
        Assert.Equal(handle.FencingToken, released.GetProperty("fencingToken").GetInt64());
        Assert.Equal("cli-a", released.GetProperty("owner").GetString());
        Assert.True(await LostAsync(handle), "the old holder's HandleLostToken fired");
        Assert.Empty(Rows(await RunAsync("list", "--name-prefix", _prefix, "--json")));
        await Eventually.TrueAsync(
            async () => await HoldIfFreeAsync(cluster.OwnerB.TryAcquireAsync(_prefix, "stuck")),
            "another owner is granted the lock once the lock-delay is over",
            LostBound);
    }

    [Fact]
    public async Task Release_WithAStaleFencingToken_FreesNothing_AndExitsWith2()
    {
        var handle = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "moved-on"));
        var stale = (handle.FencingToken - 1).ToString(CultureInfo.InvariantCulture);

        var result = await RunAsync("release", _prefix, "moved-on", "--fencing-token", stale, "--reason", "stale look");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"no longer by fencing token {stale}", result.Output, StringComparison.Ordinal);
        Assert.True(await handle.IsStillValidAsync());
        Assert.False(handle.HandleLostToken.IsCancellationRequested);

        var json = await RunAsync("release", _prefix, "moved-on", "--fencing-token", stale, "--reason", "stale look", "--json");
        Assert.Equal(2, json.ExitCode);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal("fencingTokenMoved", document.RootElement.GetProperty("outcome").GetString());

        var notHeld = await RunAsync("release", _prefix, "never-held", "--reason", "nothing there");
        Assert.Equal(2, notHeld.ExitCode);
        Assert.Contains("is not held", notHeld.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_WithoutAReason_OrWithABadOne_IsExitCode1NamingTheRule_AndFreesNothing()
    {
        var handle = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "keep"));

        var missing = await RunAsync("release", _prefix, "keep");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("a reason is required", missing.Error, StringComparison.Ordinal);
        Assert.Equal("", missing.Output);

        // Checked by the admin grain in the silo: its rule comes back over the wire.
        var tooLong = await RunAsync("release", _prefix, "keep", "--reason", new string('x', 501));
        Assert.Equal(1, tooLong.ExitCode);
        Assert.Contains("1 to 500 characters", tooLong.Error, StringComparison.Ordinal);

        var badName = await RunAsync("release", "bad:name", "keep", "--reason", "x");
        Assert.Equal(1, badName.ExitCode);
        Assert.Contains(LockId.NameRule, badName.Error, StringComparison.Ordinal);

        var badKind = await RunAsync("release", _prefix, "keep", "--reason", "x", "--kind", "exclusive");
        Assert.Equal(1, badKind.ExitCode);
        Assert.Contains("a kind is plain, read or write", badKind.Error, StringComparison.Ordinal);

        Assert.True(await handle.IsStillValidAsync());
    }

    [Fact]
    public async Task ReleaseOwner_FreesExactlyThatOwnersLocks_AndThenHasNothingToDo()
    {
        var mine = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "a"));
        var theirs1 = await HoldAsync(cluster.OwnerB.TryAcquireAsync(_prefix, "b1"));
        var theirs2 = await HoldAsync(cluster.OwnerB.TryAcquireReadAsync(_prefix + "-rw", "b2"));
        var ownerC = "cli-c-" + _prefix;

        var result = await RunAsync("release-owner", "cli-b", "--reason", "worker b died", "--json");

        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Output);
        var released = document.RootElement.GetProperty("released").EnumerateArray().ToList();
        Assert.All(released, r => Assert.Equal("cli-b", r.GetProperty("owner").GetString()));
        Assert.Contains(released, r => r.GetProperty("fencingToken").GetInt64() == theirs1.FencingToken && r.GetProperty("key").GetString() == "b1");
        Assert.Contains(released, r => r.GetProperty("fencingToken").GetInt64() == theirs2.FencingToken && r.GetProperty("kind").GetString() == "read");
        Assert.True(await LostAsync(theirs1), "b1's holder learned it lost");
        Assert.True(await LostAsync(theirs2), "b2's holder learned it lost");
        Assert.True(await mine.IsStillValidAsync());
        Assert.False(mine.HandleLostToken.IsCancellationRequested);

        var nothing = await RunAsync("release-owner", ownerC, "--reason", "holds nothing");
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("holds no locks", nothing.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_WithTimes2AndJson_PrintsTwoDocuments_OnePerLine()
    {
        var handle = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "watched"));

        var result = await RunAsync("watch", "--name-prefix", _prefix, "--interval", "0.2", "--times", "2", "--json");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(["at", "locks", "continuation"], document.RootElement.EnumerateObject().Select(p => p.Name));
            var row = Assert.Single(document.RootElement.GetProperty("locks").EnumerateArray());
            Assert.Equal(handle.FencingToken, row.GetProperty("fencingToken").GetInt64());
        }

        var table = await RunAsync("watch", "--name-prefix", _prefix, "--interval", "0.2", "--times", "2");
        Assert.Equal(0, table.ExitCode);
        Assert.Equal(2, table.Output.Split('\n').Count(l => l.Contains("1 held", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Watch_WithoutTimes_RefreshesUntilCtrlC_AndThenExitsWith0()
    {
        await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "watched-until-stopped"));
        var watch = CliProcess.Start(["watch", "--name-prefix", _prefix, "--interval", "0.2", "--json", .. cluster.Connect]);

        await watch.FirstLineAsync();
        await watch.InterruptAsync();
        var result = await watch.WaitAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        var documents = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(documents);
        Assert.All(documents, line =>
        {
            using var document = JsonDocument.Parse(line);
            Assert.Single(document.RootElement.GetProperty("locks").EnumerateArray());
        });
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task AnUnreachableGateway_ExitsWith3_SayingWhereItTried()
    {
        var nobody = "127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture);

        var result = await CliProcess.RunAsync(["list", "--gateway", nobody, "--connect-timeout", "2"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"Could not reach the OrleansLocks cluster 'orleanslocks' through gateway {nobody}", result.Error, StringComparison.Ordinal);
        Assert.Contains("--connect-timeout", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task AConnectionString_FindsTheClusterThroughPostgres_FromTheOptionOrTheEnvironment()
    {
        var handle = await HoldAsync(cluster.OwnerA.TryAcquireAsync(_prefix, "by-database"));

        var byOption = await RunAsync(["list", "--name-prefix", _prefix, "--json", "--connection-string", cluster.Database, "--cluster-id", cluster.ClusterId], connect: false);
        var byEnvironment = await RunAsync(
            ["inspect", _prefix, "by-database", "--json", "--cluster-id", cluster.ClusterId],
            connect: false,
            new Dictionary<string, string> { ["ORLEANSLOCKS_CONNECTION_STRING"] = cluster.Database });

        Assert.Equal(0, byOption.ExitCode);
        Assert.Equal(handle.FencingToken, Assert.Single(Rows(byOption)).GetProperty("fencingToken").GetInt64());
        Assert.Equal(0, byEnvironment.ExitCode);
        using var document = JsonDocument.Parse(byEnvironment.Output);
        Assert.True(document.RootElement.GetProperty("held").GetBoolean());
    }

    [Fact]
    public async Task AnUnreachableDatabase_ExitsWith3_NamingHostAndDatabase_ButNeverThePassword()
    {
        var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var result = await CliProcess.RunAsync(
            ["list", "--connect-timeout", "5"],
            new Dictionary<string, string> { ["ORLEANSLOCKS_CONNECTION_STRING"] = $"Host=127.0.0.1;Port={port};Database=locksdb;Username=ops;Password=s3cret-pw;Timeout=2" });

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"PostgreSQL database 'locksdb' at 127.0.0.1:{port}", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", result.All, StringComparison.Ordinal);

        var both = await CliProcess.RunAsync(["list", "--gateway", "127.0.0.1:1", "--connection-string", "Host=x;Password=s3cret-pw"]);
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("not both", both.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", both.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_DocumentsTheExitCodes_AndBadUsageIsExitCode1OnStandardError()
    {
        var help = await CliProcess.RunAsync(["--help"]);
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "list", "inspect", "release", "release-owner", "watch" })
        {
            Assert.Contains(command, help.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Exit codes:", help.Output, StringComparison.Ordinal);
        Assert.Contains("3    cluster unreachable", help.Output, StringComparison.Ordinal);

        var badPage = await CliProcess.RunAsync(["list", "--page-size", "0"]);
        Assert.Equal(1, badPage.ExitCode);
        Assert.Contains("a page size must be from 1 to 1000 rows", badPage.Error, StringComparison.Ordinal);
        Assert.Equal("", badPage.Output);

        var badGateway = await CliProcess.RunAsync(["list", "--gateway", "no-port"]);
        Assert.Equal(1, badGateway.ExitCode);
        Assert.Contains("a gateway is host:port", badGateway.Error, StringComparison.Ordinal);
    }

    private static List<JsonElement> Rows(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Output);
        return [.. document.RootElement.GetProperty("locks").EnumerateArray().Select(e => e.Clone())];
    }

    private static async Task<bool> LostAsync(LockHandle handle)
    {
        var lost = new TaskCompletionSource();
        await using var registration = handle.HandleLostToken.Register(() => lost.TrySetResult());
        return await Task.WhenAny(lost.Task, Task.Delay(LostBound)) == lost.Task;
    }

    private Task<CliResult> RunAsync(params string[] arguments) => RunAsync(arguments, connect: true);

    /// <summary>Runs the tool against the cluster, and checks that nothing it printed shows a held lock's token.</summary>
    private async Task<CliResult> RunAsync(string[] arguments, bool connect, IReadOnlyDictionary<string, string>? environment = null)
    {
        var result = await CliProcess.RunAsync(connect ? [.. arguments, .. cluster.Connect] : arguments, environment);
        foreach (var handle in _handles)
        {
            Assert.DoesNotContain(CliClusterFixture.TokenOf(handle), result.All, StringComparison.Ordinal);
        }

        return result;
    }

    private async Task<LockHandle> HoldAsync(ValueTask<LockHandle?> acquire)
    {
        var handle = await acquire ?? throw new InvalidOperationException("The test's lock was not granted.");
        _handles.Add(handle);
        return handle;
    }

    private async Task<bool> HoldIfFreeAsync(ValueTask<LockHandle?> acquire)
    {
        if (await acquire is not { } handle)
        {
            return false;
        }

        _handles.Add(handle);
        return true;
    }
}
