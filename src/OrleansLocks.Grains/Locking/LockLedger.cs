using Microsoft.Extensions.Logging;
using OrleansLocks.Grains.Diagnostics;
using OrleansLocks.Grains.Storage;

namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The state one activation answers from, kept in step with its <see cref="ILockStore"/>: read once,
/// then changed only by versioned writes, each of which first serves the line (the first waiters
/// that fit are granted in the same write) and answers those waiters only once it is stored.
/// </summary>
/// <remarks>
/// Not thread-safe: the grain calls it from inside its gate (reads may interleave with a change; they
/// see the last stored state). The line of waiters is created when the first waiter comes (most locks
/// never see one, and memory per held lock counts). <paramref name="owner"/> hears of every write
/// attempt (so it can move its due time) and of every failed write or clear (what storage holds is
/// then unknown, and the grain stops answering from memory).
/// </remarks>
internal sealed partial class LockLedger(ILockStore store, LockGrainSettings settings, ILogger logger, ILockLedgerOwner owner)
{
    private WaiterLine? _line;
    private Task? _loading;

    /// <summary>The silo's settings of every lock activation.</summary>
    public LockGrainSettings Settings => settings;

    /// <summary>The lock grain's logger.</summary>
    public ILogger Logger => logger;

    /// <summary>The line of waiters; null until the first waiter came.</summary>
    public WaiterLine? Line => _line;

    /// <summary>The line of waiters, created on first use.</summary>
    public WaiterLine OpenLine() => _line ??= new WaiterLine(settings.MaxWaiters, settings.WaiterTimeoutMs);

    /// <summary>The last state read or written.</summary>
    public LockState Current { get; private set; } = new();

    /// <summary>Whether <see cref="Current"/> was read (false again after a failed write).</summary>
    public bool IsLoaded { get; private set; }

    /// <summary>Whether storage holds a state for this lock.</summary>
    public bool RecordExists => store.RecordExists;

    /// <summary>Reads the state unless it is loaded; concurrent first calls (reads interleave) share one read.</summary>
    public async Task LoadAsync(LockId id)
    {
        if (IsLoaded)
        {
            return;
        }

        var loading = _loading ??= ReadAsync(id);
        try
        {
            await loading;
        }
        finally
        {
            if (ReferenceEquals(_loading, loading))
            {
                _loading = null;
            }
        }
    }

    /// <summary>A draft of the next state, without the holders whose lease ran out (logged; their unconfirmed grants are forgotten).</summary>
    public LeaseBook Open(LockId id, long now)
    {
        var book = new LeaseBook(Current, settings.LeaseMs, store.RecordExists);
        foreach (var expired in book.Expire(now))
        {
            Log.Expired(logger, id, expired.FencingToken);
            settings.Instruments.Expired(id, expired.Token == Current.Writer?.Token ? owner.WriterKind : owner.SharedKind);
            _line?.ForgetUnconfirmed(expired.Token);
        }

        return book;
    }

    /// <summary>Writes the draft if it changes the holders or lets the first waiter in, else only reports the change.</summary>
    public Task CommitIfChangedAsync(LeaseBook book, string operation, LockId id, long now)
    {
        if (book.HoldersChanged || (_line?.First is { } first && book.Serves(first, now)))
        {
            return CommitAsync(book, operation, id, now);
        }

        owner.OnLedgerChanged();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Serves the line (the first waiters that fit get their grant in the draft), writes it, and only
    /// then answers those waiters. A failed write changes nothing and answers nobody.
    /// </summary>
    public async Task CommitAsync(LeaseBook book, string operation, LockId id, long now)
    {
        var line = _line;
        line?.DropUpgradesWithout(token => LeaseBook.HoldsUpgradeable(book.Next, token, now));
        var grants = line?.Serve(w => w.UpgradeToken is { } token ? book.Upgrade(token, w.Id, now)
            : book.Fits(w.Kind, now) ? book.Grant(w.Kind, w.Owner, w.Id, now) : null);

        // A hand-off: waiters are served by a write that freed the lock (not by their own acquire or upgrade).
        var freedAt = grants is { Count: > 0 } && operation is not ("acquire" or "upgrade") && settings.Instruments.ObservesHandoffs ? FreedAt(now) : (long?)null;
        var next = book.Seal(now);
        try
        {
            await StoreAsync(next, operation, id);
            Current = next;
        }
        finally
        {
            owner.OnLedgerChanged();
        }

        foreach (var (waiter, holder) in grants ?? [])
        {
            line!.Granted(waiter, LeaseBook.ToLease(holder), now);
            Log.Granted(logger, id, holder.Owner, holder.FencingToken);
            settings.Instruments.Granted(id, waiter.Kind, GrantPath.Wait);
            if (freedAt is { } since)
            {
                settings.Instruments.HandedOff(id, waiter.Kind, since);
            }
        }

        owner.OnLedgerChanged();
    }

    /// <summary>
    /// A wait call of <paramref name="waiterId"/>: its lease when it was granted already (in line, or
    /// by an earlier activation), else its waiter, which joins the line if new (and is granted at once
    /// if it is first and fits; then the lease is the answer).
    /// </summary>
    /// <exception cref="InvalidOperationException">The waiter left the line, or the line is full.</exception>
    /// <exception cref="ArgumentException">The waiter already waits for another kind of hold.</exception>
    public async Task<(LockLease? Granted, Waiter? Waiting)> JoinAsync(LockId id, long now, string waiterId, LockKind kind, string owner)
    {
        var line = OpenLine();
        if (line.HasLeft(waiterId, now))
        {
            // A call that was overtaken by its own StopWaiting: the waiter gave up, so it must not
            // join the line again (it would be handed a lock nobody confirms).
            throw new InvalidOperationException(
                $"Waiter id '{waiterId}' left the line of lock '{id}' (StopWaiting); a waiter that left cannot come back. Wait again with a new waiter id.");
        }

        if (line.TryGet(waiterId, out var waiter))
        {
            if (waiter.Kind != kind)
            {
                throw new ArgumentException($"Waiter id '{waiterId}' already waits for a {waiter.Kind} hold on lock '{id}'; use a new id per wait.", nameof(waiterId));
            }

            if (waiter.Grant is { } granted)
            {
                return (granted, null);
            }

            // A newer call of the same waiter (e.g. after a response timeout) replaces the old one.
            waiter.Answer(null);
        }
        else
        {
            if (LeaseBook.FindLiveByAcquireId(Current, waiterId, now) is { } holder)
            {
                // Granted earlier (by a previous activation, or its answer was lost): same lease.
                return (LeaseBook.ToLease(holder), null);
            }

            waiter = line.TryJoin(waiterId, kind, owner) ?? throw new InvalidOperationException(
                $"Lock '{id}' already has {line.Count} waiters, the most LockWaitOptions.MaxWaiters allows; nothing was queued. Try again later.");
            waiter.JoinedAt = now;
            if (ReferenceEquals(line.First, waiter) && LeaseBook.Fits(Current, kind, now)
                && await ServeAtOnceAsync(line, waiter, "acquire", id, now) is { } grant)
            {
                return (grant, null);
            }
        }

        return (null, waiter);
    }

    /// <summary>
    /// Serves the line at once for a waiter that just joined and may be granted now: one write,
    /// after which the waiter holds its grant. A failed write leaves nothing granted and nothing
    /// queued for the call that failed.
    /// </summary>
    private async Task<LockLease?> ServeAtOnceAsync(WaiterLine line, Waiter waiter, string operation, LockId id, long now)
    {
        try
        {
            await CommitAsync(Open(id, now), operation, id, now);
        }
        catch (LockStorageException)
        {
            line.Forget(waiter);
            throw;
        }

        return waiter.Grant;
    }

    /// <summary>Clears the stored state (the record and its version stay).</summary>
    public Task ClearAsync(LockId id) => StoreAsync(next: null, "clear", id);

    /// <summary>
    /// Since when the lock is free for the waiters a write serves: the earliest expiry among the
    /// stored holders that ran out, else <paramref name="now"/> (a release, a grant taken back).
    /// </summary>
    private long FreedAt(long now)
    {
        var freedAt = now;
        foreach (var holder in Current.Holders)
        {
            if (!holder.IsLiveAt(now) && holder.ExpiresAt < freedAt)
            {
                freedAt = holder.ExpiresAt;
            }
        }

        return freedAt;
    }

    private async Task ReadAsync(LockId id)
    {
        var measurement = settings.Instruments.StartStorage(StorageOperation.Read, "read", id);
        try
        {
            Current = await store.ReadAsync();
            measurement.End();
        }
        catch (Exception ex)
        {
            measurement.End(ex);
            throw;
        }

        Current.Name = id.Name;
        Current.Key = id.Key;
        IsLoaded = true;
        owner.OnLedgerChanged();
    }

    /// <summary>Writes <paramref name="next"/> (<paramref name="operation"/> says what it does), or clears the state when it is null.</summary>
    private async Task StoreAsync(LockState? next, string operation, LockId id)
    {
        // Measured here, in the flow that awaits it, so the write's span ends where it began.
        var measurement = settings.Instruments.StartStorage(next is null ? StorageOperation.Clear : StorageOperation.Write, operation, id);
        try
        {
            await (next is null ? store.ClearAsync() : store.WriteAsync(next, operation));
            measurement.End();
        }
        catch (Exception ex)
        {
            measurement.End(ex);
            if (ex is LockStorageException)
            {
                IsLoaded = false;
                owner.OnLedgerWriteFailed();
            }

            throw;
        }
    }
}

/// <summary>What a <see cref="LockLedger"/> tells the grain that owns it.</summary>
internal interface ILockLedgerOwner
{
    /// <summary>A read or a write attempt ended (the state, or the line, may have changed).</summary>
    void OnLedgerChanged();

    /// <summary>A write or clear failed: what storage holds is unknown.</summary>
    void OnLedgerWriteFailed();

    /// <summary>The kind of this lock's exclusive holder (plain for a plain lock, write for a read/write lock), for telemetry tags.</summary>
    LockKind WriterKind { get; }

    /// <summary>The kind of this lock's shared holders (read for a read/write lock, semaphore for a semaphore), for telemetry tags.</summary>
    LockKind SharedKind { get; }
}
