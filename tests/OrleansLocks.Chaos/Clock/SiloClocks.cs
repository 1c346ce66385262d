using System.Globalization;

namespace OrleansLocks.Chaos.Clock;

/// <summary>
/// Each silo's wall clock, shifted through Debian's libfaketime: every silo process starts with
/// <c>LD_PRELOAD</c> of the library and reads its offset from a file of its own, which
/// <see cref="SetOffset"/> rewrites while the silo runs. Only the wall clock (<c>CLOCK_REALTIME</c>:
/// <c>DateTime.UtcNow</c>, <c>TimeProvider.System.GetUtcNow()</c>, what lease expiry is judged on)
/// is shifted; the monotonic clock (timers, <c>Stopwatch</c>, Orleans' failure detection) is left
/// alone, as NTP stepping a machine's clock leaves it alone. The offset files live in a directory
/// named after this process, removed on dispose.
/// </summary>
internal sealed class SiloClocks : IDisposable
{
    /// <summary>
    /// How long a silo may take to see a new offset: libfaketime re-reads the file at most once per
    /// <c>FAKETIME_CACHE_DURATION</c> (1 s) rather than on every clock read.
    /// </summary>
    public static readonly TimeSpan Propagation = TimeSpan.FromMilliseconds(1500);

    private readonly string _library;
    private readonly string _directory;
    private readonly Dictionary<int, TimeSpan> _offsets = [];

    private SiloClocks(string library, string directory)
    {
        _library = library;
        _directory = directory;
    }

    /// <summary>Finds libfaketime and makes the offsets' directory; fails saying how to install it.</summary>
    public static SiloClocks Create()
    {
        var library = Directory.Exists("/usr/lib")
            ? Directory.EnumerateDirectories("/usr/lib")
                .Select(d => Path.Combine(d, "faketime", "libfaketime.so.1"))
                .FirstOrDefault(File.Exists)
            : null;
        if (library is null)
        {
            throw new InvalidOperationException(
                "The clock-skew fault needs libfaketime (/usr/lib/<arch>/faketime/libfaketime.so.1), which was not found: apt-get install faketime (.ci/run installs it).");
        }

        var directory = Directory.CreateTempSubdirectory($"orleanslocks-chaos-{Environment.ProcessId}-clocks-").FullName;
        return new SiloClocks(library, directory);
    }

    /// <summary>The environment a silo starts with: the library, its offset file (at the offset set for it, else none) and the cache.</summary>
    public IReadOnlyDictionary<string, string> EnvironmentFor(int silo)
    {
        WriteOffset(silo, _offsets.GetValueOrDefault(silo));
        return new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = _library,
            ["FAKETIME_TIMESTAMP_FILE"] = FileOf(silo),
            ["FAKETIME_CACHE_DURATION"] = "1",
            ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1",
        };
    }

    /// <summary>Shifts a silo's wall clock by <paramref name="offset"/> (positive: ahead); seen within <see cref="Propagation"/>.</summary>
    public void SetOffset(int silo, TimeSpan offset)
    {
        _offsets[silo] = offset;
        WriteOffset(silo, offset);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Nothing else uses the directory; a failure here changes no result.
        }
    }

    private void WriteOffset(int silo, TimeSpan offset)
    {
        // Written aside and moved into place, so that a silo never reads a half-written offset.
        var text = (offset < TimeSpan.Zero ? "-" : "+") + Math.Abs(offset.TotalSeconds).ToString("0.000", CultureInfo.InvariantCulture);
        var staging = FileOf(silo) + ".new";
        File.WriteAllText(staging, text);
        File.Move(staging, FileOf(silo), overwrite: true);
    }

    private string FileOf(int silo) => Path.Combine(_directory, $"silo{silo}.offset");
}
