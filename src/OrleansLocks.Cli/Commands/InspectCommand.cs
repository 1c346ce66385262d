using System.CommandLine;
using System.Globalization;
using OrleansLocks.Admin;

namespace OrleansLocks.Cli.Commands;

/// <summary>
/// <c>orleanslocks inspect name key</c>: one lock's holders, waiters, stored version and lock-delay.
/// A free lock is a result, not an error: it prints as free and exits 0.
/// </summary>
internal static class InspectCommand
{
    public static Command Create(CliContext context)
    {
        var name = LockArguments.Name();
        var key = LockArguments.Key();
        var kind = LockArguments.Kind("plain for the plain lock (the default); read or write for the read/write lock of that name and key (either shows all its holders); semaphore for its semaphore.");
        var command = new Command("inspect", "Show one lock: its holders, who waits for it, its stored version and any lock-delay after a forced release. A free lock shows as free (exit code 0).");
        command.Add(name);
        command.Add(key);
        command.Add(kind);
        command.SetAction((parse, ct) => context.RunAsync(parse, ct, async run =>
        {
            var id = LockId.Create(parse.GetValue(name)!, parse.GetValue(key)!);
            await using var connection = await run.ConnectAsync();
            var details = await connection.Admin.Inspect(id.Name, id.Key, parse.GetValue(kind) ?? LockKind.Plain);
            Print(run, details);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(CommandRun run, LockDetails details)
    {
        var lockType = details.IsSemaphore ? "semaphore" : details.IsReadWrite ? "readWrite" : "plain";
        if (run.Json)
        {
            JsonDocuments.Write(run.Output, new InspectDocument(
                details.Name,
                details.Key,
                lockType,
                details.Holders.Count > 0,
                [.. details.Holders.Select(JsonDocuments.Row)],
                [.. details.Waiters.Select(w => new WaiterRow(w.Owner, Display.Kind(w.Kind), w.Since))],
                details.StoredVersion,
                details.NoGrantsBefore));
            return;
        }

        var now = run.Time.GetUtcNow();
        var output = run.Output;
        output.WriteLine($"Lock:            {details.Name} {Display.Text(details.Key)} ({(details.IsSemaphore ? "semaphore" : details.IsReadWrite ? "read/write" : "plain")})");
        output.WriteLine($"State:           {(details.Holders.Count > 0 ? $"held ({details.Holders.Count} holder{(details.Holders.Count == 1 ? "" : "s")})" : "free")}");
        if (details.NoGrantsBefore is { } until)
        {
            output.WriteLine($"No grants until: {Display.Utc(until)} ({Display.Relative(until, now)}), after a forced release");
        }

        output.WriteLine($"Stored version:  {details.StoredVersion ?? "(nothing stored)"}");
        if (details.Holders.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Holders:");
            var holders = new Table("KIND", "OWNER", "FENCING", "ACQUIRED (UTC)", "RENEWED", "EXPIRES");
            foreach (var h in details.Holders)
            {
                holders.Add(
                    Display.Kind(h.Kind),
                    Display.Text(h.Owner),
                    h.FencingToken.ToString(CultureInfo.InvariantCulture),
                    Display.Utc(h.AcquiredAt),
                    Display.Relative(h.LastRenewedAt, now),
                    Display.Relative(h.ExpiresAt, now));
            }

            holders.WriteTo(output, "  ");
        }

        output.WriteLine();
        if (details.Waiters.Count == 0)
        {
            output.WriteLine("Waiters:         none");
        }
        else
        {
            output.WriteLine($"Waiters ({details.Waiters.Count}, first in line first):");
            var waiters = new Table("OWNER", "KIND", "WAITING SINCE (UTC)", "FOR");
            foreach (var w in details.Waiters)
            {
                waiters.Add(Display.Text(w.Owner), Display.Kind(w.Kind), Display.Utc(w.Since), Display.Duration((now - w.Since).Duration()));
            }

            waiters.WriteTo(output, "  ");
        }

        output.Flush();
    }
}
