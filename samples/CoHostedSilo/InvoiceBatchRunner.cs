using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansLocks.Client;

namespace OrleansLocks.Samples.CoHostedSilo;

/// <summary>
/// Code co-hosted in the silo: every ten seconds it takes the lock <c>("invoice-batch", "daily")</c>,
/// waiting up to a minute for it, and records a batch in <see cref="IInvoiceLedgerGrain"/> with the
/// lock's fencing token.
/// </summary>
internal sealed partial class InvoiceBatchRunner(
    ILockProvider locks,
    IGrainFactory grains,
    ILogger<InvoiceBatchRunner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        do
        {
            await using var handle = await locks.AcquireAsync("invoice-batch", "daily", TimeSpan.FromMinutes(1), stoppingToken);
            var recorded = await grains.GetGrain<IInvoiceLedgerGrain>("daily").RecordBatch(handle.FencingToken, invoices: 3);
            LogBatch(logger, handle.FencingToken, recorded);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Information, "Invoice batch under fencing token {FencingToken}: recorded {Recorded}.")]
    private static partial void LogBatch(ILogger logger, long fencingToken, bool recorded);
}
