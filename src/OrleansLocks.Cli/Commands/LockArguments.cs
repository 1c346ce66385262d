using System.CommandLine;

namespace OrleansLocks.Cli.Commands;

/// <summary>The arguments and options that name one lock or one owner, and why a change is made.</summary>
internal static class LockArguments
{
    public const string KindRule = "a kind is plain, read or write, or semaphore";

    public static Argument<string> Name() => new("name") { Description = "The lock name." };

    public static Argument<string> Key() => new("key") { Description = "The lock key (\"\" for the empty key; put -- before a key that starts with '-')." };

    /// <summary><c>--kind plain|read|write|semaphore</c>; <see langword="null"/> when not given.</summary>
    public static Option<LockKind?> Kind(string description) => new("--kind")
    {
        Description = description,
        HelpName = "plain|read|write|semaphore",
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            switch (text.ToUpperInvariant())
            {
                case "PLAIN":
                    return LockKind.Plain;
                case "READ":
                    return LockKind.Read;
                case "WRITE":
                    return LockKind.Write;
                case "SEMAPHORE":
                    return LockKind.Semaphore;
                default:
                    result.AddError($"Invalid --kind '{text}': {KindRule}.");
                    return null;
            }
        },
    };

    public static Option<string> Reason() => new("--reason")
    {
        Description = "Required: why, for the silo's log (1 to 500 characters).",
        HelpName = "text",
    };

    public static Option<string> By() => new("--by")
    {
        Description = "Who asks, for the silo's log. Default: user@host of this shell.",
        HelpName = "who",
        DefaultValueFactory = _ => $"{Environment.UserName}@{Environment.MachineName}",
    };

    /// <summary>The reason, which every forced release needs before anything is sent.</summary>
    /// <exception cref="UsageException">It is missing or blank.</exception>
    public static string RequireReason(ParseResult parse, Option<string> reason) =>
        parse.GetValue(reason) is { } text && !string.IsNullOrWhiteSpace(text)
            ? text
            : throw new UsageException("Invalid reason: a reason is required (--reason <text>): every forced release is logged with who asked and why; 1 to 500 characters, not only white space.");
}
