using System.Globalization;
using System.Net;
using System.Text;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Admin;

/// <summary>One Silo process with the admin HTTP API on, shared by the tests of one class (each uses its own lock names).</summary>
public sealed class AdminSiloFixture : IAsyncLifetime
{
    public AdminSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await AdminSilo.StartAsync("adminhttp");

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// The admin HTTP API as operators and scripts call it: a real Silo process on PostgreSQL, real HTTP,
/// and real clients holding locks through <see cref="OrleansLocks.Client.ILockProvider"/>.
/// </summary>
public sealed class AdminHttpTests(AdminSiloFixture fixture) : IClassFixture<AdminSiloFixture>
{
    private AdminSilo Silo => fixture.Silo;

    private static string NewName() => "http_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task WithoutTheKey_OrWithAWrongOne_EveryAdminCallIs401_AndAForcedReleaseLeavesTheLockHeld()
    {
        var locks = await Silo.ClientAsync("keyless-victim");
        var name = NewName();
        await using var handle = (await locks.TryAcquireAsync(name, "!room:example.org"))!;
        var wrongSameLength = new string('x', AdminSilo.Key.Length);
        var release = new { name, key = "!room:example.org", reason = "no key, no release" };

        var refused = new List<(HttpStatusCode Status, string Text)>();
        foreach (var key in new[] { null, wrongSameLength, AdminSilo.Key[..^1], AdminSilo.Key + "x", string.Empty })
        {
            refused.Add(Pick(await Silo.SendAsync(AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", key, release))));
            refused.Add(Pick(await Silo.SendAsync(AdminSilo.Request(HttpMethod.Post, "/admin/locks/release-owner", key, new { owner = "keyless-victim", reason = "no key" }))));
            refused.Add(Pick(await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, $"/admin/locks?namePrefix={name}", key))));
            refused.Add(Pick(await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, $"/admin/locks/inspect?name={name}&key=x", key))));
        }

        using (var bearerWrong = AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", key: null, release))
        {
            bearerWrong.Headers.Authorization = new("Bearer", wrongSameLength);
            refused.Add(Pick(await Silo.SendAsync(bearerWrong)));
        }

        Assert.All(refused, r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
        Assert.All(refused, r => Assert.Contains("X-OrleansLocks-Admin-Key", r.Text, StringComparison.Ordinal));
        Assert.All(refused, r => Assert.DoesNotContain(wrongSameLength, r.Text, StringComparison.Ordinal));

        // Nothing happened: the holder still holds, and the listing (with the key, as a Bearer token) says so.
        Assert.True(await handle.IsStillValidAsync());
        Assert.False(handle.HandleLostToken.IsCancellationRequested);
        using var bearer = AdminSilo.Request(HttpMethod.Get, $"/admin/locks?namePrefix={name}", key: null);
        bearer.Headers.Authorization = new("Bearer", AdminSilo.Key);
        var (status, listed, _) = await Silo.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.OK, status);
        var row = Assert.Single(listed.GetProperty("locks").EnumerateArray());
        Assert.Equal(handle.FencingToken, row.GetProperty("fencingToken").GetInt64());
        Assert.Contains("refused (401): the admin key was missing or wrong", Silo.Silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithTheKey_ListFiltersByPrefixAndOwnerAndPages_AndInspectShowsHoldersAndWaiters_NeverAToken()
    {
        var alice = await Silo.ClientAsync("alice-worker");
        var bob = await Silo.ClientAsync("bob-worker");
        var name = NewName();
        var held = new List<OrleansLocks.Client.LockHandle>();
        for (var i = 0; i < 3; i++)
        {
            held.Add((await alice.TryAcquireAsync(name, $"a{i}"))!);
        }

        held.Add((await bob.TryAcquireAsync(name, "<b>bob</b> & \"quotes\""))!);
        held.Add((await alice.TryAcquireAsync(name + "x", "elsewhere"))!);
        var waiting = bob.AcquireAsync(name, "a0").AsTask();

        var rows = new List<(string Name, string Key, string Owner, long FencingToken)>();
        string? continuation = null;
        var pages = 0;
        do
        {
            var path = $"/admin/locks?namePrefix={name}&pageSize=2" + (continuation is null ? "" : "&continuation=" + Uri.EscapeDataString(continuation));
            var (status, page, _) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, path));
            Assert.Equal(HttpStatusCode.OK, status);
            rows.AddRange(page.GetProperty("locks").EnumerateArray().Select(r => (
                r.GetProperty("name").GetString()!, r.GetProperty("key").GetString()!, r.GetProperty("owner").GetString()!, r.GetProperty("fencingToken").GetInt64())));
            continuation = page.GetProperty("continuation").GetString();
            pages++;
        }
        while (continuation is not null);

        Assert.Equal(3, pages);
        Assert.Equal(
            held.Select(h => (h.Id.Name, h.Id.Key, h.Owner, h.FencingToken)).OrderBy(r => r.FencingToken),
            rows.OrderBy(r => r.FencingToken));

        var (_, bobs, _) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, $"/admin/locks?namePrefix={name}&owner=bob-worker"));
        var bobsRow = Assert.Single(bobs.GetProperty("locks").EnumerateArray());
        Assert.Equal("<b>bob</b> & \"quotes\"", bobsRow.GetProperty("key").GetString());
        Assert.Equal("Plain", bobsRow.GetProperty("kind").GetString());

        await Eventually.TrueAsync(
            async () => (await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, $"/admin/locks/inspect?name={name}&key=a0"))).Body.GetProperty("waiters").GetArrayLength() == 1,
            "bob waits in line for a0",
            TimeSpan.FromSeconds(30));
        var (inspectStatus, details, detailsText) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, $"/admin/locks/inspect?name={name}&key=a0&kind=plain"));
        Assert.Equal(HttpStatusCode.OK, inspectStatus);
        var holder = Assert.Single(details.GetProperty("holders").EnumerateArray());
        Assert.Equal(("alice-worker", held[0].FencingToken), (holder.GetProperty("owner").GetString(), holder.GetProperty("fencingToken").GetInt64()));
        var waiter = Assert.Single(details.GetProperty("waiters").EnumerateArray());
        Assert.Equal(("bob-worker", "Plain"), (waiter.GetProperty("owner").GetString(), waiter.GetProperty("kind").GetString()));
        Assert.False(details.GetProperty("isReadWrite").GetBoolean());

        var (_, withWaiting, listText) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, $"/admin/locks?namePrefix={name}&owner=alice-worker&includeWaiting=true&pageSize=10"));
        Assert.Contains(withWaiting.GetProperty("locks").EnumerateArray(), r => r.GetProperty("key").GetString() == "a0" && r.GetProperty("waiting").GetInt32() == 1);

        // The token is the holder's secret: no answer carries it.
        var secret = await Silo.StoredTokenAsync(held[0].Id);
        Assert.DoesNotContain(secret, detailsText, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listText, StringComparison.Ordinal);
        Assert.DoesNotContain("token\"", listText.Replace("fencingToken\"", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);

        await held[0].ReleaseAsync();
        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        foreach (var handle in held)
        {
            await handle.DisposeAsync();
        }
    }

    [Fact]
    public async Task WithTheKey_AForcedReleaseFiresTheOldHoldersHandleLostToken_ServesTheWaiterAfter_AndTheLogNamesWhoAskedAndWhy()
    {
        var worker = await Silo.ClientAsync("hung-worker");
        var other = await Silo.ClientAsync("next-worker");
        var name = NewName();
        var old = (await worker.TryAcquireAsync(name, "!stuck:example.org"))!;
        var waiting = other.AcquireAsync(name, "!stuck:example.org").AsTask();

        var (status, result, text) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new
        {
            name,
            key = "!stuck:example.org",
            kind = "Plain",
            fencingToken = old.FencingToken,
            reason = "worker hung in purge",
            @operator = "alice",
        }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Released", result.GetProperty("outcome").GetString());
        var freed = Assert.Single(result.GetProperty("released").EnumerateArray());
        Assert.Equal(("hung-worker", old.FencingToken), (freed.GetProperty("owner").GetString(), freed.GetProperty("fencingToken").GetInt64()));
        Assert.True(freed.GetProperty("noGrantsBefore").GetDateTimeOffset() > old.AcquiredAt);
        Assert.DoesNotContain("\"token\"", text, StringComparison.OrdinalIgnoreCase);

        await Eventually.TrueAsync(() => old.HandleLostToken.IsCancellationRequested, "the old holder's HandleLostToken fired", TimeSpan.FromSeconds(30));
        Assert.False(await old.IsStillValidAsync());
        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(next.FencingToken > old.FencingToken);
        Assert.Contains("http:127.0.0.1 (alice)", Silo.Silo.Output, StringComparison.Ordinal);
        Assert.Contains("worker hung in purge", Silo.Silo.Output, StringComparison.Ordinal);
        await old.DisposeAsync();
    }

    [Fact]
    public async Task WithTheKey_ReleaseOwnerFreesExactlyThatOwnersLocks()
    {
        var dead = await Silo.ClientAsync("dead-worker-" + Guid.NewGuid().ToString("N")[..6]);
        var alive = await Silo.ClientAsync("alive-worker");
        var name = NewName();
        var deadOnes = new[] { (await dead.TryAcquireAsync(name, "1"))!, (await dead.TryAcquireAsync(name, "2"))! };
        await using var aliveOne = (await alive.TryAcquireAsync(name, "3"))!;

        var (status, result, _) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Post, "/admin/locks/release-owner", body: new
        {
            owner = deadOnes[0].Owner,
            reason = "host lost",
        }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Released", result.GetProperty("outcome").GetString());
        Assert.Equal(
            deadOnes.Select(h => h.FencingToken).Order(),
            result.GetProperty("released").EnumerateArray().Select(r => r.GetProperty("fencingToken").GetInt64()).Order());
        foreach (var handle in deadOnes)
        {
            await Eventually.TrueAsync(() => handle.HandleLostToken.IsCancellationRequested, $"{handle.Id} learned it lost", TimeSpan.FromSeconds(30));
            await handle.DisposeAsync();
        }

        Assert.True(await aliveOne.IsStillValidAsync());
        Assert.False(aliveOne.HandleLostToken.IsCancellationRequested);
        Assert.Contains($"http:127.0.0.1 force-released every lock of owner {deadOnes[0].Owner} because: host lost. Freed 2 holds", Silo.Silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInput_Is400NamingTheRule_AStaleFencingTokenFreesNothing_AndTheLockStaysHeld()
    {
        var locks = await Silo.ClientAsync("careful-worker");
        var name = NewName();
        await using var handle = (await locks.TryAcquireAsync(name, "k"))!;

        var refusals = new (HttpRequestMessage Request, string Rule)[]
        {
            (AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new { name, key = "k" }), "a reason is required"),
            (AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new { name, key = "k", reason = "   " }), "a reason is required"),
            (AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new { name, key = "k", reason = "typo", fencingTokn = 1 }), "'fencingTokn' could not be mapped"),
            (AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new { name, key = "k", reason = "bad kind", kind = "Exclusive" }), "The body is not valid"),
            (AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new { name, reason = "no key" }), "key is required"),
            (AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new { name = "bad:name", key = "k", reason = "bad name" }), "Invalid lock name"),
            (AdminSilo.Request(HttpMethod.Post, "/admin/locks/release-owner", body: new { reason = "whose?" }), "owner is required"),
            (AdminSilo.Request(HttpMethod.Get, $"/admin/locks?namePrefix={name}&pageSize=0"), "a page size must be from 1 to 1000 rows"),
            (AdminSilo.Request(HttpMethod.Get, $"/admin/locks?namePrefix={name}&pageSize=lots"), "a page size must be a whole number"),
            (AdminSilo.Request(HttpMethod.Get, "/admin/locks?namePrefix=has%20space"), "a name prefix must be at most 128 characters from [A-Za-z0-9_.-]"),
            (AdminSilo.Request(HttpMethod.Get, $"/admin/locks?continuation=not-one-of-ours"), "Invalid continuation: pass back the Continuation of the page List returned"),
            (AdminSilo.Request(HttpMethod.Get, $"/admin/locks/inspect?name={name}"), "key is required once (it may be empty: key=)"),
            (AdminSilo.Request(HttpMethod.Get, $"/admin/locks/inspect?name={name}&key=k&kind=7"), "a kind must be Plain, Read or Write"),
        };
        using (var notJson = AdminSilo.Request(HttpMethod.Post, "/admin/locks/release"))
        {
            notJson.Content = new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded");
            var (status, body, _) = await Silo.SendAsync(notJson);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("The body must be JSON", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        foreach (var (request, rule) in refusals)
        {
            var what = $"{request.Method} {request.RequestUri}";
            var (status, body, text) = await Silo.SendAsync(request);
            Assert.True(status == HttpStatusCode.BadRequest, $"{what} answered {status}: {text}");
            Assert.Contains(rule, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var (staleStatus, stale, _) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new
        {
            name,
            key = "k",
            kind = "plain",
            fencingToken = handle.FencingToken - 1,
            reason = "from an old page",
        }));
        Assert.Equal(HttpStatusCode.OK, staleStatus);
        Assert.Equal("FencingTokenMoved", stale.GetProperty("outcome").GetString());
        Assert.Empty(stale.GetProperty("released").EnumerateArray());

        Assert.True(await handle.IsStillValidAsync());
        Assert.False(handle.HandleLostToken.IsCancellationRequested);
        var (_, details, _) = await Silo.SendAsync(AdminSilo.Request(HttpMethod.Get, $"/admin/locks/inspect?name={name}&key=k"));
        Assert.Equal(handle.FencingToken, Assert.Single(details.GetProperty("holders").EnumerateArray()).GetProperty("fencingToken").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, details.GetProperty("noGrantsBefore").ValueKind);
    }

    private static (HttpStatusCode, string) Pick((HttpStatusCode Status, System.Text.Json.JsonElement Body, string Text) answer) => (answer.Status, answer.Text);
}

/// <summary>The switch: without a key the admin API and the page do not exist; a short key stops the silo at start.</summary>
public sealed class AdminHttpSwitchTests
{
    [Fact]
    public async Task WhenNoKeyIsConfigured_TheAdminEndpointsAndThePageAreAbsent_EvenForACallerWithAKey()
    {
        await using var silo = await AdminSilo.StartAsync("adminoff", adminKey: null);
        var locks = await silo.ClientAsync("unbothered");
        await using var handle = (await locks.TryAcquireAsync("http_off", "k"))!;

        var answers = new[]
        {
            await silo.SendAsync(AdminSilo.Request(HttpMethod.Get, "/admin/locks")),
            await silo.SendAsync(AdminSilo.Request(HttpMethod.Get, "/admin/locks/inspect?name=http_off&key=k")),
            await silo.SendAsync(AdminSilo.Request(HttpMethod.Post, "/admin/locks/release", body: new { name = "http_off", key = "k", reason = "r" })),
            await silo.SendAsync(AdminSilo.Request(HttpMethod.Post, "/admin/locks/release-owner", body: new { owner = "unbothered", reason = "r" })),
            await silo.SendAsync(AdminSilo.Request(HttpMethod.Get, "/locks", key: null)),
            await silo.SendAsync(AdminSilo.Request(HttpMethod.Get, "/locks/page.js", key: null)),
        };

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NotFound, a.Status));
        Assert.True(await handle.IsStillValidAsync());
        Assert.Contains("The admin HTTP API and the operator page are off", silo.Silo.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("short-key-0123456789")]
    [InlineData("                                        ")]
    public async Task AKeyBreakingItsRule_StopsTheSiloAtStartNamingTheRule_WithoutEchoingTheKey(string key)
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["OrleansLocks__Admin__ApiKey"] = key,
        }));

        Assert.Contains("exited with 1 ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("OrleansLocks cannot start: OrleansLocks:Admin:ApiKey must be at least 32 characters", ex.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", ex.Message, StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(key))
        {
            Assert.DoesNotContain(key, ex.Message, StringComparison.Ordinal);
        }
    }
}
