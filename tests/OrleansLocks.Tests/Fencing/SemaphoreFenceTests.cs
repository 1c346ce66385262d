using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Fencing;

/// <summary>A semaphore permit is a shared hold: the database fence refuses it, as it refuses a read hold.</summary>
public sealed class SemaphoreFenceTests : IAsyncLifetime
{
    private static readonly LockId Pool = LockId.Create("upload_slots", "media");

    private FenceDatabase? _database;

    private FenceDatabase Database => _database!;

    public async Task InitializeAsync() => _database = await FenceDatabase.CreateAsync("semfences");

    public async Task DisposeAsync() => await Database.DisposeAsync();

    [Fact]
    public async Task Fence_WithASemaphorePermit_IsRefusedNamingTheRule_AndWritesNothing()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Database.WriteAsync("r", "permit", Pool, 4, LockKind.Semaphore));

        Assert.Equal("kind", refused.ParamName);
        Assert.Contains("semaphore permit cannot fence", refused.Message, StringComparison.Ordinal);
        Assert.Null(await Database.ValueAsync("r"));
        Assert.Null(await Database.NewestTokenAsync(Pool));
    }
}
