using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace OrleansLocks;

/// <summary>Lock tokens: the secret capability a lease carries to renew and release.</summary>
public static class LockToken
{
    /// <summary>The longest token accepted: 128 characters (ours are 32).</summary>
    public const int MaxLength = 128;

    /// <summary>The rule a token must follow, as quoted in error messages.</summary>
    public const string Rule = "a lock token must be the non-empty token (at most 128 characters) that TryAcquire returned";

    /// <summary>A new token: 128 bits from a cryptographic RNG, as 32 lowercase hex digits.</summary>
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Throws an <see cref="ArgumentException"/> naming the rule when <paramref name="token"/> cannot be a token.</summary>
    public static void Validate(string? token, string paramName = "token")
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength)
        {
            var what = token is null ? "it is null" : token.Length == 0 ? "it is empty" : $"it has {token.Length} characters";
            throw new ArgumentException($"Invalid lock token: {Rule}; {what}.", paramName);
        }
    }

    /// <summary>Compares two tokens in constant time, so timing reveals nothing about the holder's token.</summary>
    public static bool Matches(string? held, string candidate)
    {
        if (held is null)
        {
            return false;
        }

        // Compares the UTF-16 code units as bytes: no allocation on the renew and check paths.
        return CryptographicOperations.FixedTimeEquals(
            MemoryMarshal.AsBytes(held.AsSpan()),
            MemoryMarshal.AsBytes(candidate.AsSpan()));
    }
}
