using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using OrleansLocks.Client;

namespace OrleansLocks.Tests.Client;

/// <summary>The client's one retry mechanism, without a cluster and without sleeping: pauses are recorded, not waited.</summary>
public sealed class TransientFaultPolicyTests
{
    private static readonly LockId Id = LockId.Create("retry", "k");

    [Fact]
    public void Pauses_AreSpreadBetweenHalfAndAllOfTheDoubledDelay()
    {
        var options = new LockClientOptions { RetryDelay = TimeSpan.FromMilliseconds(200), MaxRetryDelay = TimeSpan.FromSeconds(10) };
        var policy = Policy(options, new Random(42).NextDouble, []);

        for (var retry = 1; retry <= 3; retry++)
        {
            var nominal = TimeSpan.FromMilliseconds(200 << (retry - 1));
            var pauses = Enumerable.Range(0, 200).Select(_ => policy.PauseBefore(retry)).ToList();
            Assert.All(pauses, p => Assert.InRange(p, nominal / 2, nominal));

            // Clients that lost the same silo do not all call back at one instant.
            Assert.True(pauses.Distinct().Count() > 100, $"retry {retry}: only {pauses.Distinct().Count()} distinct pauses");
            Assert.True(pauses.Max() - pauses.Min() > nominal / 4, $"retry {retry}: pauses span only {pauses.Max() - pauses.Min()}");
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.999999)]
    public void Pauses_NeverExceedTheCap_HoweverManyRetriesCameBefore(double draw)
    {
        var options = new LockClientOptions { RetryDelay = TimeSpan.FromMilliseconds(300), MaxRetryDelay = TimeSpan.FromSeconds(2) };
        var policy = Policy(options, () => draw, []);

        foreach (var retry in new[] { 1, 3, 4, 5, 10, 31, 62, 63, 64, 1000, int.MaxValue })
        {
            Assert.InRange(policy.PauseBefore(retry), TimeSpan.Zero, options.MaxRetryDelay);
        }

        // Once the doubling passes the cap, the pause is the cap, jittered down by at most half.
        Assert.InRange(policy.PauseBefore(1000), options.MaxRetryDelay / 2, options.MaxRetryDelay);
    }

    [Fact]
    public async Task RunAsync_RetriesATransientFault_UpToMaxAttempts_ThenThrowsIt()
    {
        var options = new LockClientOptions { MaxAttempts = 4, RetryDelay = TimeSpan.FromMilliseconds(100), MaxRetryDelay = TimeSpan.FromMilliseconds(250) };
        var pauses = new List<TimeSpan>();
        var policy = Policy(options, () => 0.0, pauses);
        var calls = 0;

        var thrown = await Assert.ThrowsAsync<SiloUnavailableException>(() => policy.RunAsync<bool>("renew", Id, () =>
        {
            calls++;
            throw new SiloUnavailableException();
        }, CancellationToken.None));

        Assert.NotNull(thrown);
        Assert.Equal(4, calls);
        Assert.Equal([TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(250)], pauses);
    }

    [Fact]
    public async Task RunAsync_AnswersOnceACallSucceedsAfterTransientFaults()
    {
        var pauses = new List<TimeSpan>();
        var policy = Policy(new LockClientOptions(), () => 0.5, pauses);
        var calls = 0;

        var answer = await policy.RunAsync("acquire", Id, () => ++calls < 3 ? throw new LockStorageException("storage hiccup") : Task.FromResult(calls), CancellationToken.None);

        Assert.Equal(3, answer);
        Assert.Equal(2, pauses.Count);
    }

    [Theory]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(ArgumentException))]
    [InlineData(typeof(OperationCanceledException))]
    public async Task RunAsync_DoesNotRetryANonTransientError(Type errorType)
    {
        var pauses = new List<TimeSpan>();
        var policy = Policy(new LockClientOptions { MaxAttempts = 10 }, () => 0.5, pauses);
        var calls = 0;

        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => policy.RunAsync<bool>("acquire", Id, () =>
        {
            calls++;
            throw (Exception)Activator.CreateInstance(errorType)!;
        }, CancellationToken.None));

        Assert.IsType(errorType, thrown);
        Assert.Equal(1, calls);
        Assert.Empty(pauses);
    }

    [Fact]
    public async Task RunUntilStoppedAsync_RidesOutMoreFaultsThanMaxAttempts_AndReportsEach()
    {
        var pauses = new List<TimeSpan>();
        var options = new LockClientOptions { MaxAttempts = 2 };
        var policy = Policy(options, () => 0.0, pauses);
        var faults = new List<Exception>();
        var calls = 0;

        var answer = await policy.RunUntilStoppedAsync("wait", Id, () => ++calls <= 20 ? throw new TimeoutException() : Task.FromResult("granted"), faults.Add, CancellationToken.None);

        Assert.Equal("granted", answer);
        Assert.Equal(20, faults.Count);
        Assert.Equal(20, pauses.Count);
        Assert.All(pauses, p => Assert.InRange(p, TimeSpan.Zero, options.MaxRetryDelay));
        Assert.Equal(options.MaxRetryDelay, pauses[^1]);
    }

    [Fact]
    public async Task RunUntilStoppedAsync_StopsAtItsToken_WithoutReportingTheFaultThatCameWithIt()
    {
        using var stop = new CancellationTokenSource();
        var faults = new List<Exception>();
        var policy = Policy(new LockClientOptions(), () => 0.5, []);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => policy.RunUntilStoppedAsync<bool>("wait", Id, () =>
        {
            stop.Cancel();
            throw new TimeoutException();
        }, faults.Add, stop.Token));

        Assert.Empty(faults);
    }

    [Theory]
    [InlineData(100, 50, "MaxRetryDelay must be from RetryDelay")]
    [InlineData(100, 61_000, "MaxRetryDelay must be from RetryDelay")]
    public void ClientOptions_MaxRetryDelayOutOfRange_IsRefusedNamingTheRule(int retryDelayMs, int maxRetryDelayMs, string rule)
    {
        var options = new LockClientOptions
        {
            RetryDelay = TimeSpan.FromMilliseconds(retryDelayMs),
            MaxRetryDelay = TimeSpan.FromMilliseconds(maxRetryDelayMs),
        };

        var result = new LockClientOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(rule, result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("was", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientOptions_Defaults_AreValid_AndCapAboveTheFirstDelay()
    {
        var options = new LockClientOptions();
        Assert.True(new LockClientOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(options.MaxRetryDelay >= options.RetryDelay);
    }

    private static TransientFaultPolicy Policy(LockClientOptions options, Func<double> random, List<TimeSpan> pauses) =>
        new(options, NullLogger.Instance, random, (pause, ct) =>
        {
            ct.ThrowIfCancellationRequested();
            pauses.Add(pause);
            return Task.CompletedTask;
        });
}
