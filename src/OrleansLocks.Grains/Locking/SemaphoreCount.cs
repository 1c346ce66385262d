namespace OrleansLocks.Grains.Locking;

/// <summary>
/// The count rule of a semaphore, as plain code over its stored state: the first caller (holder or
/// waiter) sets the count, which stays while anyone holds or waits; a caller with another count is
/// refused. Once nobody holds or waits, the next caller sets it anew.
/// </summary>
internal static class SemaphoreCount
{
    /// <summary>Refuses a count below 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below 1.</exception>
    public static void Validate(int maxCount)
    {
        if (maxCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, "A semaphore's maxCount (how many may hold it at once) must be 1 or more.");
        }
    }

    /// <summary>The count in force: the stored one while a holder is live or someone waits, else null (the next caller sets it).</summary>
    public static int? InForce(LockState state, long now, bool anyoneWaiting) =>
        anyoneWaiting || state.Readers?.Exists(r => r.IsLiveAt(now)) == true ? state.MaxCount : null;

    /// <summary>
    /// Checks <paramref name="requested"/> against the count in force and, when none is, makes it the
    /// count of <paramref name="state"/> (the next write stores it).
    /// </summary>
    /// <exception cref="ArgumentException">Another count is in force; nothing was changed.</exception>
    public static void Agree(LockState state, int requested, long now, bool anyoneWaiting, LockId id)
    {
        if (InForce(state, now, anyoneWaiting) is { } inForce && inForce != requested)
        {
            throw new ArgumentException(
                $"Semaphore '{id}' has maxCount {inForce} while anyone holds or waits for it, so a request with maxCount {requested} was refused (nothing was granted or queued). Every caller of one semaphore must give the same count.",
                "maxCount");
        }

        state.MaxCount = requested;
    }
}
