using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace OrleansLocks.Tests.OperatorPage;

/// <summary>
/// Debian's headless Chromium driven through its own chromedriver (packages <c>chromium</c> and
/// <c>chromium-driver</c>): nothing is downloaded. When either is missing the test FAILS saying how to
/// install them; it never skips. <c>ORLEANSLOCKS_CHROMIUM</c> and <c>ORLEANSLOCKS_CHROMEDRIVER</c>
/// point at other binaries.
/// </summary>
internal sealed class HeadlessChromium : IDisposable
{
    public const string BrowserVariable = "ORLEANSLOCKS_CHROMIUM";
    public const string DriverVariable = "ORLEANSLOCKS_CHROMEDRIVER";

    private HeadlessChromium(ChromeDriver driver)
    {
        Driver = driver;
    }

    public ChromeDriver Driver { get; }

    public static HeadlessChromium Start()
    {
        var browser = Environment.GetEnvironmentVariable(BrowserVariable) is { Length: > 0 } b ? b : "/usr/bin/chromium";
        var driver = Environment.GetEnvironmentVariable(DriverVariable) is { Length: > 0 } d ? d : "/usr/bin/chromedriver";
        var missing = new[] { browser, driver }.Where(path => !File.Exists(path)).ToList();
        if (missing.Count > 0)
        {
            Assert.Fail(
                $"The operator page is tested in a real headless Chromium, but {string.Join(" and ", missing)} is missing. "
                + $"Install Debian's packages: `apt-get update && apt-get install -y chromium chromium-driver` (.ci/run does this when they are missing), "
                + $"or set {BrowserVariable} and {DriverVariable} to a Chromium and its matching chromedriver.");
        }

        var options = new ChromeOptions { BinaryLocation = browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1500,1100", "--lang=en-US");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new HeadlessChromium(new ChromeDriver(service, options, TimeSpan.FromSeconds(90)));
    }

    /// <summary>
    /// Polls the page until <paramref name="condition"/> holds (the page refreshes itself, so an element
    /// may be replaced between finding and reading it: that only means "not yet"), failing with
    /// <paramref name="what"/> after <paramref name="timeout"/>.
    /// </summary>
    public async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is StaleElementReferenceException or NoSuchElementException or ElementNotInteractableException)
            {
                last = ex;
            }

            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}.{(last is null ? "" : $" Last error: {last.Message}")} Page status: '{Text("status")}', error: '{Text("error")}'.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Finds and clicks an element, again if the page re-rendered it in between.</summary>
    public Task ClickAsync(Func<IWebElement> find, string what) => UntilAsync(
        () =>
        {
            find().Click();
            return true;
        },
        $"clicking {what}");

    /// <summary>The text of the element with this id, or empty when there is none.</summary>
    public string Text(string id)
    {
        try
        {
            return Driver.FindElement(By.Id(id)).Text;
        }
        catch (WebDriverException)
        {
            return string.Empty;
        }
    }

    /// <summary>Saves what the browser shows as a PNG and returns its path.</summary>
    public string Screenshot(string directory, string name)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
