using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using OrleansLocks.Grains.Storage;

namespace OrleansLocks.Grains.Health;

/// <summary>
/// Readiness: the database's schema version stamp (table <c>orleanslocks_schema</c>) is the one this
/// silo needs. It is checked at start too; this catches a database changed or restored under a
/// running silo. In-memory storage has no schema.
/// </summary>
internal sealed class LockSchemaHealthCheck(IOptions<LockStorageOptions> storage, IOptions<LockHealthCheckOptions> health) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (storage.Value.ConnectionString is not { } connectionString)
        {
            return HealthCheckResult.Healthy("In-memory storage: no schema to check.");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(health.Value.Timeout);
        try
        {
            var found = await PostgresSchema.ReadVersionAsync(connectionString, deadline.Token).ConfigureAwait(false);
            return found == PostgresSchema.ExpectedVersion
                ? HealthCheckResult.Healthy($"The database has OrleansLocks schema version {found}, the one this silo needs.")
                : new HealthCheckResult(context.Registration.FailureStatus, PostgresSchema.VersionMismatchMessage(found));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The schema version could not be read within {health.Value.Timeout.TotalMilliseconds:0} ms.");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The schema version could not be read: {StorageFailure.Describe(ex)}");
        }
    }
}
