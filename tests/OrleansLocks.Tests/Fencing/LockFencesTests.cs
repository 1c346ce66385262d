using Npgsql;
using OrleansLocks.Fencing.Postgres;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Fencing;

/// <summary>The fence itself (sql/lock-fences.sql through LockFences), against a real PostgreSQL database.</summary>
public sealed class LockFencesTests : IAsyncLifetime
{
    private static readonly LockId Room = LockId.Create("purge_room", "!room:example.org");

    private FenceDatabase? _database;

    private FenceDatabase Database => _database!;

    public async Task InitializeAsync() => _database = await FenceDatabase.CreateAsync("fences");

    public async Task DisposeAsync() => await Database.DisposeAsync();

    [Fact]
    public async Task Fence_TheSameTokenTwice_IsAllowed_AsTheSameHolderWritingAgain()
    {
        await Database.WriteAsync("r", "first", Room, 5);
        await Database.WriteAsync("r", "second", Room, 5);

        Assert.Equal("second", await Database.ValueAsync("r"));
        Assert.Equal(5, await Database.NewestTokenAsync(Room));
    }

    [Fact]
    public async Task Fence_ALowerTokenAfterAHigherOne_IsRefused_AndNothingOfItsTransactionCommits()
    {
        await Database.WriteAsync("r", "newer", Room, 8);

        var refused = await Assert.ThrowsAsync<StaleFencingTokenException>(() => Database.WriteAsync("r", "older", Room, 7));

        Assert.Equal(Room, refused.LockId);
        Assert.Equal(LockKind.Plain, refused.Kind);
        Assert.Equal(7, refused.FencingToken);
        Assert.Equal(8, refused.NewestFencingToken);
        Assert.Contains(Room.ToString(), refused.Message, StringComparison.Ordinal);
        Assert.Equal(LockFences.StaleTokenSqlState, Assert.IsType<PostgresException>(refused.InnerException).SqlState);
        Assert.Equal("newer", await Database.ValueAsync("r"));
        Assert.Equal(["newer"], await Database.LoggedAsync("r"));
        Assert.Equal(8, await Database.NewestTokenAsync(Room));
    }

    [Fact]
    public async Task Fence_AHigherToken_BecomesTheNewest()
    {
        await Database.WriteAsync("r", "a", Room, 3);
        await Database.WriteAsync("r", "b", Room, 4);

        Assert.Equal("b", await Database.ValueAsync("r"));
        Assert.Equal(4, await Database.NewestTokenAsync(Room));
    }

    [Fact]
    public async Task Fence_TwoLocks_AreIndependent_AndSoAreAPlainAndAWriteLockOfTheSameNameAndKey()
    {
        var other = LockId.Create("purge_room", "!other:example.org");
        await Database.WriteAsync("r", "room", Room, 100);

        await Database.WriteAsync("o", "other", other, 2);
        await Database.WriteAsync("w", "write side", Room, 1, LockKind.Write);

        Assert.Equal("other", await Database.ValueAsync("o"));
        Assert.Equal("write side", await Database.ValueAsync("w"));
        Assert.Equal(100, await Database.NewestTokenAsync(Room));
        Assert.Equal(2, await Database.NewestTokenAsync(other));
        Assert.Equal(1, await Database.NewestTokenAsync(Room, "write"));
    }

    [Fact]
    public async Task Install_AppliedAgainAndConcurrently_IsHarmless_AndKeepsTheNewestTokens()
    {
        await Database.WriteAsync("r", "newer", Room, 9);

        await LockFences.InstallAsync(Database.DataSource);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => LockFences.InstallAsync(Database.DataSource)));

        Assert.Equal(9, await Database.NewestTokenAsync(Room));
        await Assert.ThrowsAsync<StaleFencingTokenException>(() => Database.WriteAsync("r", "older", Room, 8));
        Assert.Equal("newer", await Database.ValueAsync("r"));
    }

    [Fact]
    public async Task Fence_WithAReadHoldOrANonPositiveToken_IsRefusedByTheCallNamingTheRule()
    {
        var read = await Assert.ThrowsAsync<ArgumentException>(() => Database.WriteAsync("r", "reader", Room, 4, LockKind.Read));
        Assert.Equal("kind", read.ParamName);
        Assert.Contains("plain or write", read.Message, StringComparison.Ordinal);

        var zero = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Database.WriteAsync("r", "zero", Room, 0));
        Assert.Equal("fencingToken", zero.ParamName);
        Assert.Contains("positive", zero.Message, StringComparison.Ordinal);

        Assert.Null(await Database.ValueAsync("r"));
        Assert.Null(await Database.NewestTokenAsync(Room));
    }

    [Fact]
    public async Task Fence_InADatabaseWithoutTheSchema_SaysHowToInstallIt()
    {
        await using var bare = await FenceDatabase.CreateAsync("fences_bare", install: false);

        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => bare.WriteAsync("r", "x", Room, 1));

        Assert.Contains("LockFences.InstallAsync", missing.Message, StringComparison.Ordinal);
        Assert.Null(await bare.ValueAsync("r"));
    }

    [Fact]
    public async Task Fence_ANewerHolder_WaitsForAnOlderHoldersOpenTransaction_ThenWins()
    {
        await using var olderConnection = await Database.DataSource.OpenConnectionAsync();
        await using var olderTransaction = await olderConnection.BeginTransactionAsync();
        await LockFences.FenceTokenAsync(olderConnection, olderTransaction, Room, LockKind.Plain, 1);

        var newer = Database.WriteAsync("r", "newer", Room, 2);
        await Eventually.TrueAsync(() => WaitsOnALockAsync(Database.DataSource), "the newer holder's fence waited on the fence row");
        Assert.False(newer.IsCompleted);

        await olderTransaction.CommitAsync();
        await newer;

        Assert.Equal("newer", await Database.ValueAsync("r"));
        Assert.Equal(2, await Database.NewestTokenAsync(Room));
        await Assert.ThrowsAsync<StaleFencingTokenException>(() => Database.WriteAsync("r", "older", Room, 1));
    }

    private static async Task<bool> WaitsOnALockAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
