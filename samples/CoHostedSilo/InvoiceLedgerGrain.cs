namespace OrleansLocks.Samples.CoHostedSilo;

/// <summary>A grain of the application, hosted in the same silo as the lock grains.</summary>
[Alias("OrleansLocks.Samples.IInvoiceLedgerGrain")]
public interface IInvoiceLedgerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records a batch run by the holder of fencing token <paramref name="fencingToken"/>; false when a
    /// newer holder has already written (the caller's lock was lost and taken again meanwhile).
    /// </summary>
    [Alias("RecordBatch")]
    Task<bool> RecordBatch(long fencingToken, int invoices);
}

/// <summary>Refuses writes from a holder older than the newest one it has seen.</summary>
public sealed class InvoiceLedgerGrain : Grain, IInvoiceLedgerGrain
{
    private long _newestFencingToken;
    private int _invoices;

    /// <inheritdoc />
    public Task<bool> RecordBatch(long fencingToken, int invoices)
    {
        if (fencingToken < _newestFencingToken)
        {
            return Task.FromResult(false);
        }

        _newestFencingToken = fencingToken;
        _invoices += invoices;
        return Task.FromResult(true);
    }
}
