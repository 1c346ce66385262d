namespace OrleansLocks.Client;

/// <summary>
/// Acquires OrleansLocks from application code, in an Orleans client or in a silo. Registered by
/// <c>clientBuilder.AddOrleansLocks()</c> or <c>services.AddOrleansLocksClient()</c>.
/// </summary>
/// <remarks>
/// Every handle renews itself until it is released or disposed: use it with <c>await using</c>.
/// The waiting forms wait in the lock's line (first come, first served; a waiting writer keeps new
/// readers out) and are woken by the lock itself when it is released or expires: nothing polls.
/// A timeout of <see langword="null"/> or <see cref="Timeout.InfiniteTimeSpan"/>
/// waits for ever; <see cref="TimeSpan.Zero"/> tries once. When a wait gives up (timeout or
/// cancellation) nothing stays held or queued for it.
/// Bad input (a name, key, timeout or list that breaks its rule) throws at the call, before any task
/// is returned or any network call made; the exception's ParamName is the parameter.
/// </remarks>
public interface ILockProvider
{
    /// <summary>Tries once to acquire the plain lock <c>(name, key)</c> without waiting.</summary>
    /// <param name="name">The lock name: 1 to 128 characters from <c>[A-Za-z0-9_.-]</c>.</param>
    /// <param name="key">The lock key: up to 1024 characters, no NUL; may be empty.</param>
    /// <param name="cancellationToken">Stops waiting for the answer; a grant that arrives anyway is released.</param>
    /// <returns>The handle, or <see langword="null"/> when someone holds the lock (or waits for it).</returns>
    /// <exception cref="ArgumentException">The name or key breaks its rule (checked before any network call).</exception>
    /// <exception cref="LockStorageException">The lock's storage failed; nothing was granted.</exception>
    ValueTask<LockHandle?> TryAcquireAsync(string name, string key, CancellationToken cancellationToken = default);

    /// <summary>Acquires the plain lock <c>(name, key)</c>, waiting in its line for up to <paramref name="timeout"/>.</summary>
    /// <param name="name">The lock name: 1 to 128 characters from <c>[A-Za-z0-9_.-]</c>.</param>
    /// <param name="key">The lock key: up to 1024 characters, no NUL; may be empty.</param>
    /// <param name="timeout">How long to wait: null or <see cref="Timeout.InfiniteTimeSpan"/> for ever, zero to try once.</param>
    /// <param name="cancellationToken">Gives up the wait (nothing stays held or queued).</param>
    /// <returns>The handle.</returns>
    /// <exception cref="TimeoutException">The timeout passed first (the lock's last fault, if any, is the inner exception).</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    /// <exception cref="ArgumentException">The name or key breaks its rule, or the timeout is negative or over 49 days (the longest a timer waits).</exception>
    ValueTask<LockHandle> AcquireAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Tries once to take a read hold on the read/write lock <c>(name, key)</c>.</summary>
    /// <returns>The handle, or <see langword="null"/> when a writer holds the lock or waits for it.</returns>
    /// <inheritdoc cref="TryAcquireAsync" path="/param"/>
    /// <inheritdoc cref="TryAcquireAsync" path="/exception"/>
    ValueTask<LockHandle?> TryAcquireReadAsync(string name, string key, CancellationToken cancellationToken = default);

    /// <summary>Tries once to take the write hold on the read/write lock <c>(name, key)</c>.</summary>
    /// <returns>The handle, or <see langword="null"/> when anyone holds the lock or waits for it.</returns>
    /// <inheritdoc cref="TryAcquireAsync" path="/param"/>
    /// <inheritdoc cref="TryAcquireAsync" path="/exception"/>
    ValueTask<LockHandle?> TryAcquireWriteAsync(string name, string key, CancellationToken cancellationToken = default);

    /// <summary>Takes a read hold on the read/write lock <c>(name, key)</c>, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="AcquireAsync" path="/param"/>
    /// <inheritdoc cref="AcquireAsync" path="/returns"/>
    /// <inheritdoc cref="AcquireAsync" path="/exception"/>
    ValueTask<LockHandle> AcquireReadAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Takes the write hold on the read/write lock <c>(name, key)</c>, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="AcquireAsync" path="/param"/>
    /// <inheritdoc cref="AcquireAsync" path="/returns"/>
    /// <inheritdoc cref="AcquireAsync" path="/exception"/>
    ValueTask<LockHandle> AcquireWriteAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tries once to take the upgradeable read hold on the read/write lock <c>(name, key)</c>: shared
    /// with ordinary readers, but only one at a time, and never beside a writer. Upgrade it with
    /// <see cref="LockHandle.UpgradeToWriteAsync"/>.
    /// </summary>
    /// <returns>The handle, or <see langword="null"/> when a writer or another upgradeable reader holds the lock, or anyone waits for it.</returns>
    /// <inheritdoc cref="TryAcquireAsync" path="/param"/>
    /// <inheritdoc cref="TryAcquireAsync" path="/exception"/>
    ValueTask<LockHandle?> TryAcquireUpgradeableReadAsync(string name, string key, CancellationToken cancellationToken = default);

    /// <summary>Takes the upgradeable read hold on the read/write lock <c>(name, key)</c>, waiting for up to <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="AcquireAsync" path="/param"/>
    /// <inheritdoc cref="AcquireAsync" path="/returns"/>
    /// <inheritdoc cref="AcquireAsync" path="/exception"/>
    ValueTask<LockHandle> AcquireUpgradeableReadAsync(string name, string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tries once to take a permit of the semaphore <c>(name, key)</c>, which up to
    /// <paramref name="maxCount"/> hold at once (and never more than <see cref="ISemaphoreGrain.MaxHolders"/>).
    /// </summary>
    /// <param name="name">The semaphore name: 1 to 128 characters from <c>[A-Za-z0-9_.-]</c>.</param>
    /// <param name="key">The semaphore key: up to 1024 characters, no NUL; may be empty.</param>
    /// <param name="maxCount">
    /// The semaphore's count, 1 or more. The first holder or waiter sets it; while anyone holds or
    /// waits, a caller with another count is refused with an <see cref="ArgumentException"/> naming both.
    /// </param>
    /// <param name="cancellationToken">Stops waiting for the answer; a grant that arrives anyway is released.</param>
    /// <returns>The handle (its <see cref="LockHandle.Kind"/> is <see cref="LockKind.Semaphore"/>), or <see langword="null"/> when every permit is held or someone waits.</returns>
    /// <exception cref="ArgumentException">The name or key breaks its rule, or <paramref name="maxCount"/> differs from the count in force.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    /// <exception cref="LockStorageException">The semaphore's storage failed; nothing was granted.</exception>
    ValueTask<LockHandle?> TryAcquireSemaphoreAsync(string name, string key, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes a permit of the semaphore <c>(name, key)</c>, waiting in its line (first come, first
    /// served) for up to <paramref name="timeout"/>.
    /// </summary>
    /// <param name="name">The semaphore name: 1 to 128 characters from <c>[A-Za-z0-9_.-]</c>.</param>
    /// <param name="key">The semaphore key: up to 1024 characters, no NUL; may be empty.</param>
    /// <param name="maxCount">The semaphore's count, 1 or more (see <see cref="TryAcquireSemaphoreAsync"/>).</param>
    /// <param name="timeout">How long to wait: null or <see cref="Timeout.InfiniteTimeSpan"/> for ever, zero to try once.</param>
    /// <param name="cancellationToken">Gives up the wait (nothing stays held or queued).</param>
    /// <returns>The handle (its <see cref="LockHandle.Kind"/> is <see cref="LockKind.Semaphore"/>).</returns>
    /// <exception cref="TimeoutException">The timeout passed first.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    /// <exception cref="ArgumentException">The name or key breaks its rule, <paramref name="maxCount"/> differs from the count in force, or the timeout is negative or over 49 days.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    ValueTask<LockHandle> AcquireSemaphoreAsync(string name, string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tries once to acquire every lock of <paramref name="locks"/>, all or nothing: if any is taken,
    /// those already acquired are released before this returns.
    /// </summary>
    /// <param name="locks">The locks, in any order (they are acquired in one canonical order); at least one, each lock once.</param>
    /// <param name="cancellationToken">Stops trying; whatever was acquired is released.</param>
    /// <returns>One handle for all of them, or <see langword="null"/> when any is taken (and then nothing is held).</returns>
    /// <exception cref="ArgumentException">The list is empty, or names one lock twice (also as read and write).</exception>
    /// <exception cref="LockStorageException">A lock's storage failed; nothing is held.</exception>
    ValueTask<MultiLockHandle?> TryAcquireAllAsync(IEnumerable<LockRequest> locks, CancellationToken cancellationToken = default);

    /// <summary>
    /// Acquires every lock of <paramref name="locks"/>, waiting for up to <paramref name="timeout"/>
    /// in all. Locks are taken in one canonical order whatever order they are listed in, so two
    /// callers can never deadlock; on timeout or cancellation every part already held is released.
    /// </summary>
    /// <param name="locks">The locks, in any order; at least one, each lock once.</param>
    /// <param name="timeout">How long to wait in all: null or <see cref="Timeout.InfiniteTimeSpan"/> for ever, zero to try once.</param>
    /// <param name="cancellationToken">Gives up the wait (nothing stays held or queued).</param>
    /// <returns>One handle for all of them.</returns>
    /// <exception cref="TimeoutException">The timeout passed first; nothing is held.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled; nothing is held.</exception>
    /// <exception cref="ArgumentException">The list is empty or names one lock twice, or the timeout is negative or over 49 days (the longest a timer waits).</exception>
    ValueTask<MultiLockHandle> AcquireAllAsync(IEnumerable<LockRequest> locks, TimeSpan? timeout = null, CancellationToken cancellationToken = default);
}
