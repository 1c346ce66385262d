using Medallion.Threading;
using OrleansLocks.Client;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// DistributedLock's providers over <see cref="ILockProvider"/>: code written against
/// <see cref="IDistributedLockProvider"/>, <see cref="IDistributedReaderWriterLockProvider"/>,
/// <see cref="IDistributedSemaphoreProvider"/> or <see cref="IDistributedUpgradeableReaderWriterLockProvider"/> takes
/// OrleansLocks (leased, fenced, fairly queued) with no other change. Registered by
/// <c>services.AddOrleansLocksDistributedLock()</c>. DistributedLock's helpers
/// (<c>AcquireLockAsync</c>, <c>TryAcquireAllLocksAsync</c>, ...) work over it.
/// </summary>
/// <remarks>
/// Each DistributedLock name is a key of one fixed lock name per kind
/// (<see cref="OrleansLocksDistributedLockOptions"/>); see <see cref="GetKey"/> for how a name becomes
/// a key. Names are case-sensitive, may be empty, and any string works.
/// </remarks>
public sealed class OrleansLocksDistributedLockProvider
    : IDistributedLockProvider, IDistributedReaderWriterLockProvider, IDistributedSemaphoreProvider, IDistributedUpgradeableReaderWriterLockProvider
{
    private readonly ILockProvider _locks;
    private readonly string _lockName;
    private readonly string _readerWriterLockName;
    private readonly string _semaphoreName;

    /// <summary>Creates the adapter over <paramref name="locks"/>.</summary>
    /// <param name="locks">The OrleansLocks client (or the in-memory provider, in tests).</param>
    /// <param name="options">The lock names to use; the defaults when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="locks"/> is null.</exception>
    /// <exception cref="ArgumentException">An option's lock name breaks <see cref="LockId.NameRule"/>.</exception>
    public OrleansLocksDistributedLockProvider(ILockProvider locks, OrleansLocksDistributedLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(locks);
        options ??= new OrleansLocksDistributedLockOptions();
        options.Validate();
        _locks = locks;
        _lockName = options.LockName;
        _readerWriterLockName = options.ReaderWriterLockName;
        _semaphoreName = options.SemaphoreName;
    }

    /// <summary>
    /// The OrleansLocks key a DistributedLock name maps to: the name itself when it is a valid key (up
    /// to 1024 characters, no NUL, no unpaired surrogate) and does not contain <c>#sha256:</c>; else
    /// its first 64 characters (NUL and unpaired surrogates as <c>?</c>), <c>#sha256:</c> and the
    /// lower-case hex SHA-256 of the name's UTF-16LE code units. Stable across versions and processes.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public static string GetKey(string name) => DistributedLockKeys.ToKey(name);

    /// <summary>The plain lock for <paramref name="name"/> (no network call until it is acquired).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public OrleansLocksDistributedLock CreateLock(string name) => new(_locks, _lockName, name);

    /// <summary>The read/write lock for <paramref name="name"/> (no network call until it is acquired).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public OrleansLocksDistributedReaderWriterLock CreateReaderWriterLock(string name) => new(_locks, _readerWriterLockName, name);

    /// <summary>
    /// The semaphore for <paramref name="name"/>, which up to <paramref name="maxCount"/> hold at once
    /// (no network call until it is acquired). At most <see cref="ISemaphoreGrain.MaxHolders"/> hold
    /// any semaphore at once, whatever its count.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    public OrleansLocksDistributedSemaphore CreateSemaphore(string name, int maxCount) => new(_locks, _semaphoreName, name, maxCount);

    /// <summary>
    /// The upgradeable read/write lock for <paramref name="name"/>: the same lock as
    /// <see cref="CreateReaderWriterLock"/> of that name (no network call until it is acquired).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public OrleansLocksDistributedUpgradeableReaderWriterLock CreateUpgradeableReaderWriterLock(string name) => new(_locks, _readerWriterLockName, name);

    IDistributedLock IDistributedLockProvider.CreateLock(string name) => CreateLock(name);

    IDistributedReaderWriterLock IDistributedReaderWriterLockProvider.CreateReaderWriterLock(string name) => CreateReaderWriterLock(name);

    IDistributedSemaphore IDistributedSemaphoreProvider.CreateSemaphore(string name, int maxCount) => CreateSemaphore(name, maxCount);

    IDistributedUpgradeableReaderWriterLock IDistributedUpgradeableReaderWriterLockProvider.CreateUpgradeableReaderWriterLock(string name) => CreateUpgradeableReaderWriterLock(name);
}
