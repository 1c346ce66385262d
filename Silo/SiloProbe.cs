namespace OrleansLocks.Silo;

/// <summary>
/// <c>OrleansLocks.Silo --probe &lt;url&gt;</c>: GETs one URL (e.g. the silo's own /health/ready) and
/// exits with 0 on a 2xx answer, 1 otherwise. The aspnet container image has no curl or wget, so
/// docker-compose's healthchecks run the silo's own binary this way.
/// </summary>
internal static class SiloProbe
{
    /// <summary>How long the probe waits for an answer.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The probe's exit code for <paramref name="url"/>; says why on standard error when it is not 0.</summary>
    public static async Task<int> RunAsync(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            Console.Error.WriteLine($"--probe needs an absolute http(s) URL, such as http://localhost:8080/health/ready (was '{url}').");
            return 1;
        }

        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(uri);
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                Console.WriteLine($"{(int)response.StatusCode} {body}");
                return 0;
            }

            Console.Error.WriteLine($"{uri} answered {(int)response.StatusCode}: {body}");
            return 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"{uri} did not answer: {ex.Message}");
            return 1;
        }
    }
}
