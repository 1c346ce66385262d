using System.Security.Cryptography;
using System.Text;

namespace OrleansLocks.Silo.Admin;

/// <summary>
/// The admin key that switches the silo's admin HTTP API and operator page on
/// (<c>OrleansLocks:Admin:ApiKey</c>), and the constant-time check of a presented key. Only a hash
/// of the key is kept; neither the key nor a presented value is ever logged or echoed.
/// </summary>
internal sealed class AdminApiKey
{
    /// <summary>The setting that holds the key (environment: <c>OrleansLocks__Admin__ApiKey</c>).</summary>
    public const string Setting = "OrleansLocks:Admin:ApiKey";

    /// <summary>The shortest key accepted: 32 characters, e.g. <c>openssl rand -base64 32</c> (44 characters).</summary>
    public const int MinLength = 32;

    /// <summary>The header that carries the key; <c>Authorization: Bearer &lt;key&gt;</c> works too.</summary>
    public const string HeaderName = "X-OrleansLocks-Admin-Key";

    private const string BearerPrefix = "Bearer ";

    private readonly byte[] _hash;

    private AdminApiKey(byte[] hash)
    {
        _hash = hash;
    }

    /// <summary>
    /// The configured key, or <see langword="null"/> when none is set (empty counts as none): the admin
    /// endpoints are then not mapped at all.
    /// </summary>
    /// <exception cref="SiloConfigurationException">The key is set but breaks its rule.</exception>
    public static AdminApiKey? FromConfiguration(IConfiguration configuration)
    {
        var key = configuration[Setting];
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        // The message names the rule and the length, never the value.
        if (key.Length < MinLength || string.IsNullOrWhiteSpace(key))
        {
            throw new SiloConfigurationException(
                $"{Setting} must be at least {MinLength} characters and not only white space (it has {key.Length}); generate one with `openssl rand -base64 32`, or leave it empty to keep the admin HTTP API off.");
        }

        if (key.Any(char.IsControl) || key != key.Trim())
        {
            throw new SiloConfigurationException(
                $"{Setting} must not start or end with white space nor contain control characters (HTTP headers cannot carry them); generate one with `openssl rand -base64 32`.");
        }

        return new AdminApiKey(Hash(key));
    }

    /// <summary>
    /// Whether the request carries the key, in <see cref="HeaderName"/> or as a bearer token. Both
    /// sides are hashed to the same length first and compared with
    /// <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither the time taken nor a length
    /// tells anything about the key.
    /// </summary>
    public bool IsPresentedBy(HttpRequest request)
    {
        var presented = Presented(request);
        var matches = CryptographicOperations.FixedTimeEquals(Hash(presented ?? string.Empty), _hash);
        return presented is not null && matches;
    }

    private static string? Presented(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header))
        {
            return header.Count == 1 ? header[0] : null;
        }

        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value && value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return value[BearerPrefix.Length..].Trim();
        }

        return null;
    }

    private static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
