using System.Globalization;
using System.Text;

namespace OrleansLocks.Cli;

/// <summary>How values read in the table output (for people; scripts use <c>--json</c>).</summary>
internal static class Display
{
    /// <summary>A lock kind as the tool's options and output spell it.</summary>
    public static string Kind(LockKind kind) => kind switch
    {
        LockKind.Plain => "plain",
        LockKind.Read => "read",
        LockKind.Write => "write",
        LockKind.Semaphore => "semaphore",
        LockKind.UpgradeableRead => "upgradeable-read",
        _ => ((int)kind).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A UTC instant to the second, ISO 8601: <c>2026-12-01T13:51:17Z</c>.</summary>
    public static string Utc(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>An instant relative to <paramref name="now"/>: <c>12s ago</c>, <c>in 1m48s</c>, <c>now</c>.</summary>
    public static string Relative(DateTimeOffset instant, DateTimeOffset now)
    {
        var delta = instant - now;
        if (delta.Duration() < TimeSpan.FromSeconds(1))
        {
            return "now";
        }

        return delta > TimeSpan.Zero ? $"in {Duration(delta)}" : $"{Duration(delta.Duration())} ago";
    }

    /// <summary>A duration, coarse and short: <c>850ms</c>, <c>35s</c>, <c>1m48s</c>, <c>2h05m</c>, <c>3d4h</c>.</summary>
    public static string Duration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 1 } => $"{(int)span.TotalMilliseconds}ms",
        { TotalMinutes: < 1 } => span.Milliseconds == 0 || span.TotalSeconds >= 10
            ? $"{(int)span.TotalSeconds}s"
            : $"{span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)}s",
        { TotalHours: < 1 } => $"{(int)span.TotalMinutes}m{span.Seconds:00}s",
        { TotalDays: < 1 } => $"{(int)span.TotalHours}h{span.Minutes:00}m",
        _ => $"{(int)span.TotalDays}d{span.Hours}h",
    };

    /// <summary>
    /// Text as one printable line: control characters (a key may hold any text but NUL) shown as
    /// <c>\n</c>, <c>\t</c> or <c>\u001b</c>, so a key can neither break the table nor drive the terminal.
    /// The empty key reads <c>""</c>.
    /// </summary>
    public static string Text(string text)
    {
        if (text.Length == 0)
        {
            return "\"\"";
        }

        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    /// <summary>A message squeezed onto one line (exception messages may span several).</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');
}
