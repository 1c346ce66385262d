namespace OrleansLocks.Client;

/// <summary>
/// Acquires OrleansLocks from application code, in an Orleans client or in a silo. Registered by
/// <c>clientBuilder.AddOrleansLocks()</c> or <c>services.AddOrleansLocksClient()</c>.
/// </summary>
public interface ILockProvider
{
    /// <summary>
    /// Tries once to acquire the lock <c>(name, key)</c> without waiting. The handle renews itself
    /// until it is released or disposed: use it with <c>await using</c>.
    /// </summary>
    /// <param name="name">The lock name: 1 to 128 characters from <c>[A-Za-z0-9_.-]</c>.</param>
    /// <param name="key">The lock key: up to 1024 characters, no NUL; may be empty.</param>
    /// <param name="cancellationToken">Stops waiting for the answer; a grant that arrives anyway is released.</param>
    /// <returns>The handle, or <see langword="null"/> when someone holds the lock.</returns>
    /// <exception cref="ArgumentException">The name or key breaks its rule (checked before any network call).</exception>
    /// <exception cref="LockStorageException">The lock's storage failed; nothing was granted.</exception>
    ValueTask<LockHandle?> TryAcquireAsync(string name, string key, CancellationToken cancellationToken = default);
}
