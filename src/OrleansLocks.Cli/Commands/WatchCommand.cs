using System.CommandLine;
using System.Globalization;

namespace OrleansLocks.Cli.Commands;

/// <summary><c>orleanslocks watch</c>: <c>list</c> again every few seconds until Ctrl+C (or <c>--times</c> refreshes).</summary>
internal static class WatchCommand
{
    // Moves the cursor home and clears the screen, so each refresh replaces the last one on a terminal.
    private const string ClearScreen = "\u001b[H\u001b[2J";

    public static Command Create(CliContext context)
    {
        var filters = new ListFilters();
        var interval = new Option<double>("--interval")
        {
            Description = "Seconds between refreshes.",
            HelpName = "seconds",
            DefaultValueFactory = _ => 2,
        };
        interval.Validators.Add(result =>
        {
            var seconds = result.GetValueOrDefault<double>();
            if (!(seconds >= 0.1 && seconds <= 3600))
            {
                result.AddError($"Invalid --interval: it must be from 0.1 to 3600 seconds; it was {seconds.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        var times = new Option<int?>("--times")
        {
            Description = "Stop after this many refreshes (default: until Ctrl+C).",
            HelpName = "count",
        };
        times.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("Invalid --times: it must be at least 1.");
            }
        });
        var command = new Command("watch", "Show the held locks and refresh them every --interval seconds until Ctrl+C. With --json, one document per refresh, each on its own line.");
        filters.AddTo(command);
        command.Add(interval);
        command.Add(times);
        command.SetAction((parse, ct) => context.RunAsync(parse, ct, async run =>
        {
            var query = filters.Query(parse, continuation: null);
            var period = TimeSpan.FromSeconds(parse.GetValue(interval));
            var limit = parse.GetValue(times);
            await using var connection = await run.ConnectAsync();
            try
            {
                for (var refresh = 1; ; refresh++)
                {
                    var page = await filters.ReadAsync(parse, connection.Admin, query, ct);
                    Print(run, page, query.IncludeWaiting, period);
                    if (refresh == limit)
                    {
                        return ExitCodes.Success;
                    }

                    await Task.Delay(period, run.Time, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C is how a watch ends.
                return ExitCodes.Success;
            }
        }));
        return command;
    }

    private static void Print(CommandRun run, Admin.LockListPage page, bool withWaiting, TimeSpan period)
    {
        var now = run.Time.GetUtcNow();
        if (run.Json)
        {
            JsonDocuments.Write(run.Output, new WatchDocument(now, [.. page.Locks.Select(JsonDocuments.Row)], page.Continuation));
            return;
        }

        if (run.OutputIsTerminal)
        {
            run.Output.Write(ClearScreen);
        }

        var more = page.Continuation is null ? "" : " (first page; --all for every page)";
        run.Output.WriteLine($"{Display.Utc(now)}  {page.Locks.Count} held{more}, every {Display.Duration(period)}; Ctrl+C to stop");
        if (page.Locks.Count > 0)
        {
            LockTables.Held(page.Locks, now, withWaiting).WriteTo(run.Output);
        }

        run.Output.WriteLine();
        run.Output.Flush();
    }
}
