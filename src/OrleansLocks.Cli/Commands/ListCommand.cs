using System.CommandLine;
using OrleansLocks.Admin;

namespace OrleansLocks.Cli.Commands;

/// <summary><c>orleanslocks list</c>: the held locks, newest grant first, one row per holder.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext context)
    {
        var filters = new ListFilters();
        var continuation = new Option<string>("--continuation")
        {
            Description = "Read on from the page that printed this continuation.",
            HelpName = "token",
        };
        var command = new Command("list", "List the held locks (read from storage, so locks whose activation is gone show too), newest grant first, one row per holder.");
        filters.AddTo(command);
        command.Add(continuation);
        command.SetAction((parse, ct) => context.RunAsync(parse, ct, async run =>
        {
            var query = filters.Query(parse, parse.GetValue(continuation));
            await using var connection = await run.ConnectAsync();
            var page = await filters.ReadAsync(parse, connection.Admin, query, ct);
            Print(run, page, query.IncludeWaiting);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static void Print(CommandRun run, LockListPage page, bool withWaiting)
    {
        if (run.Json)
        {
            JsonDocuments.Write(run.Output, new ListDocument([.. page.Locks.Select(JsonDocuments.Row)], page.Continuation));
            return;
        }

        if (page.Locks.Count == 0)
        {
            run.Output.WriteLine("No held locks.");
        }
        else
        {
            LockTables.Held(page.Locks, run.Time.GetUtcNow(), withWaiting).WriteTo(run.Output);
        }

        if (page.Continuation is { } next)
        {
            run.Output.WriteLine();
            run.Output.WriteLine($"More rows follow: add --continuation {next} (or --all for every page).");
        }

        run.Output.Flush();
    }
}
