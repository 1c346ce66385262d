using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Hosting;
using OrleansLocks.Grains.Storage;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Grains.Storage;

public sealed class PostgresSchemaTests
{
    private static readonly string[] ProviderQueryKeys =
    [
        // clustering
        "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey",
        "CleanupDefunctSiloEntriesKey",
        // persistence
        "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey",
        // reminders
        "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key",
        "ReadRangeRows2Key", "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    [Fact]
    public async Task Schema_AppliedTwiceAndConcurrently_IsHarmless_AndHasEveryProviderQuery()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("schema", applySchema: false);

        await PostgresSchema.ApplyAsync(database);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostgresSchema.ApplyAsync(database)));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT QueryKey FROM OrleansQuery", connection);
        var keys = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }

        Assert.Empty(ProviderQueryKeys.Except(keys));
        await using var views = new NpgsqlCommand("SELECT count(*) FROM worker_locks, orleans_locks", connection);
        Assert.Equal(0L, await views.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Schema_StampsTheVersionTheSiloExpects_AndAnEmptyDatabaseHasNoStamp()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("stamp", applySchema: false);
        Assert.Null(await PostgresSchema.ReadVersionAsync(database));

        await PostgresSchema.ApplyAsync(database);

        Assert.Equal(PostgresSchema.ExpectedVersion, await PostgresSchema.ReadVersionAsync(database));
    }

    [Fact]
    public async Task Silo_WithTheExpectedStamp_StartsWithoutApplyingTheSchema()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("stamp_ok");

        using var silo = BuildSilo(database, applySchema: false);
        await silo.StartAsync();
        await silo.StopAsync();
    }

    [Fact]
    public async Task Silo_WithAnOlderStamp_AndApplySchemaOff_RefusesToStart_NamingBothVersionsAndTheFix()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("stamp_old");
        var older = PostgresSchema.ExpectedVersion - 1;
        await SetStampAsync(database, older);

        using var silo = BuildSilo(database, applySchema: false);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => silo.StartAsync());

        var message = FindMismatchMessage(refused);
        Assert.Contains($"the database has OrleansLocks schema version {older}", message, StringComparison.Ordinal);
        Assert.Contains($"this silo needs version {PostgresSchema.ExpectedVersion}", message, StringComparison.Ordinal);
        Assert.Contains("Apply sql/orleans-locks.sql", message, StringComparison.Ordinal);
        Assert.Equal(older, await PostgresSchema.ReadVersionAsync(database));
    }

    [Fact]
    public async Task Silo_OnADatabaseWithoutTheSchema_AndApplySchemaOff_RefusesToStart()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("stamp_none", applySchema: false);

        using var silo = BuildSilo(database, applySchema: false);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => silo.StartAsync());

        var message = FindMismatchMessage(refused);
        Assert.Contains("the database has no OrleansLocks schema version", message, StringComparison.Ordinal);
        Assert.Contains($"this silo needs version {PostgresSchema.ExpectedVersion}", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_WithAnOlderStamp_AndApplySchemaOn_AppliesTheSchema_AndStarts()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("stamp_upgrade");
        await SetStampAsync(database, PostgresSchema.ExpectedVersion - 1);

        using var silo = BuildSilo(database, applySchema: true);
        await silo.StartAsync();
        await silo.StopAsync();

        Assert.Equal(PostgresSchema.ExpectedVersion, await PostgresSchema.ReadVersionAsync(database));
    }

    private static IHost BuildSilo(string database, bool applySchema) =>
        new HostBuilder()
            .UseOrleans(silo => silo
                .UseLocalhostClustering(siloPort: FreePort.Next(), gatewayPort: FreePort.Next(), serviceId: "schema-stamp", clusterId: Guid.NewGuid().ToString("N"))
                .AddOrleansLocks(storage => storage.ApplySchema = applySchema)
                .UsePostgres(database))
            .Build();

    private static async Task SetStampAsync(string database, int version)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var update = new NpgsqlCommand("UPDATE orleanslocks_schema SET version = @version", connection);
        update.Parameters.AddWithValue("version", version);
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
    }

    /// <summary>The refusal's message, wherever the silo's start-up wrapped it.</summary>
    private static string FindMismatchMessage(Exception refused)
    {
        var pending = new Stack<Exception>([refused]);
        while (pending.TryPop(out var exception))
        {
            if (exception.Message.Contains("OrleansLocks schema version mismatch", StringComparison.Ordinal))
            {
                return exception.Message;
            }

            if (exception is AggregateException aggregate)
            {
                aggregate.InnerExceptions.ToList().ForEach(pending.Push);
            }
            else if (exception.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }

        Assert.Fail($"The silo refused to start, but not with the schema version message: {refused}");
        return "";
    }
}
