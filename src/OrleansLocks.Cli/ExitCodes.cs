namespace OrleansLocks.Cli;

/// <summary>What the tool's exit code means; scripts rely on these numbers, so they never change.</summary>
internal static class ExitCodes
{
    /// <summary>Done: the result is on standard output.</summary>
    public const int Success = 0;

    /// <summary>Bad usage or a bad argument: the message names the rule. Nothing was changed.</summary>
    public const int Usage = 1;

    /// <summary>Nothing to do: a release found the lock not held, or held under another fencing token; an owner held nothing.</summary>
    public const int NothingToDo = 2;

    /// <summary>The cluster could not be reached (within the connect timeout), or was lost during the call.</summary>
    public const int Unreachable = 3;

    /// <summary>The silo could not read or write the locks' storage (a <see cref="LockStorageException"/>).</summary>
    public const int StorageFailure = 4;

    /// <summary>Any other failure (a bug, or an answer the tool does not know): the message says what.</summary>
    public const int Unexpected = 5;

    /// <summary>Stopped by Ctrl+C before the command finished (except <c>watch</c>, for which Ctrl+C is the normal end).</summary>
    public const int Interrupted = 130;

    /// <summary>The table shown at the end of <c>--help</c> and in the README.</summary>
    public const string Help = """
        Exit codes:
          0    success (inspect of a free lock is a success: it shows the lock as free)
          1    bad usage or argument; the message names the rule
          2    nothing to do: release found the lock not held or under another fencing token;
               release-owner found the owner holding nothing
          3    cluster unreachable within --connect-timeout, or lost during the call
          4    storage failure: the silo could not read or write the locks' storage
          5    any other failure
          130  interrupted by Ctrl+C (watch ends with 0 on Ctrl+C)
        """;
}

/// <summary>A bad argument found before any call: exit <see cref="ExitCodes.Usage"/> with this message.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The cluster could not be reached: exit <see cref="ExitCodes.Unreachable"/> with this message.</summary>
internal sealed class ClusterUnreachableException(string message, Exception? innerException = null) : Exception(message, innerException);
