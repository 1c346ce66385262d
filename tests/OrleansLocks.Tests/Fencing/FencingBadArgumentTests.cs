using Microsoft.Extensions.Time.Testing;
using Npgsql;
using OrleansLocks.Client;
using OrleansLocks.Fencing.Postgres;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.Fencing;

/// <summary>
/// The fence's bad input is refused by the call itself, before any task exists or any statement
/// reaches the database, naming the parameter and the rule; nothing is fenced.
/// </summary>
public sealed class FencingBadArgumentTests : IAsyncLifetime
{
    private static readonly LockId Room = LockId.Create("purge_room", "!room:example.org");

    private readonly InMemoryLockProvider _locks = new(new FakeTimeProvider());
    private FenceDatabase? _database;

    private FenceDatabase Database => _database!;

    public async Task InitializeAsync() => _database = await FenceDatabase.CreateAsync("fence_input");

    public async Task DisposeAsync() => await Database.DisposeAsync();

    [Fact]
    public void Fence_WithoutAConnectionOrATransaction_IsRefusedAtTheCall()
    {
        var noConnection = Assert.Throws<ArgumentNullException>(() => _ = LockFences.FenceTokenAsync(null!, null!, Room, LockKind.Plain, 1));
        Assert.Equal("connection", noConnection.ParamName);

        using var unopened = new NpgsqlConnection();
        var noTransaction = Assert.Throws<ArgumentNullException>(() => _ = LockFences.FenceTokenAsync(unopened, null!, Room, LockKind.Plain, 1));
        Assert.Equal("transaction", noTransaction.ParamName);

        Assert.Equal("dataSource", Assert.Throws<ArgumentNullException>(() => { _ = LockFences.InstallAsync(null!); }).ParamName);
        Assert.Equal("handle", Assert.Throws<ArgumentNullException>(() => _ = LockHandleFencing.FenceAsync(null!, unopened, null!)).ParamName);
        Assert.Equal("handle", Assert.Throws<ArgumentNullException>(() => _ = MultiLockHandleFencing.FenceAsync(null!, unopened, null!)).ParamName);
    }

    public static TheoryData<string, string, string> BadFences => new()
    {
        { "default lock id", "lockId", "LockId.Create" },
        { "read hold", "kind", "plain or write" },
        { "undefined kind", "kind", "plain or write" },
        { "zero token", "fencingToken", "positive" },
        { "lowest token", "fencingToken", "positive" },
        { "transaction of another connection", "transaction", "belong to the given connection" },
    };

    [Theory]
    [MemberData(nameof(BadFences))]
    public async Task Fence_WithABadArgument_IsRefusedAtTheCall_NamingTheParameterAndTheRule_AndFencesNothing(string what, string parameter, string ruleWord)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var other = await Database.DataSource.OpenConnectionAsync();
        await using var otherTransaction = await other.BeginTransactionAsync();
        var (lockId, kind, token, tx) = what switch
        {
            "default lock id" => (default(LockId), LockKind.Plain, 1L, transaction),
            "read hold" => (Room, LockKind.Read, 1L, transaction),
            "undefined kind" => (Room, (LockKind)42, 1L, transaction),
            "zero token" => (Room, LockKind.Plain, 0L, transaction),
            "lowest token" => (Room, LockKind.Plain, long.MinValue, transaction),
            _ => (Room, LockKind.Plain, 1L, otherTransaction),
        };

        var refused = Assert.ThrowsAny<ArgumentException>(() => _ = LockFences.FenceTokenAsync(connection, tx, lockId, kind, token));

        Assert.Equal(parameter, refused.ParamName);
        Assert.Contains(ruleWord, refused.Message, StringComparison.Ordinal);
        await transaction.CommitAsync();
        Assert.Null(await Database.NewestTokenAsync(Room));
    }

    [Fact]
    public async Task FenceAsync_OfAMultiLockWithAReadPart_IsRefusedAtTheCall_BeforeAnyPartIsFenced()
    {
        await using var both = await _locks.TryAcquireAllAsync([LockRequest.Plain(Room.Name, Room.Key), LockRequest.Read("report", "daily")]);
        Assert.NotNull(both);
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var refused = Assert.Throws<ArgumentException>(() => _ = both.FenceAsync(connection, transaction));

        Assert.Equal("kind", refused.ParamName);
        await transaction.CommitAsync();
        Assert.Null(await Database.NewestTokenAsync(Room));
    }
}
