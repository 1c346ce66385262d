using OpenQA.Selenium;
using OrleansLocks.Client;
using OrleansLocks.Tests.Admin;
using Xunit.Abstractions;

namespace OrleansLocks.Tests.OperatorPage;

/// <summary>
/// The operator page (<c>/locks</c>) in a real headless Chromium against a real Silo process on
/// PostgreSQL, with locks held by real clients: what an operator does when a worker hangs.
/// Screenshots go to the test's output folder (<c>operator-page-screenshots</c>); their paths are printed.
/// </summary>
public sealed class OperatorPageBrowserTests(ITestOutputHelper output)
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "operator-page-screenshots");

    [Fact]
    public async Task AnOperator_EntersTheKey_FiltersByPrefix_OpensALock_AndForceReleasesIt_TheOldHolderLearns_AndTheRowGoes()
    {
        using var chromium = HeadlessChromium.Start();
        var browser = chromium.Driver;
        await using var silo = await AdminSilo.StartAsync("page");
        var worker = await silo.ClientAsync("page-worker");
        var waiter = await silo.ClientAsync("page-waiter");
        var run = Guid.NewGuid().ToString("N")[..8];
        var name = $"page_{run}_purge";
        const string StuckKey = "!stuck:example.org";
        const string HostileKey = "<img src=x onerror=\"document.title='pwned'\"> & <b>bold</b>";
        await using var stuck = (await worker.TryAcquireAsync(name, StuckKey))!;
        await using var hostile = (await worker.TryAcquireAsync(name, HostileKey))!;
        await using var unrelated = (await worker.TryAcquireAsync($"other_{run}", "k"))!;
        var waiting = waiter.AcquireAsync(name, StuckKey).AsTask();

        try
        {
            browser.Navigate().GoToUrl(new Uri(silo.Silo.HttpAddress, "/locks"));

            // The key is asked for once, then kept for the tab.
            await chromium.UntilAsync(() => browser.FindElement(By.Id("key-input")).Displayed, "the page asks for the admin key");
            browser.FindElement(By.Id("key-input")).SendKeys(AdminSilo.Key);
            browser.FindElement(By.Id("key-submit")).Click();
            await chromium.UntilAsync(() => browser.FindElement(By.Id("locks-section")).Displayed, "the held locks table shows");
            await chromium.UntilAsync(() => Rows(browser).Any(r => r.Name == unrelated.Id.Name), "the unfiltered table lists every held lock");

            // Filter by the name prefix: only this run's two locks of that name remain.
            browser.FindElement(By.Id("filter-prefix")).SendKeys($"page_{run}");
            browser.FindElement(By.Id("filter-submit")).Click();
            await chromium.UntilAsync(
                () => Rows(browser) is { Count: 2 } rows && rows.All(r => r.Name == name),
                "the table lists exactly the two locks of the prefix");

            // An owner that holds none of them empties the table; clearing it brings them back.
            browser.FindElement(By.Id("filter-owner")).SendKeys("someone-else");
            browser.FindElement(By.Id("filter-submit")).Click();
            await chromium.UntilAsync(
                () => Rows(browser).Count == 0 && browser.FindElement(By.Id("empty")).Displayed,
                "the owner filter leaves no row and says so");
            browser.FindElement(By.Id("filter-owner")).Clear();
            browser.FindElement(By.Id("filter-submit")).Click();
            await chromium.UntilAsync(() => Rows(browser).Count == 2, "clearing the owner filter shows the two locks again");

            // User data is shown as text, never run as markup.
            var shownKey = string.Empty;
            await chromium.UntilAsync(
                () => (shownKey = RowOf(browser, hostile).FindElement(By.CssSelector("td.key")).Text) is not null,
                "reading the hostile key's cell");
            Assert.Equal(HostileKey, shownKey);
            Assert.Empty(browser.FindElements(By.CssSelector("#locks-body img, #locks-body b")));
            Assert.NotEqual("pwned", browser.Title);

            // The lock's details: its holder and the worker waiting for it.
            await chromium.ClickAsync(() => RowOf(browser, stuck).FindElement(By.CssSelector("button.details")), "Details of the stuck lock");
            await chromium.UntilAsync(
                () => browser.FindElement(By.Id("detail-section")).Displayed
                    && browser.FindElement(By.Id("detail-key")).Text == StuckKey
                    && browser.FindElements(By.CssSelector("#waiters-body tr")).Any(w => w.GetDomAttribute("data-owner") == "page-waiter"),
                "the details show the lock with page-waiter in line (the page refreshes itself)");
            (string? Owner, string? FencingToken) shownHolder = default;
            await chromium.UntilAsync(
                () => browser.FindElements(By.CssSelector("#holders-body tr")).Single() is var holder
                    && (shownHolder = (holder.GetDomAttribute("data-owner"), holder.GetDomAttribute("data-fencing-token"))) != default,
                "reading the holder in the details");
            Assert.Equal(("page-worker", Token(stuck)), shownHolder);
            output.WriteLine($"Screenshot: {chromium.Screenshot(Screenshots, "1-filtered-with-details")}");

            // Cancelling the confirmation does nothing.
            await chromium.ClickAsync(() => browser.FindElement(By.CssSelector("#holders-body tr button.release")), "Force release in the details");
            await chromium.UntilAsync(() => browser.FindElement(By.Id("release-dialog")).Displayed, "the confirmation asks for a reason");
            browser.FindElement(By.Id("release-cancel")).Click();
            await chromium.UntilAsync(() => !browser.FindElement(By.Id("release-dialog")).Displayed, "the confirmation closes");
            Assert.True(await stuck.IsStillValidAsync());

            // Confirmed with a reason: the old holder learns it lost, and its row leaves the table.
            await chromium.ClickAsync(() => browser.FindElement(By.CssSelector("#holders-body tr button.release")), "Force release in the details");
            await chromium.UntilAsync(() => browser.FindElement(By.Id("release-dialog")).Displayed, "the confirmation asks for a reason");
            Assert.Contains($"fencing token {stuck.FencingToken}", browser.FindElement(By.Id("release-what")).Text, StringComparison.Ordinal);
            browser.FindElement(By.Id("release-reason")).SendKeys("worker hung in the browser test");
            browser.FindElement(By.Id("release-operator")).SendKeys("page-operator");
            output.WriteLine($"Screenshot: {chromium.Screenshot(Screenshots, "2-confirm-force-release")}");
            browser.FindElement(By.Id("release-confirm")).Click();

            await chromium.UntilAsync(() => stuck.HandleLostToken.IsCancellationRequested, "the old holder's HandleLostToken fired");
            await chromium.UntilAsync(
                () => !Rows(browser).Any(r => r.FencingToken == Token(stuck)),
                "the released row left the table");
            Assert.Contains($"Freed page-worker's Plain hold of {name} (fencing token {stuck.FencingToken})", chromium.Text("notice"), StringComparison.Ordinal);

            // After the lock-delay the waiter is served, and the page shows its new grant.
            await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(60));
            await chromium.UntilAsync(
                () => Rows(browser).Any(r => r.Owner == "page-waiter" && r.FencingToken == Token(next)),
                "the waiter's grant appears in the table");
            output.WriteLine($"Screenshot: {chromium.Screenshot(Screenshots, "3-after-force-release")}");

            Assert.True(await hostile.IsStillValidAsync());
            Assert.True(await unrelated.IsStillValidAsync());
            Assert.Contains("http:127.0.0.1 (page-operator)", silo.Silo.Output, StringComparison.Ordinal);
            Assert.Contains("worker hung in the browser test", silo.Silo.Output, StringComparison.Ordinal);
        }
        catch
        {
            output.WriteLine($"Screenshot at the failure: {chromium.Screenshot(Screenshots, "failure")}");
            output.WriteLine(silo.Silo.Output);
            throw;
        }
    }

    [Fact]
    public async Task AWrongKey_IsSaidPlainly_AndTheKeyIsAskedForAgain_AsIsASiloThatStoppedAnswering()
    {
        using var chromium = HeadlessChromium.Start();
        var browser = chromium.Driver;
        await using var silo = await AdminSilo.StartAsync("pagekey");

        browser.Navigate().GoToUrl(new Uri(silo.Silo.HttpAddress, "/locks"));
        await chromium.UntilAsync(() => browser.FindElement(By.Id("key-input")).Displayed, "the page asks for the admin key");
        browser.FindElement(By.Id("key-input")).SendKeys(new string('w', AdminSilo.Key.Length));
        browser.FindElement(By.Id("key-submit")).Click();

        await chromium.UntilAsync(
            () => chromium.Text("error").Contains("The admin key was refused (401 Unauthorized)", StringComparison.Ordinal),
            "the page says the key was refused");
        Assert.True(browser.FindElement(By.Id("key-input")).Displayed);
        Assert.False(browser.FindElement(By.Id("locks-section")).Displayed);
        output.WriteLine($"Screenshot: {chromium.Screenshot(Screenshots, "wrong-key")}");

        // With the right key the table shows; when the silo stops, the page says so and keeps trying.
        browser.FindElement(By.Id("key-input")).SendKeys(AdminSilo.Key);
        browser.FindElement(By.Id("key-submit")).Click();
        await chromium.UntilAsync(
            () => browser.FindElement(By.Id("locks-section")).Displayed && chromium.Text("error").Length == 0,
            "the right key shows the table and clears the error");
        Assert.Equal(0, await silo.Silo.InterruptAsync());
        await chromium.UntilAsync(
            () => chromium.Text("error").StartsWith("The silo is unreachable", StringComparison.Ordinal),
            "the page says the silo is unreachable (it refreshes every 5 s)");
        Assert.True(browser.FindElement(By.Id("locks-section")).Displayed);
        output.WriteLine($"Screenshot: {chromium.Screenshot(Screenshots, "unreachable")}");
    }

    private static string Token(LockHandle handle) => handle.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static IWebElement RowOf(IWebDriver browser, LockHandle handle) =>
        browser.FindElements(By.CssSelector("#locks-body tr")).Single(r => r.GetDomAttribute("data-fencing-token") == Token(handle));

    private static List<(string? Name, string? Owner, string? FencingToken)> Rows(IWebDriver browser) =>
        browser.FindElements(By.CssSelector("#locks-body tr"))
            .Select(r => (r.GetDomAttribute("data-name"), r.GetDomAttribute("data-owner"), r.GetDomAttribute("data-fencing-token")))
            .ToList();
}
