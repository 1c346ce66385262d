using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace OrleansLocks.DistributedLock;

/// <summary>
/// How a DistributedLock name becomes an OrleansLocks key. A name that is already a valid key (up to
/// 1024 characters, no NUL, no unpaired surrogate) and does not contain <see cref="HashMarker"/> is
/// the key itself, so the lock is easy to find in the admin tools. Any other name becomes
/// <c>readable prefix + "#sha256:" + 64 hex digits</c>: the prefix is the name's first 64 characters
/// (NUL and unpaired surrogates shown as <c>?</c>), the digits are the SHA-256 of the name's UTF-16LE
/// code units, so the mapping never changes between versions or processes and two different names
/// never share a key (names containing the marker are always hashed, so no name used as is can look
/// like a hashed one).
/// </summary>
internal static class DistributedLockKeys
{
    /// <summary>What separates a hashed key's readable prefix from its hash.</summary>
    public const string HashMarker = "#sha256:";

    private const int PrefixLength = 64;

    public static string ToKey(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return IsUsableAsIs(name) ? name : Hashed(name);
    }

    private static bool IsUsableAsIs(string name)
    {
        if (name.Length > LockId.MaxKeyLength
            || name.Contains('\0', StringComparison.Ordinal)
            || name.Contains(HashMarker, StringComparison.Ordinal))
        {
            return false;
        }

        return FirstUnpairedSurrogate(name, 0) < 0;
    }

    private static string Hashed(string name)
    {
        // UTF-16 code units, not UTF-8: UTF-8 would turn every unpaired surrogate into U+FFFD, and two
        // names differing only there would share a hash.
        var hash = SHA256.HashData(MemoryMarshal.AsBytes(name.AsSpan()));
        var length = Math.Min(PrefixLength, name.Length);
        if (length > 0 && char.IsHighSurrogate(name[length - 1]))
        {
            length--; // keep a surrogate pair whole rather than cut it in two
        }

        var prefix = name.ToCharArray(0, length);
        for (var i = 0; i < prefix.Length; i++)
        {
            if (prefix[i] == '\0')
            {
                prefix[i] = '?';
            }
        }

        for (var i = FirstUnpairedSurrogate(prefix, 0); i >= 0; i = FirstUnpairedSurrogate(prefix, i + 1))
        {
            prefix[i] = '?';
        }

        return string.Concat(new string(prefix), HashMarker, Convert.ToHexStringLower(hash));
    }

    private static int FirstUnpairedSurrogate(ReadOnlySpan<char> text, int start)
    {
        for (var i = start; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
