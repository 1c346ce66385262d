using System.CommandLine;
using System.Globalization;
using OrleansLocks.Admin;

namespace OrleansLocks.Cli.Commands;

/// <summary>
/// <c>orleanslocks release</c> and <c>release-owner</c>: force locks free. The silo frees the holders, then
/// grants nobody for the lock-delay, so an old holder's next renewal is refused (its HandleLostToken
/// fires) before anyone else gets the lock. Exit code 2 when there was nothing to free.
/// </summary>
internal static class ReleaseCommands
{
    public static Command CreateRelease(CliContext context)
    {
        var name = LockArguments.Name();
        var key = LockArguments.Key();
        var kind = LockArguments.Kind("Which holders: plain (the plain lock's), read (the read/write lock's readers), write (its writer) or semaphore (the semaphore's holders). Default: every holder of the locks and the semaphore of that name and key.");
        var fencingToken = new Option<long?>("--fencing-token")
        {
            Description = "Free only the grant with this fencing token (from list or inspect): if the lock has moved on since, nothing is freed (exit code 2).",
            HelpName = "N",
        };
        var reason = LockArguments.Reason();
        var by = LockArguments.By();
        var command = new Command("release", "Force a lock free: its holder learns it lost at its next renewal, before anyone else is granted the lock. Needs --reason.");
        command.Add(name);
        command.Add(key);
        command.Add(kind);
        command.Add(fencingToken);
        command.Add(reason);
        command.Add(by);
        command.SetAction((parse, ct) => context.RunAsync(parse, ct, async run =>
        {
            var id = LockId.Create(parse.GetValue(name)!, parse.GetValue(key)!);
            var why = LockArguments.RequireReason(parse, reason);
            await using var connection = await run.ConnectAsync();
            var expected = parse.GetValue(fencingToken);
            var result = await connection.Admin.ForceRelease(id.Name, id.Key, parse.GetValue(kind), expected, why, parse.GetValue(by)!);
            return Print(run, result, result.Outcome switch
            {
                ForceReleaseOutcome.FencingTokenMoved =>
                    $"Nothing released: {id.Name} {Display.Text(id.Key)} is held, but no longer by fencing token {expected?.ToString(CultureInfo.InvariantCulture)} (it moved on; look again with inspect).",
                _ => $"Nothing released: {id.Name} {Display.Text(id.Key)} is not held{(parse.GetValue(kind) is { } k ? $" ({Display.Kind(k)})" : "")}.",
            });
        }));
        return command;
    }

    public static Command CreateReleaseOwner(CliContext context)
    {
        var owner = new Argument<string>("owner") { Description = "The owner, exactly as the locks record it (see list)." };
        var reason = LockArguments.Reason();
        var by = LockArguments.By();
        var command = new Command("release-owner", "Force free every lock an owner holds (a worker that died or hung), each as release does. Needs --reason.");
        command.Add(owner);
        command.Add(reason);
        command.Add(by);
        command.SetAction((parse, ct) => context.RunAsync(parse, ct, async run =>
        {
            var who = parse.GetValue(owner)!;
            LockOwner.Validate(who, "owner");
            var why = LockArguments.RequireReason(parse, reason);
            await using var connection = await run.ConnectAsync();
            var result = await connection.Admin.ReleaseOwner(who, why, parse.GetValue(by)!);
            return Print(run, result, $"Nothing released: {Display.Text(who)} holds no locks.");
        }));
        return command;
    }

    private static int Print(CommandRun run, ForceReleaseResult result, string nothingMessage)
    {
        var exitCode = result.Outcome == ForceReleaseOutcome.Released ? ExitCodes.Success : ExitCodes.NothingToDo;
        if (run.Json)
        {
            JsonDocuments.Write(run.Output, new ReleaseDocument(
                JsonDocuments.Outcome(result.Outcome),
                [.. result.Released.Select(r => new ReleasedRow(r.Name, r.Key, Display.Kind(r.Kind), r.Owner, r.FencingToken, r.NoGrantsBefore))]));
            return exitCode;
        }

        if (exitCode == ExitCodes.NothingToDo)
        {
            run.Output.WriteLine(nothingMessage);
            run.Output.Flush();
            return exitCode;
        }

        var now = run.Time.GetUtcNow();
        run.Output.WriteLine($"Released {result.Released.Count} hold{(result.Released.Count == 1 ? "" : "s")}:");
        LockTables.Released(result.Released).WriteTo(run.Output, "  ");
        var until = result.Released.Max(r => r.NoGrantsBefore);
        run.Output.WriteLine();
        run.Output.WriteLine($"Each old holder learns it lost at its next renewal; nobody else is granted these locks before {Display.Utc(until)} ({Display.Relative(until, now)}).");
        run.Output.WriteLine("Guarded resources should refuse the fencing tokens above from now on.");
        run.Output.Flush();
        return exitCode;
    }
}
