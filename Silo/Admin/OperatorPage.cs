using System.Collections.Frozen;

namespace OrleansLocks.Silo.Admin;

/// <summary>
/// The operator page at <c>/locks</c>: plain HTML, JavaScript and CSS embedded in the Silo assembly
/// (no framework, no CDN, no build step). The page holds no data; it asks for the admin key and calls
/// the admin API with it, so the files themselves need no key.
/// </summary>
internal static class OperatorPage
{
    /// <summary>Where the page is served.</summary>
    public const string Path = "/locks";

    // The page may load only its own script and style and talk only to this silo: even a value that
    // slipped past the page's escaping could not run as script.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (string Resource, string ContentType)> Files = new Dictionary<string, (string, string)>
    {
        [Path] = ("locks.html", "text/html; charset=utf-8"),
        [Path + "/page.js"] = ("locks.js", "text/javascript; charset=utf-8"),
        [Path + "/page.css"] = ("locks.css", "text/css; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Maps the page's three files.</summary>
    public static void Map(WebApplication app)
    {
        foreach (var (path, (resource, contentType)) in Files)
        {
            var bytes = Read(resource);
            app.MapGet(path, (HttpContext http) =>
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, contentType);
            });
        }
    }

    private static byte[] Read(string file)
    {
        var name = $"OrleansLocks.Silo.Admin.Page.{file}";
        using var stream = typeof(OperatorPage).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The operator page's file {name} is not embedded in the Silo assembly (see Silo.csproj).");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
