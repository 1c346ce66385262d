using System.CommandLine;
using OrleansLocks.Admin;

namespace OrleansLocks.Cli.Commands;

/// <summary>The options <c>list</c> and <c>watch</c> share: what to list, and how much.</summary>
internal sealed class ListFilters
{
    public Option<string> NamePrefix { get; } = new("--name-prefix")
    {
        Description = "Only locks whose name starts with this.",
        HelpName = "prefix",
    };

    public Option<string> Owner { get; } = new("--owner")
    {
        Description = "Only holds of this owner (exactly as the locks record it).",
    };

    public Option<int> PageSize { get; } = new("--page-size")
    {
        Description = $"Rows per page, 1 to {LockListQuery.MaxPageSize}.",
        HelpName = "rows",
        DefaultValueFactory = _ => 100,
    };

    public Option<bool> All { get; } = new("--all")
    {
        Description = "Follow the continuations: every page, as one result.",
    };

    public Option<bool> Waiting { get; } = new("--waiting")
    {
        Description = "Also show how many wait for each lock (asks each listed lock's live activation: one call per row).",
    };

    public ListFilters()
    {
        PageSize.Validators.Add(result =>
        {
            var size = result.GetValueOrDefault<int>();
            if (size is < 1 or > LockListQuery.MaxPageSize)
            {
                result.AddError($"Invalid --page-size: a page size must be from 1 to {LockListQuery.MaxPageSize} rows; it was {size}.");
            }
        });
    }

    public void AddTo(Command command)
    {
        command.Add(NamePrefix);
        command.Add(Owner);
        command.Add(PageSize);
        command.Add(All);
        command.Add(Waiting);
    }

    /// <summary>The first query; the owner is checked here, the prefix by the admin grain (its rule is the silo's).</summary>
    public LockListQuery Query(ParseResult parse, string? continuation)
    {
        var owner = parse.GetValue(Owner);
        if (owner is not null)
        {
            LockOwner.Validate(owner, "--owner");
        }

        return new LockListQuery(parse.GetValue(NamePrefix), owner, parse.GetValue(PageSize), continuation, parse.GetValue(Waiting));
    }

    /// <summary>One page, or with <c>--all</c> every page from <paramref name="query"/>'s continuation on.</summary>
    public async Task<LockListPage> ReadAsync(ParseResult parse, ILockAdminGrain admin, LockListQuery query, CancellationToken cancellationToken)
    {
        var page = await admin.List(query);
        if (!parse.GetValue(All))
        {
            return page;
        }

        var rows = new List<HeldLock>(page.Locks);
        while (page.Continuation is { } next)
        {
            cancellationToken.ThrowIfCancellationRequested();
            page = await admin.List(query with { Continuation = next });
            rows.AddRange(page.Locks);
        }

        return new LockListPage(rows, null);
    }
}
