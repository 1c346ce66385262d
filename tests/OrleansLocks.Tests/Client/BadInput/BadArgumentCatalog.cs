using System.Reflection;
using OrleansLocks.Client;
using OrleansLocks.InMemory;

namespace OrleansLocks.Tests.Client.BadInput;

/// <summary>
/// One bad argument given to one public method: which parameter, which value, and what the call must
/// throw (the exception type, and a word of the rule that its message must name).
/// </summary>
internal sealed record BadArgumentCase(string Id, MethodInfo Method, string Parameter, object? Value, Type Expected, string RuleWord);

/// <summary>
/// The public methods of the client surface, tried with bad values found by parameter name, the way
/// DistributedLock's tests try every provider. The methods are found by reflection, so a method added
/// later to <see cref="ILockProvider"/>, <see cref="LockHandle"/> or <see cref="MultiLockHandle"/>
/// (semaphores, upgradeable reads) is tried as soon as it exists; a parameter name not listed in
/// <see cref="Parameters"/> fails <c>EveryParameterOfThePublicMethods_HasValuesToTry</c> naming it:
/// that table is the one place to add it.
/// </summary>
internal static class BadArgumentCatalog
{
    /// <summary>The name every good call uses (the key is unique per case).</summary>
    public const string GoodName = "bad_input";

    /// <summary>The longest finite wait a .NET timer (and so a CancellationTokenSource) takes.</summary>
    public static readonly TimeSpan LongestTimerWait = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    // A word each rule's message carries.
    private const string TimeoutWord = "at most 49 days";
    private const string ListWord = "LockRequest";

    /// <summary>
    /// For each parameter name: a good value (given the case's unique key) and the bad values with the
    /// exception each must raise. THE PLACE FOR NEW PARAMETERS: a method another change adds (e.g.
    /// <c>TryAcquireSemaphoreAsync(name, key, maxCount, ...)</c>) needs a row only for a parameter
    /// name that is new here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, ParameterValues> Parameters = new Dictionary<string, ParameterValues>
    {
        ["name"] = new(
            _ => GoodName,
            Bad<ArgumentException>(LockId.NameRule, null, "", "a:b", "sp ace", new string('n', LockId.MaxNameLength + 1))),
        ["key"] = new(
            key => key,
            Bad<ArgumentException>(LockId.KeyRule, null, "a\0b", "lone\uD800", new string('k', LockId.MaxKeyLength + 1))),

        // Nullable (the waiting forms) or not (e.g. a handle's TryUpgradeToWriteAsync(TimeSpan timeout)):
        // the same rule. Zero as the good value, so that a call that is wrongly not refused cannot wait.
        ["timeout"] = new(
            _ => TimeSpan.Zero,
            Bad<ArgumentOutOfRangeException>(
                TimeoutWord,
                TimeSpan.FromMilliseconds(-2),
                TimeSpan.FromSeconds(-1),
                TimeSpan.MinValue,
                TimeSpan.MaxValue,
                LongestTimerWait + TimeSpan.FromMilliseconds(1),
                TimeSpan.FromDays(60))),

        // Semaphores (issue 13 item 2): the count is checked at the call as well. Its rule's words are
        // the semaphore change's to choose; "maxCount" is what any message about it names.
        ["maxCount"] = new(
            _ => 1,
            Bad<ArgumentOutOfRangeException>("maxCount", 0, -1, int.MinValue)),

        ["locks"] = new(
            key => new[] { LockRequest.Plain(GoodName, key) },
            [
                new(null, typeof(ArgumentNullException), "locks"),
                new(Array.Empty<LockRequest>(), typeof(ArgumentException), "at least one"),
                new(new[] { default(LockRequest) }, typeof(ArgumentException), ListWord),
                new(new[] { LockRequest.Plain(GoodName, "twice"), LockRequest.Plain(GoodName, "twice") }, typeof(ArgumentException), "twice"),
                new(new[] { LockRequest.Read(GoodName, "twice"), LockRequest.Write(GoodName, "twice") }, typeof(ArgumentException), "twice"),
            ]),

        // The in-memory provider's own methods.
        ["lockRequest"] = new(
            key => LockRequest.Plain(GoodName, key),
            [new(default(LockRequest), typeof(ArgumentException), ListWord)]),
        ["owner"] = new(
            _ => "someone-else",
            Bad<ArgumentException>(LockOwner.Rule, null, "", "nul\0owner", new string('o', LockOwner.MaxLength + 1))),

        // A cancelled token is no bad argument: it cancels (see the cancelled-token tests).
        ["cancellationToken"] = new(_ => CancellationToken.None, []),
    };

    /// <summary>The public methods of the provider interface and of the handles.</summary>
    public static IEnumerable<MethodInfo> ClientMethods =>
        typeof(ILockProvider).GetMethods()
            .Concat(HandleMethods(typeof(LockHandle)))
            .Concat(HandleMethods(typeof(MultiLockHandle)));

    /// <summary>The in-memory provider's methods that are not <see cref="ILockProvider"/>'s.</summary>
    public static IEnumerable<MethodInfo> InMemoryOnlyMethods =>
        typeof(InMemoryLockProvider).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.Name != nameof(ToString) && !typeof(ILockProvider).GetMethods().Any(p => p.Name == m.Name));

    public static TheoryData<string> ClientCaseIds => Ids(ClientMethods);

    public static TheoryData<string> InMemoryOnlyCaseIds => Ids(InMemoryOnlyMethods);

    /// <summary>Every <see cref="ILockProvider"/> method, by name (overloads get their parameter count).</summary>
    public static TheoryData<string> ProviderMethodIds
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var method in typeof(ILockProvider).GetMethods())
            {
                data.Add(MethodId(method));
            }

            return data;
        }
    }

    public static BadArgumentCase Case(string id) =>
        CasesOf(ClientMethods.Concat(InMemoryOnlyMethods)).Single(c => c.Id == id);

    public static MethodInfo ProviderMethod(string id) => typeof(ILockProvider).GetMethods().Single(m => MethodId(m) == id);

    /// <summary>The arguments of a good call of <paramref name="method"/> on the lock <c>(GoodName, key)</c>, with one replaced.</summary>
    public static object?[] Arguments(MethodInfo method, string key, string? replaced = null, object? value = null) =>
        [.. method.GetParameters().Select(p => p.Name == replaced ? value : Parameters[p.Name!].Good(key))];

    /// <summary>The parameters of the tried methods that have no row in <see cref="Parameters"/>.</summary>
    public static IEnumerable<string> Unlisted() =>
        ClientMethods.Concat(InMemoryOnlyMethods)
            .SelectMany(m => m.GetParameters().Select(p => (m, p)))
            .Where(x => !Parameters.ContainsKey(x.p.Name!))
            .Select(x => $"{x.m.DeclaringType!.Name}.{x.m.Name}({x.p.Name})");

    private static IEnumerable<MethodInfo> HandleMethods(Type handle) =>
        handle.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.Name is not (nameof(IAsyncDisposable.DisposeAsync) or nameof(ToString)));

    private static TheoryData<string> Ids(IEnumerable<MethodInfo> methods)
    {
        var data = new TheoryData<string>();
        foreach (var c in CasesOf(methods))
        {
            data.Add(c.Id);
        }

        return data;
    }

    private static IEnumerable<BadArgumentCase> CasesOf(IEnumerable<MethodInfo> methods) =>
        from method in methods
        from parameter in method.GetParameters()
        where Parameters.ContainsKey(parameter.Name!)
        from bad in Parameters[parameter.Name!].Bad.Select((b, i) => (b, i))
        select new BadArgumentCase(
            $"{MethodId(method)}({parameter.Name} #{bad.i}: {Describe(bad.b.Value)})",
            method,
            parameter.Name!,
            bad.b.Value,
            bad.b.Expected,
            bad.b.RuleWord);

    private static string MethodId(MethodInfo method)
    {
        var overloads = method.DeclaringType!.GetMethods().Count(m => m.Name == method.Name);
        var name = $"{method.DeclaringType.Name}.{method.Name}";
        return overloads > 1 ? $"{name}`{method.GetParameters().Length}" : name;
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => s.Length > 20 ? $"{s.Length} chars" : $"\"{s.Replace("\0", "\\0", StringComparison.Ordinal).Replace("\uD800", "\\uD800", StringComparison.Ordinal)}\"",
        LockRequest[] list => $"[{string.Join(", ", list.Select(r => r.Id.Name is null ? "default" : r.ToString()))}]",
        LockRequest r => r.Id.Name is null ? "default" : r.ToString(),
        _ => value.ToString()!,
    };

    private static BadValue[] Bad<TException>(string ruleWord, params object?[] values)
        where TException : ArgumentException =>
        [.. values.Select(v => new BadValue(v, typeof(TException), ruleWord))];
}

/// <summary>A parameter's good value (from the case's unique key) and its bad values.</summary>
internal sealed record ParameterValues(Func<string, object?> Good, BadValue[] Bad);

/// <summary>A bad value and what it must raise.</summary>
internal sealed record BadValue(object? Value, Type Expected, string RuleWord);
