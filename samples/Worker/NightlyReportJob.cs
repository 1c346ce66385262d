using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansLocks.Client;

namespace OrleansLocks.Samples.Worker;

/// <summary>
/// Runs the nightly report once, under the lock <c>("sample-job", "nightly-report")</c>, so that of
/// several workers started together only one does the work; then stops the host.
/// </summary>
internal sealed partial class NightlyReportJob(
    ILockProvider locks,
    IHostApplicationLifetime lifetime,
    ILogger<NightlyReportJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Null means another worker holds the lock right now: nothing to do this time.
            await using var handle = await locks.TryAcquireAsync("sample-job", "nightly-report", stoppingToken);
            if (handle is null)
            {
                LogSkipped(logger);
                return;
            }

            // The handle renews itself while the job runs. Stop when the lease may be gone, and hand
            // the fencing token to whatever the job writes to, so a stale holder's writes can be refused.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, handle.HandleLostToken);
            LogStarted(logger, handle.FencingToken);
            await BuildReportAsync(stop.Token);
            LogFinished(logger);
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    private static Task BuildReportAsync(CancellationToken cancellationToken)
    {
        // The real work goes here (passing the fencing token along); the sample only waits a little.
        return Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
    }

    [LoggerMessage(1, LogLevel.Information, "Another worker holds the nightly report lock; skipping this run.")]
    private static partial void LogSkipped(ILogger logger);

    [LoggerMessage(2, LogLevel.Information, "Building the nightly report with fencing token {FencingToken}.")]
    private static partial void LogStarted(ILogger logger, long fencingToken);

    [LoggerMessage(3, LogLevel.Information, "Nightly report done; releasing the lock.")]
    private static partial void LogFinished(ILogger logger);
}
