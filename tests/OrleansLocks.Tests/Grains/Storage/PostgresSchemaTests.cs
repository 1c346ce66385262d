using Npgsql;
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
}
