using CsCheck;
using OrleansLocks.Grains;
using OrleansLocks.Tests.Infrastructure;

namespace OrleansLocks.Tests.Properties;

/// <summary>
/// Property-based tests through the grain interfaces (<see cref="ILockGrain"/>,
/// <see cref="IReadWriteLockGrain"/>, <see cref="ISemaphoreGrain"/>, <see cref="ILeaseGrain"/>) on a real test cluster: CsCheck
/// generates sequences of calls with real, never-issued and malformed tokens and ids, and the
/// invariants are checked from the answers alone, as callers see them. Each sequence runs on a lock
/// of its own; the silo clock moves only by the steps (and by the poll interval, to end a wait that
/// is not granted). A failure is shrunk to a short sequence and printed with its seed.
/// </summary>
public abstract class LockGrainPropertyTests(LockCluster cluster)
{
    // Waits that are not granted end "not yet" after the poll interval on the silo clock (LockWaitOptions' default).
    private static readonly TimeSpan PollInterval = new LockWaitOptions().PollInterval;

    // What a malformed argument looks like: each breaks the token rule or the id rule in its own way.
    private static readonly string?[] MalformedTokens = ["", null, new string('a', LockToken.MaxLength + 1)];
    private static readonly string?[] MalformedIds = ["", null, "has space", "é", new string('w', 65), "w:1"];

    /// <summary>How many sequences each property runs here (the environment variable raises it).</summary>
    protected abstract long CiIterations { get; }

    [Fact]
    public Task RandomCallsOnAPlainLock_NeverShowTwoHoldersOrAShrinkingFencingToken() =>
        Steps(readWrite: false).SampleAsync(steps => RunAsync(false, steps), iter: LockRulesPropertyTests.Iterations(CiIterations), threads: 1, print: LockRulesPropertyTests.Print);

    [Fact]
    public Task RandomCallsOnAReadWriteLock_NeverShowAWriterBesideAnotherHolder() =>
        Steps(readWrite: true).SampleAsync(steps => RunAsync(true, steps), iter: LockRulesPropertyTests.Iterations(CiIterations), threads: 1, print: LockRulesPropertyTests.Print);

    [Fact]
    public Task RandomCallsOnASemaphore_NeverShowMoreHoldersThanItsCount() =>
        Steps(readWrite: false, semaphore: true).SampleAsync(steps => RunAsync(false, steps, semaphore: true), iter: LockRulesPropertyTests.Iterations(CiIterations), threads: 1, print: LockRulesPropertyTests.Print);

    /// <summary>Sequences of grain calls (the rule steps that need an operator or the due call are left to the schedule).</summary>
    private static Gen<LockStep[]> Steps(bool readWrite, bool semaphore = false)
    {
        var kind = Gen.OneOf(LockRulesDriver.KindsOf(semaphore ? LockShape.Semaphore : readWrite ? LockShape.ReadWrite : LockShape.Plain));
        var id = Gen.Int[0, 3];
        var token = Gen.Int[0, 12];
        var step = Gen.Frequency(
            (6, Gen.Select(kind, Gen.Int[-1, 3], (k, a) => new LockStep(LockStepKind.TryAcquire, k, a, 0, 0))),
            (4, Gen.Select(kind, id, (k, w) => new LockStep(LockStepKind.Wait, k, w, 0, 0))),
            (3, token.Select(t => new LockStep(LockStepKind.Confirm, default, 0, t, 0))),
            (4, token.Select(t => new LockStep(LockStepKind.Release, default, 0, t, 0))),
            (3, token.Select(t => new LockStep(LockStepKind.Renew, default, 0, t, 0))),
            (2, token.Select(t => new LockStep(LockStepKind.IsStillValid, default, 0, t, 0))),
            (2, id.Select(w => new LockStep(LockStepKind.StopWaiting, default, w, 0, 0))),
            (readWrite ? 2 : 0, token.Select(t => new LockStep(LockStepKind.TryUpgrade, default, 0, t, 0))),
            (3, Gen.Long[1, 150_000].Select(ms => new LockStep(LockStepKind.Advance, default, 0, 0, ms))),
            (3, Gen.Select(Gen.Int[0, 6], Gen.Int[0, MalformedIds.Length - 1], (op, bad) => new LockStep(LockStepKind.Malformed, default, op, bad, 0))));
        return step.Array[1, 20];
    }

    private async Task RunAsync(bool readWrite, LockStep[] steps, bool semaphore = false)
    {
        var run = new GrainRun(cluster, readWrite, semaphore);
        try
        {
            for (var i = 0; i < steps.Length; i++)
            {
                await run.ApplyAsync(steps[i], i + 1);
            }
        }
        finally
        {
            await run.CleanUpAsync();
        }
    }

    /// <summary>One sequence on one fresh lock, with what the callers were told.</summary>
    private sealed class GrainRun(LockCluster cluster, bool readWrite, bool semaphore)
    {
        // Every caller of the semaphore gives this count.
        private const int Permits = LockRulesDriver.SemaphoreCount;

        private readonly LockId _id = LockId.Create("prop", $"!{Guid.NewGuid():N}:example.org");
        private readonly List<string> _tokens = [];
        private readonly Dictionary<string, (LockLease Lease, LockKind Kind)> _seen = new(StringComparer.Ordinal);

        // Each grant as first seen (an upgrade later gives its token a new fencing token, not a new grant time).
        private readonly Dictionary<string, LockLease> _firstSeen = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (LockKind Kind, DateTimeOffset ExpiresAt)> _believed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _grantOfWaiter = new(StringComparer.Ordinal);
        private readonly HashSet<string> _dead = new(StringComparer.Ordinal);
        private readonly HashSet<string> _waiters = new(StringComparer.Ordinal);
        private int _step;

        private ILeaseGrain Lease => semaphore ? cluster.Grains.GetGrain<ISemaphoreGrain>(_id.ToGrainKey())
            : readWrite ? cluster.Grains.GetGrain<IReadWriteLockGrain>(_id.ToGrainKey())
            : cluster.Grains.GetGrain<ILockGrain>(_id.ToGrainKey());

        private DateTimeOffset Now => cluster.SiloClock.GetUtcNow();

        public async Task ApplyAsync(LockStep step, int number)
        {
            _step = number;
            switch (step.Step)
            {
                case LockStepKind.TryAcquire:
                    var attempt = step.Id < 0 ? null : $"a{step.Id}";
                    var lease = step.Kind switch
                    {
                        LockKind.Read => await ((IReadWriteLockGrain)Lease).TryAcquireRead("prop", attempt),
                        LockKind.UpgradeableRead => await ((IReadWriteLockGrain)Lease).TryAcquireUpgradeableRead("prop", attempt),
                        LockKind.Write => await ((IReadWriteLockGrain)Lease).TryAcquireWrite("prop", attempt),
                        LockKind.Semaphore => await ((ISemaphoreGrain)Lease).TryAcquire(Permits, "prop", attempt),
                        _ => await ((ILockGrain)Lease).TryAcquire("prop", attempt),
                    };
                    if (lease is not null)
                    {
                        Saw(lease, step.Kind);
                        Believe(lease.Token);
                    }

                    break;
                case LockStepKind.Wait:
                    var waiterId = $"w{step.Id}";
                    _waiters.Add(waiterId);
                    try
                    {
                        var call = semaphore ? ((ISemaphoreGrain)Lease).WaitForPermit(waiterId, Permits, "prop") : Lease.Wait(waiterId, step.Kind, "prop");
                        if (await EndWaitAsync(call) is { } granted)
                        {
                            Saw(granted, step.Kind);
                            _grantOfWaiter[waiterId] = granted.Token;
                        }
                    }
                    catch (InvalidOperationException)
                    {
                        // The waiter left (StopWaiting): it cannot come back, which is the rule.
                    }
                    catch (ArgumentException)
                    {
                        // The waiter id already waits for another kind, which is refused by rule.
                    }

                    break;
                case LockStepKind.Confirm:
                    var toConfirm = Pick(step.TokenPick);
                    var confirmed = await Lease.ConfirmGrant(toConfirm);
                    Expect(!confirmed || !IsOver(toConfirm), "ConfirmGrant said a token that is over holds");
                    if (confirmed && _seen.ContainsKey(toConfirm))
                    {
                        Believe(toConfirm);
                    }

                    break;
                case LockStepKind.Release:
                    var toRelease = Pick(step.TokenPick);
                    if (await Lease.Release(toRelease))
                    {
                        Kill(toRelease);
                    }

                    break;
                case LockStepKind.Renew:
                    var toRenew = Pick(step.TokenPick);
                    var wasOver = IsOver(toRenew);
                    var stillHeld = _believed.TryGetValue(toRenew, out var b) && b.ExpiresAt > Now;
                    var renewed = await Lease.Renew(toRenew);
                    Expect(renewed is null || !wasOver, "a token that was released or ran out renewed");
                    Expect(renewed is not null || !stillHeld, "a holder whose lease had not run out could not renew");
                    if (renewed is not null)
                    {
                        Saw(renewed, _seen.TryGetValue(toRenew, out var s) ? s.Kind : LockKind.Plain);
                        Believe(toRenew);
                    }

                    break;
                case LockStepKind.IsStillValid:
                    var toCheck = Pick(step.TokenPick);
                    var valid = await Lease.IsStillValid(toCheck);
                    Expect(!valid || !IsOver(toCheck), "IsStillValid said a token that is over is valid");
                    Expect(valid || !(_believed.TryGetValue(toCheck, out var held) && held.ExpiresAt > Now), "IsStillValid said a live holder is not valid");
                    break;
                case LockStepKind.StopWaiting:
                    var leaving = $"w{step.Id}";
                    await Lease.StopWaiting(leaving);
                    if (_grantOfWaiter.TryGetValue(leaving, out var given))
                    {
                        // A waiter that gives up returns its grant: it holds no more.
                        Kill(given);
                    }

                    break;
                case LockStepKind.TryUpgrade:
                    var toUpgrade = Pick(step.TokenPick);
                    LockLease? upgraded = null;
                    try
                    {
                        upgraded = await ((IReadWriteLockGrain)Lease).TryUpgrade(toUpgrade);
                    }
                    catch (InvalidOperationException)
                    {
                        // Only a held upgradeable read can be upgraded: anything else is refused by rule.
                    }

                    if (upgraded is not null)
                    {
                        Expect(!IsOver(toUpgrade), "a token that is over was upgraded");
                        var highest = _firstSeen.Values.Where(l => l.Token != toUpgrade).Select(l => l.FencingToken).DefaultIfEmpty(0).Max();
                        Expect(upgraded.FencingToken > highest || _seen[toUpgrade].Kind == LockKind.Write, $"an upgrade got fencing token {upgraded.FencingToken}, not above {highest}");
                        _seen[toUpgrade] = (upgraded, LockKind.Write);
                        Believe(toUpgrade);
                    }

                    break;
                case LockStepKind.Advance:
                    cluster.Advance(TimeSpan.FromMilliseconds(step.Amount));
                    break;
                case LockStepKind.Malformed:
                    await RefusedAsync(step.Id, step.TokenPick);
                    break;
            }

            Check();
        }

        public async Task CleanUpAsync()
        {
            // Nothing of this run stays behind to hold the next one up (each run has its own lock anyway).
            foreach (var waiterId in _waiters)
            {
                await Lease.StopWaiting(waiterId);
            }

            foreach (var token in _tokens)
            {
                await Lease.Release(token);
            }
        }

        // A wait that is not granted ends "not yet" when the poll interval passes on the silo clock.
        private async Task<LockLease?> EndWaitAsync(Task<LockLease?> call)
        {
            while (await Task.WhenAny(call, Task.Delay(50)) != call)
            {
                cluster.Advance(PollInterval);
            }

            return await call;
        }

        /// <summary>A malformed argument is refused with ArgumentException (naming the rule) and changes nothing.</summary>
        private async Task RefusedAsync(int operation, int variant)
        {
            var before = await LiveHoldersAsync();
            var token = MalformedTokens[variant % MalformedTokens.Length]!;

            // A null attempt id means "no attempt id" (it is allowed); every other malformed id is refused.
            var id = operation == 6 && MalformedIds[variant] is null ? MalformedIds[0]! : MalformedIds[variant]!;
            var refusal = await Record.ExceptionAsync(() => operation switch
            {
                0 => Lease.Release(token),
                1 => Lease.Renew(token),
                2 => Lease.IsStillValid(token),
                3 => Lease.ConfirmGrant(token),
                4 => semaphore ? ((ISemaphoreGrain)Lease).WaitForPermit(id, Permits, "prop") : Lease.Wait(id, readWrite ? LockKind.Write : LockKind.Plain, "prop"),
                5 => Lease.StopWaiting(id),
                _ => semaphore ? ((ISemaphoreGrain)Lease).TryAcquire(Permits, "prop", id)
                    : readWrite ? ((IReadWriteLockGrain)Lease).TryAcquireWrite("prop", id)
                    : ((ILockGrain)Lease).TryAcquire("prop", id),
            });
            Expect(refusal is ArgumentException, $"malformed input to call {operation} was not refused with ArgumentException ({refusal?.GetType().Name ?? "accepted"})");
            Expect(refusal!.Message.Contains("must", StringComparison.Ordinal), $"the refusal does not name the rule: {refusal?.Message}");
            // Only holders whose callers were told they hold must stay: an unconfirmed grant may be taken back meanwhile.
            var after = await LiveHoldersAsync();
            var told = _believed.Keys.Select(t => _seen[t].Lease).Select(l => $"{l.FencingToken}@{l.ExpiresAt:O}");
            Expect(before.Intersect(told).All(after.Contains), "a refused call changed the lock's live holders");
        }

        // The live holders, as fencing token and expiry. The lock's due call may run in the background
        // (the clock moved), so it may add holders from the line or drop ones whose lease ran out or
        // whose grant was never confirmed, but a refused call must neither take away nor extend a holder.
        private async Task<HashSet<string>> LiveHoldersAsync()
        {
            List<LockInfo?> holders;
            if (semaphore)
            {
                holders = [.. (await ((ISemaphoreGrain)Lease).GetInfo()).Holders];
            }
            else if (readWrite)
            {
                var info = await ((IReadWriteLockGrain)Lease).GetInfo();
                holders = [info.Writer, .. info.Readers];
            }
            else
            {
                holders = [await ((ILockGrain)Lease).GetInfo()];
            }

            return holders.OfType<LockInfo>().Where(h => h.ExpiresAt > Now).Select(h => $"{h.FencingToken}@{h.ExpiresAt:O}").ToHashSet();
        }

        private string Pick(int pick) => pick < _tokens.Count ? _tokens[pick] : LockToken.New();

        private bool IsOver(string token) => _dead.Contains(token) || (_seen.TryGetValue(token, out var s) && s.Lease.ExpiresAt <= Now);

        private void Saw(LockLease lease, LockKind kind)
        {
            if (!_seen.ContainsKey(lease.Token))
            {
                // Fencing tokens only grow: a grant made later than another has a higher one (no two are equal).
                foreach (var other in _firstSeen.Values)
                {
                    Expect(other.FencingToken != lease.FencingToken, $"two grants share fencing token {lease.FencingToken}");
                    Expect(other.AcquiredAt >= lease.AcquiredAt || other.FencingToken < lease.FencingToken, $"fencing token {lease.FencingToken} was granted after {other.FencingToken}");
                    Expect(other.AcquiredAt <= lease.AcquiredAt || other.FencingToken > lease.FencingToken, $"fencing token {other.FencingToken} was granted after {lease.FencingToken}");
                }

                _tokens.Add(lease.Token);
                _firstSeen[lease.Token] = lease;
            }

            _seen[lease.Token] = (lease, _seen.TryGetValue(lease.Token, out var known) ? known.Kind : kind);
        }

        private void Believe(string token)
        {
            Expect(!_dead.Contains(token), "a caller was told it holds a lease that is over");
            var (lease, kind) = _seen[token];
            _believed[token] = (kind, lease.ExpiresAt);
        }

        private void Kill(string token)
        {
            _dead.Add(token);
            _believed.Remove(token);
        }

        private void Check()
        {
            // Never two live holders of a plain lock, never a writer beside a reader, as the callers were told.
            var live = _believed.Where(b => b.Value.ExpiresAt > Now).Select(b => b.Value.Kind).ToList();
            var exclusive = live.Count(k => k is LockKind.Plain or LockKind.Write);
            Expect(exclusive <= 1, $"{exclusive} callers hold the lock exclusively at once");
            Expect(exclusive == 0 || live.Count == 1, "a caller holds the lock exclusively while another reads");
            Expect(live.Count(k => k == LockKind.UpgradeableRead) <= 1, "two callers hold the upgradeable read at once");
            Expect(live.Count(k => k == LockKind.Semaphore) <= Permits, $"more than {Permits} callers hold the semaphore");
        }

        private void Expect(bool condition, string what)
        {
            if (!condition)
            {
                throw new LockRuleViolation($"Step {_step}: {what}.");
            }
        }
    }
}

/// <summary>The grain properties on in-memory storage.</summary>
[Collection(MemoryClusterCollection.Name)]
public sealed class LockGrainPropertyTests_Memory(MemoryClusterFixture fixture) : LockGrainPropertyTests(fixture.Cluster)
{
    /// <inheritdoc/>
    protected override long CiIterations => 40;
}

/// <summary>The grain properties on PostgreSQL (the silo's group-commit writer), fewer sequences.</summary>
[Collection(PostgresClusterCollection.Name)]
public sealed class LockGrainPropertyTests_Postgres(PostgresClusterFixture fixture) : LockGrainPropertyTests(fixture.Cluster)
{
    /// <inheritdoc/>
    protected override long CiIterations => 10;
}
