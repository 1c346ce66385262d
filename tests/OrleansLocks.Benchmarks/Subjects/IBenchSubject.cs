namespace OrleansLocks.Benchmarks.Subjects;

/// <summary>One lock implementation under test, reduced to what the scenarios need.</summary>
internal interface IBenchSubject
{
    string Name { get; }

    /// <summary>One try; null when held.</summary>
    Task<IBenchHold?> TryAcquireAsync(string key);

    /// <summary>Waits until held (each subject's own way: pushed, polled or blocked on the server).</summary>
    Task<IBenchHold> AcquireAsync(string key, TimeSpan timeout);

    /// <summary>A hold whose renewal can be driven by hand, or null when the subject has no renewal.</summary>
    Task<Func<Task<bool>>?> RenewableAsync(string key);
}

/// <summary>A held lock.</summary>
internal interface IBenchHold
{
    /// <summary>The subject's validity check, or null when it has none.</summary>
    Func<Task<bool>>? IsStillValid { get; }

    Task ReleaseAsync();
}
