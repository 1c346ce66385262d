namespace OrleansLocks.Client;

/// <summary>
/// Several locks held together, acquired all or nothing (see <see cref="ILockProvider.TryAcquireAllAsync"/>).
/// Dispose (or <see cref="ReleaseAsync"/>) releases every part; <see cref="HandleLostToken"/> is
/// cancelled as soon as any part is lost.
/// </summary>
/// <example>
/// <code>
/// await using var locks = await provider.AcquireAllAsync(
///     [LockRequest.Write("room", roomA), LockRequest.Write("room", roomB)], TimeSpan.FromSeconds(10), ct);
/// await MergeAsync(roomA, roomB, locks.HandleLostToken);
/// </code>
/// </example>
public sealed class MultiLockHandle : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost;

    internal MultiLockHandle(IReadOnlyList<LockHandle> parts)
    {
        Parts = parts;
        _lost = CancellationTokenSource.CreateLinkedTokenSource([.. parts.Select(p => p.HandleLostToken)]);
    }

    /// <summary>The held parts, in the canonical order they were acquired in (each with its own fencing token).</summary>
    public IReadOnlyList<LockHandle> Parts { get; }

    /// <summary>
    /// Cancelled as soon as any part's <see cref="LockHandle.HandleLostToken"/> is. Releasing or
    /// disposing does not cancel it.
    /// </summary>
    public CancellationToken HandleLostToken => _lost.Token;

    /// <summary>Asks every part's lock whether this handle still holds it.</summary>
    public async ValueTask<bool> IsStillValidAsync(CancellationToken cancellationToken = default)
    {
        foreach (var part in Parts)
        {
            if (!await part.IsStillValidAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Releases every part (all are attempted, whatever happens to one). Idempotent, part by part.</summary>
    /// <exception cref="LockStorageException">A part's release could not be stored (the first such error); that part expires by itself.</exception>
    public async ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        Exception? first = null;
        foreach (var part in Parts.Reverse())
        {
            try
            {
                await part.ReleaseAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Even a cancelled release of one part must not leave the others renewing.
                first ??= ex;
            }
        }

        if (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }

    /// <summary>Releases every part; failures are logged, not thrown.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var part in Parts.Reverse())
        {
            await part.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"MultiLockHandle {{ {string.Join(", ", Parts.Select(p => $"{p.Kind} {p.Id}"))} }}";
}
