using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansLocks.Grains;
using OrleansLocks.Grains.Diagnostics;
using OrleansLocks.Grains.Locking;
using OrleansLocks.Grains.Storage;
using LockGrains = OrleansLocks.Grains.Locking;

namespace OrleansLocks.Tests.Properties;

/// <summary>
/// One lock's rules as a lock grain runs them, without a cluster: the real <see cref="LockLedger"/>
/// (which serves the line in every write), <see cref="LeaseBook"/> and <see cref="WaiterLine"/> over
/// a store in memory, driven the way LeaseGrain drives them (each operation mirrors its method), on
/// a clock that only the steps move. Beside it, a model of what the callers were told, and after
/// every step the invariants users rely on are checked against both (<see cref="LockRuleViolation"/>
/// when one breaks).
/// </summary>
internal sealed class LockRulesDriver : ILockLedgerOwner
{
    /// <summary>How long a grant or renewal lasts here.</summary>
    public const long LeaseMs = 30_000;

    /// <summary>How long a silent waiter or an unconfirmed grant is kept here.</summary>
    public const long WaiterTimeoutMs = 10_000;

    /// <summary>How many waiter ids (w0..) and attempt ids (a0..) the steps pick from.</summary>
    public const int IdPool = 6;

    /// <summary>
    /// The most waiters in line here: more than the pool of ids, because it is also how many departed
    /// ids a line remembers, and the model expects every departure to be remembered for its time.
    /// (A full line has its own tests in WaiterLineTests.)
    /// </summary>
    public const int MaxWaiters = IdPool + 1;

    private static readonly LockId Id = LockId.Parse("prop:lock");

    // One per process: the ledger reads only its option values and its instruments from it.
    private static readonly LockGrainSettings Settings = CreateSettings();

    private readonly LockShape _shape;
    private readonly Func<LockState, LockKind, long, bool, bool> _canGrantNow;
    private readonly MemoryLockStore _store = new();
    private readonly LockLedger _ledger;

    // Every token the lock issued, in order (steps pick from them), with what was last known of each.
    private readonly List<string> _tokens = [];
    private readonly Dictionary<string, LockHolder> _issued = new(StringComparer.Ordinal);

    // Tokens that were released, expired, forced out or taken back: they never hold again.
    private readonly HashSet<string> _dead = new(StringComparer.Ordinal);

    // What callers were told they hold (a TryAcquire answer, a confirmed grant), by token, with the expiry they were told.
    private readonly Dictionary<string, (LockKind Kind, long ExpiresAt)> _believed = new(StringComparer.Ordinal);

    // The model of the line: who waits in which order (and when each last called), who left and when.
    private readonly List<(string Id, LockKind Kind, long LastSeenAt)> _waiting = [];
    private readonly Dictionary<string, (LockKind Kind, string Token, long ConfirmBy)> _unconfirmed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _leftAt = new(StringComparer.Ordinal);

    private long _now = 1_700_000_000_000;
    private long _noGrantsBefore;
    private long _highestFencingToken;
    private int _step;

    /// <summary>How many may hold a semaphore at once here (every caller gives this count).</summary>
    public const int SemaphoreCount = 3;

    /// <summary>A driver of a plain lock, a read/write lock or a semaphore.</summary>
    /// <param name="shape">Which kind of lock, and so which holds it takes.</param>
    /// <param name="canGrantNow">The rule TryAcquire uses (state, kind, now, anyone waiting); <see cref="LeaseBook.CanGrantNow"/> unless a test plants a broken copy.</param>
    public LockRulesDriver(LockShape shape, Func<LockState, LockKind, long, bool, bool>? canGrantNow = null)
    {
        _shape = shape;
        _canGrantNow = canGrantNow ?? LeaseBook.CanGrantNow;
        _ledger = new LockLedger(_store, Settings, NullLogger.Instance, this);
        Run(_ledger.LoadAsync(Id));
    }

    LockKind ILockLedgerOwner.WriterKind => _shape == LockShape.ReadWrite ? LockKind.Write : LockKind.Plain;

    LockKind ILockLedgerOwner.SharedKind => _shape == LockShape.Semaphore ? LockKind.Semaphore : LockKind.Read;

    /// <summary>The kinds of hold a lock of <paramref name="shape"/> takes.</summary>
    public static LockKind[] KindsOf(LockShape shape) => shape switch
    {
        LockShape.ReadWrite => [LockKind.Read, LockKind.Write, LockKind.UpgradeableRead],
        LockShape.Semaphore => [LockKind.Semaphore],
        _ => [LockKind.Plain],
    };

    /// <summary>Runs every step, checking the invariants after each; throws <see cref="LockRuleViolation"/> at the first broken one.</summary>
    public static void RunAll(LockShape shape, IReadOnlyList<LockStep> steps, Func<LockState, LockKind, long, bool, bool>? canGrantNow = null)
    {
        var driver = new LockRulesDriver(shape, canGrantNow);
        foreach (var step in steps)
        {
            driver.Apply(step);
        }
    }

    /// <summary>Applies one step as the grain would, then checks every invariant.</summary>
    public void Apply(LockStep step)
    {
        _step++;
        var before = _ledger.Current.Holders.Select(h => h.Token).ToHashSet(StringComparer.Ordinal);
        switch (step.Step)
        {
            case LockStepKind.TryAcquire:
                TryAcquire(step.Kind, step.Id < 0 ? null : $"a{step.Id}");
                break;
            case LockStepKind.Wait:
                Wait($"w{step.Id}", step.Kind);
                break;
            case LockStepKind.Confirm:
                Confirm(PickToken(step.TokenPick));
                break;
            case LockStepKind.Release:
                Release(PickToken(step.TokenPick));
                break;
            case LockStepKind.Renew:
                Renew(PickToken(step.TokenPick));
                break;
            case LockStepKind.IsStillValid:
                IsStillValid(PickToken(step.TokenPick));
                break;
            case LockStepKind.StopWaiting:
                StopWaiting($"w{step.Id}");
                break;
            case LockStepKind.Due:
                Due();
                break;
            case LockStepKind.ForceOut:
                ForceOut(PickToken(step.TokenPick), step.Amount);
                break;
            case LockStepKind.TryUpgrade:
                TryUpgrade(PickToken(step.TokenPick));
                break;
            case LockStepKind.Advance:
                _now += step.Amount;
                break;
            case LockStepKind.AdvanceToExpiry:
                var next = _ledger.Current.Holders.Where(h => h.IsLiveAt(_now)).Select(h => (long?)h.ExpiresAt).Min();
                _now = Math.Max(_now, (next ?? _now) + step.Amount);
                break;
        }

        CheckNewHolders(before);
        CheckInvariants();
    }

    void ILockLedgerOwner.OnLedgerChanged()
    {
    }

    // The store never fails here (storage failures have their own tests); a failure would be a bug in this driver.
    void ILockLedgerOwner.OnLedgerWriteFailed() => throw new InvalidOperationException("The in-memory store failed.");

    private static LockGrainSettings CreateSettings()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var time = TimeProvider.System;
        return new LockGrainSettings(
            new ExpirySchedule(time, _ => Task.CompletedTask, NullLogger<ExpirySchedule>.Instance),
            Options.Create(new LockLeaseOptions { LeaseTimeout = TimeSpan.FromMilliseconds(LeaseMs) }),
            Options.Create(new LockStorageOptions()),
            Options.Create(new LockWaitOptions { MaxWaiters = MaxWaiters, WaiterTimeout = TimeSpan.FromMilliseconds(WaiterTimeoutMs) }),
            time,
            new OpenWaitRegistry(),
            new LockSiloInstruments(services.GetRequiredService<IMeterFactory>(), time));
    }

    // Every store call completes at once (the store is in memory); a fault surfaces here.
    private static void Run(Task task) => task.GetAwaiter().GetResult();

    private static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private string PickToken(int pick) => pick < _tokens.Count ? _tokens[pick] : LockToken.New();

    private LockState State => _ledger.Current;

    private WaiterLine? Line => _ledger.Line;

    private void TryAcquire(LockKind kind, string? attemptId)
    {
        // LeaseGrain.TryAcquireAsync.
        if (attemptId is not null && LeaseBook.FindLiveByAcquireId(State, attemptId, _now) is { } mine)
        {
            Believe(mine, KindOf(mine));
            return;
        }

        if (kind == LockKind.Semaphore)
        {
            // Every caller gives the same count here, so the agreement never refuses.
            LockGrains.SemaphoreCount.Agree(State, SemaphoreCount, _now, (Line?.Count ?? 0) > 0, Id);
        }

        if (!_canGrantNow(State, kind, _now, (Line?.Count ?? 0) > 0))
        {
            return;
        }

        var book = _ledger.Open(Id, _now);
        var holder = book.Grant(kind, "owner", attemptId, _now);
        Run(_ledger.CommitAsync(book, "acquire", Id, _now));
        Believe(holder, kind);
    }

    private void Wait(string waiterId, LockKind kind)
    {
        // A grant that ran out before its waiter confirmed it is forgotten by the line at the lock's next
        // change, not at once (until then a Wait is answered with it, and ConfirmGrant says it is over).
        // When that change came is the one thing the model reads from the line itself: it decides no grant.
        if (_unconfirmed.TryGetValue(waiterId, out var ranOut) && _dead.Contains(ranOut.Token)
            && !(Line is { } line && line.TryGet(waiterId, out var known) && known.Grant?.Token == ranOut.Token))
        {
            _unconfirmed.Remove(waiterId);
        }

        // What the model expects of the call, decided before it runs.
        var left = _leftAt.TryGetValue(waiterId, out var leftAt) && _now - leftAt < WaiterLine.DepartedMemoryMs;
        var waiting = _waiting.FindIndex(w => w.Id == waiterId);
        var otherKind = (waiting >= 0 && _waiting[waiting].Kind != kind) || (_unconfirmed.TryGetValue(waiterId, out var grant) && grant.Kind != kind);
        var joins = !left && waiting < 0 && !_unconfirmed.ContainsKey(waiterId) && LeaseBook.FindLiveByAcquireId(State, waiterId, _now) is null;

        // LeaseGrain.Wait: join (or find the grant), open the call; the call then ends "not yet" at once here.
        Exception? refused = null;
        try
        {
            if (kind == LockKind.Semaphore)
            {
                LockGrains.SemaphoreCount.Agree(State, SemaphoreCount, _now, (Line?.Count ?? 0) > 0, Id);
            }

            var (_, waiter) = Run(_ledger.JoinAsync(Id, _now, waiterId, kind, "owner"));
            if (waiter is not null)
            {
                var call = _ledger.OpenLine().OpenCall(waiter, _now);
                _ledger.Line!.EndCall(waiterId, call, _now);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            refused = ex;
        }

        if (left)
        {
            Expect(refused is InvalidOperationException, $"a Wait of {waiterId}, which left the line, was not refused");
            return;
        }

        if (otherKind)
        {
            Expect(refused is ArgumentException, $"a Wait of {waiterId} for another kind than it waits for was not refused");
            return;
        }

        Expect(refused is null, $"a Wait of {waiterId} was refused: {refused?.Message}");
        if (waiting >= 0)
        {
            _waiting[waiting] = (waiterId, kind, _now);
        }
        else if (joins)
        {
            _waiting.Add((waiterId, kind, _now));
        }
    }

    private void TryUpgrade(string token)
    {
        // LeaseGrain.TryUpgradeAsync.
        if (LeaseBook.FindUpgraded(State, token, _now) is not null)
        {
            return;
        }

        var upgradeable = LeaseBook.FindByToken(State, token) is { Upgradeable: true } holder && holder.IsLiveAt(_now);
        var refused = Record.Exception(() => LockLedger.EnsureUpgradeable(State, token, _now, Id));
        Expect(upgradeable ? refused is null : refused is InvalidOperationException, "TryUpgrade of a token that holds no upgradeable read was not refused");
        if (!upgradeable || !LeaseBook.CanUpgrade(State, token, _now))
        {
            return;
        }

        Expect(!_dead.Contains(token), "a token that is over was upgraded");
        var book = _ledger.Open(Id, _now);
        var writer = book.Upgrade(token, upgradeId: null, _now)!;
        Run(_ledger.CommitAsync(book, "upgrade", Id, _now));
        Believe(writer, LockKind.Write);
    }

    private void Confirm(string token)
    {
        // LeaseGrain.ConfirmGrant.
        Line?.ForgetUnconfirmed(token);
        var holds = LeaseBook.FindByToken(State, token) is { } holder && holder.IsLiveAt(_now);
        Expect(!holds || !_dead.Contains(token), "ConfirmGrant said a token that is over still holds");
        foreach (var (id, grant) in _unconfirmed.Where(p => p.Value.Token == token).ToList())
        {
            _unconfirmed.Remove(id);
            if (holds)
            {
                Believe(LeaseBook.FindByToken(State, token)!, grant.Kind);
            }
        }
    }

    private void Release(string token)
    {
        // LeaseGrain.Release.
        if (LeaseBook.FindByToken(State, token) is null)
        {
            return;
        }

        Line?.ForgetUnconfirmed(token);
        var book = _ledger.Open(Id, _now);
        book.Remove(token);
        Run(_ledger.CommitAsync(book, "release", Id, _now));
        Kill(token);
    }

    private void Renew(string token)
    {
        // LeaseGrain.Renew.
        var wasDead = _dead.Contains(token) || (_issued.TryGetValue(token, out var known) && known.ExpiresAt <= _now);
        if (LeaseBook.FindByToken(State, token) is not { } holder || !holder.IsLiveAt(_now))
        {
            return;
        }

        Expect(!wasDead, "a token that was released or expired renewed");
        Line?.ForgetUnconfirmed(token);
        var book = _ledger.Open(Id, _now);
        var renewed = book.Renew(token, _now)!;
        Run(_ledger.CommitAsync(book, "renew", Id, _now));
        foreach (var id in _unconfirmed.Where(p => p.Value.Token == token).Select(p => p.Key).ToList())
        {
            _unconfirmed.Remove(id);
        }

        // A renewal's answer tells its caller it holds, confirmed or not.
        _believed[token] = (KindOf(renewed), renewed.ExpiresAt);
    }

    private void IsStillValid(string token)
    {
        var valid = LeaseBook.FindByToken(State, token) is { } holder && holder.IsLiveAt(_now);
        Expect(!valid || !_dead.Contains(token), "IsStillValid said a token that is over is valid");
        if (_believed.TryGetValue(token, out var believed) && believed.ExpiresAt > _now)
        {
            Expect(valid, "IsStillValid said a lease its holder was told it holds is not valid");
        }
    }

    private void StopWaiting(string waiterId)
    {
        // LeaseGrain.StopWaiting.
        _ledger.OpenLine().Leave(waiterId, _now);
        var book = _ledger.Open(Id, _now);
        if (LeaseBook.FindLiveByAcquireId(book.Next, waiterId, _now) is { } holder)
        {
            book.Remove(holder.Token);
            Kill(holder.Token);
        }

        Run(_ledger.CommitIfChangedAsync(book, "release", Id, _now));
        _waiting.RemoveAll(w => w.Id == waiterId);
        _unconfirmed.Remove(waiterId);
        _leftAt[waiterId] = _now;
    }

    private void Due()
    {
        // LeaseGrain.OnDue. The model reaps first, the same rule: nothing heard of a waiter for the waiter timeout.
        _waiting.RemoveAll(w => w.LastSeenAt + WaiterTimeoutMs <= _now);
        foreach (var (_, grant) in _unconfirmed.Where(p => p.Value.ConfirmBy <= _now).ToList())
        {
            Kill(grant.Token);
        }

        Line?.ReapSilent(_now);
        var book = _ledger.Open(Id, _now);
        foreach (var grant in Line?.TakeBackUnconfirmed(_now) ?? [])
        {
            Expect(_dead.Contains(grant.Token), "a grant that its waiter had confirmed, or that was not due yet, was taken back");
            book.Remove(grant.Token);
        }

        Run(_ledger.CommitIfChangedAsync(book, "expire", Id, _now));
    }

    private void ForceOut(string token, long noGrantsForMs)
    {
        // LeaseGrain.ForceOut, choosing the holder of one token.
        var book = _ledger.Open(Id, _now);
        var (_, removed) = book.ForceOut(h => h.Token == token, fencingToken: null, until: _now + noGrantsForMs);
        if (removed.Count == 0)
        {
            Run(_ledger.CommitIfChangedAsync(book, "expire", Id, _now));
            return;
        }

        foreach (var holder in removed)
        {
            Line?.ForgetUnconfirmed(holder.Token);
            Kill(holder.Token);
        }

        Run(_ledger.CommitAsync(book, "force-release", Id, _now));
        _noGrantsBefore = Math.Max(_noGrantsBefore, _now + noGrantsForMs);
    }

    private void Believe(LockHolder holder, LockKind kind)
    {
        Expect(!_dead.Contains(holder.Token), "a caller was told it holds a lease that is over");
        _believed[holder.Token] = (kind, holder.ExpiresAt);
    }

    private void Kill(string token)
    {
        _dead.Add(token);
        _believed.Remove(token);
        foreach (var id in _unconfirmed.Where(p => p.Value.Token == token).Select(p => p.Key).ToList())
        {
            _unconfirmed.Remove(id);
        }
    }

    // The kind a holder holds: a reader is listed among the readers, the writer is the lock's exclusive kind.
    private LockKind KindOf(LockHolder holder) => _shape switch
    {
        LockShape.Plain => LockKind.Plain,
        LockShape.Semaphore => LockKind.Semaphore,
        _ => State.Readers?.Find(r => r.Token == holder.Token) is { } reader ? (reader.Upgradeable ? LockKind.UpgradeableRead : LockKind.Read) : LockKind.Write,
    };

    /// <summary>The holders this step added: each has a higher fencing token than any before, and a waiter's was served in line order.</summary>
    private void CheckNewHolders(HashSet<string> before)
    {
        foreach (var holder in State.Holders.Where(h => !before.Contains(h.Token) && !_issued.ContainsKey(h.Token)).OrderBy(h => h.FencingToken))
        {
            Expect(holder.FencingToken > _highestFencingToken, $"fencing token {holder.FencingToken} was issued after {_highestFencingToken}");
            Expect(_now >= _noGrantsBefore, "a grant was made during a forced release's lock-delay");
            _highestFencingToken = holder.FencingToken;
            _tokens.Add(holder.Token);
            _issued[holder.Token] = holder;
            if (holder.AcquireId is not { } id || !id.StartsWith('w'))
            {
                continue;
            }

            // A grant to a waiter: it waits in line (it did not leave, was not reaped), and nobody waits ahead of it.
            var place = _waiting.FindIndex(w => w.Id == id);
            Expect(place >= 0, $"waiter {id} was granted while not in line (left, reaped, or never joined)");
            Expect(place == 0, $"waiter {id} was granted ahead of {(place > 0 ? _waiting[0].Id : "")}, who waited before it");
            var kind = _waiting[0].Kind;
            _waiting.RemoveAt(0);
            _unconfirmed[id] = (kind, holder.Token, _now + WaiterTimeoutMs);
        }
    }

    private void CheckInvariants()
    {
        foreach (var (token, holder) in _issued.ToList())
        {
            var current = LeaseBook.FindByToken(State, token);
            if (current is null && !_dead.Contains(token) && holder.ExpiresAt > _now)
            {
                Fail($"the holder with fencing token {holder.FencingToken} vanished before its lease ended");
            }

            if (current is not null)
            {
                Expect(!_dead.Contains(token) || current.ExpiresAt <= _now, $"fencing token {holder.FencingToken} holds again after it was over");
                if (holder.Upgradeable && !current.Upgradeable)
                {
                    // An upgrade: the same token gets the lock's next fencing token, above every one issued.
                    Expect(current.FencingToken > _highestFencingToken, $"an upgrade got fencing token {current.FencingToken}, not above {_highestFencingToken}");
                    _highestFencingToken = current.FencingToken;
                }

                _issued[token] = current;
            }
            else if (holder.ExpiresAt <= _now)
            {
                _dead.Add(token);
            }
        }

        // The lock as stored: one writer at most, never beside a live reader, at most MaxReaders readers.
        var live = State.Holders.Where(h => h.IsLiveAt(_now)).ToList();
        var liveReaders = State.Readers?.Count(r => r.IsLiveAt(_now)) ?? 0;
        Expect(liveReaders <= IReadWriteLockGrain.MaxReaders, $"{liveReaders} readers hold at once");
        Expect(!(State.Writer is { } w && w.IsLiveAt(_now) && liveReaders > 0), "a writer holds beside a reader");
        Expect(_shape != LockShape.Plain || liveReaders == 0, "a plain lock has readers");
        Expect(_shape != LockShape.Semaphore || liveReaders <= SemaphoreCount, $"{liveReaders} hold a semaphore of {SemaphoreCount}");
        Expect(_shape != LockShape.Semaphore || State.Writer is null, "a semaphore has a writer");
        Expect((State.Readers?.Count(r => r.Upgradeable && r.IsLiveAt(_now)) ?? 0) <= 1, "two upgradeable readers hold at once");

        // As the callers see it: those told they hold (and whose lease has not run out) exclude each other.
        var believedLive = _believed.Where(b => b.Value.ExpiresAt > _now).ToList();
        var exclusive = believedLive.Count(b => b.Value.Kind is LockKind.Plain or LockKind.Write);
        var shared = believedLive.Count - exclusive;
        Expect(exclusive <= 1, $"{exclusive} callers hold the lock exclusively at once");
        Expect(exclusive == 0 || shared == 0, "a caller holds the lock exclusively while another shares it");
        Expect(believedLive.Count(b => b.Value.Kind == LockKind.UpgradeableRead) <= 1, "two callers hold the upgradeable read at once");
        Expect(believedLive.Count(b => b.Value.Kind == LockKind.Semaphore) <= SemaphoreCount, $"more than {SemaphoreCount} callers hold the semaphore");
        foreach (var (token, _) in believedLive)
        {
            Expect(live.Any(h => h.Token == token), "a caller was told it holds a lease the lock does not have");
        }
    }

    private void Expect(bool condition, string what)
    {
        if (!condition)
        {
            Fail(what);
        }
    }

    private void Fail(string what) => throw new LockRuleViolation($"Step {_step}: {what}.");

    /// <summary>The store of one lock, in memory; never fails.</summary>
    private sealed class MemoryLockStore : ILockStore
    {
        private LockState? _stored;

        public bool RecordExists => _stored is not null;

        public Task<LockState> ReadAsync() => Task.FromResult(_stored?.Clone() ?? new LockState());

        public Task WriteAsync(LockState next, string operation)
        {
            _stored = next.Clone();
            return Task.CompletedTask;
        }

        public Task ClearAsync()
        {
            _stored = null;
            return Task.CompletedTask;
        }
    }
}

/// <summary>An invariant of the lock rules broke (the message says which, at which step).</summary>
public sealed class LockRuleViolation(string message) : Exception(message);

/// <summary>Which kind of lock a property drives.</summary>
public enum LockShape
{
    /// <summary>A plain lock (ILockGrain): one holder.</summary>
    Plain,

    /// <summary>A read/write lock (IReadWriteLockGrain): readers, one upgradeable reader, or one writer.</summary>
    ReadWrite,

    /// <summary>A semaphore (ISemaphoreGrain) of <see cref="LockRulesDriver.SemaphoreCount"/>.</summary>
    Semaphore,
}
