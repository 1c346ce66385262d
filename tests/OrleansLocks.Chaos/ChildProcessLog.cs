using System.Diagnostics;

namespace OrleansLocks.Chaos;

/// <summary>Where a child process's diagnostics go: its standard error, line by line, into a file of the run's log folder.</summary>
internal static class ChildProcessLog
{
    /// <summary>Appends each line <paramref name="process"/> writes on standard error to <paramref name="path"/> as it comes.</summary>
    public static void WriteErrorsTo(Process process, string path)
    {
        var log = new StreamWriter(path) { AutoFlush = true };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.WriteLine(e.Data);
                }
            }
        };
    }
}
