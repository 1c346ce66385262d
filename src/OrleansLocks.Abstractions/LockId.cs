using System.Diagnostics.CodeAnalysis;

namespace OrleansLocks;

/// <summary>
/// The identity of a lock: a <see cref="Name"/> and a <see cref="Key"/>, as in Synapse's
/// <c>(lock_name, lock_key)</c>. The grain key is <c>name + ":" + key</c>, split at the
/// first <c>:</c>, so a name never contains <c>:</c> and a key may (Matrix room ids do).
/// </summary>
/// <remarks>
/// This type is the one place that formats and parses grain keys; callers never
/// assemble <c>"name:key"</c> by hand.
/// </remarks>
public readonly record struct LockId
{
    /// <summary>The longest allowed <see cref="Name"/>: 128 characters.</summary>
    public const int MaxNameLength = 128;

    /// <summary>The longest allowed <see cref="Key"/>: 1024 characters.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>The rule a lock name must follow, as quoted in error messages.</summary>
    public const string NameRule = "a lock name must be 1 to 128 characters from [A-Za-z0-9_.-]";

    /// <summary>The rule a lock key must follow, as quoted in error messages.</summary>
    public const string KeyRule = "a lock key must be 0 to 1024 characters of well-formed text: no NUL, no unpaired surrogate";

    private const char Separator = ':';

    private LockId(string name, string key)
    {
        Name = name;
        Key = key;
    }

    /// <summary>The lock's name, e.g. <c>purge_room</c>.</summary>
    public string Name { get; }

    /// <summary>The lock's key, e.g. <c>!abc:example.org</c>; may be empty.</summary>
    public string Key { get; }

    /// <summary>Creates a validated lock id.</summary>
    /// <exception cref="ArgumentException">The name or key breaks its rule; the message names the rule.</exception>
    public static LockId Create(string name, string key)
    {
        ValidateName(name, nameof(name));
        ValidateKey(key, nameof(key));
        return new LockId(name, key);
    }

    /// <summary>Parses a grain key of the form <c>name:key</c>, splitting at the first <c>:</c>.</summary>
    /// <exception cref="ArgumentException">The grain key has no <c>:</c>, or its parts break their rules.</exception>
    public static LockId Parse(string grainKey)
    {
        ArgumentNullException.ThrowIfNull(grainKey);
        var separator = grainKey.IndexOf(Separator, StringComparison.Ordinal);
        if (separator < 0)
        {
            throw new ArgumentException(
                $"A lock grain key must be \"name:key\" (split at the first ':'), but '{Shorten(grainKey)}' has no ':'.",
                nameof(grainKey));
        }

        // Checked against the caller's parameter: the name and key are parts of grainKey.
        var name = grainKey[..separator];
        var key = grainKey[(separator + 1)..];
        ValidateName(name, nameof(grainKey));
        ValidateKey(key, nameof(grainKey));
        return new LockId(name, key);
    }

    /// <summary>Parses a grain key like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? grainKey, [NotNullWhen(true)] out LockId? lockId)
    {
        lockId = null;
        if (grainKey is null)
        {
            return false;
        }

        var separator = grainKey.IndexOf(Separator, StringComparison.Ordinal);
        if (separator < 0)
        {
            return false;
        }

        var name = grainKey[..separator];
        var key = grainKey[(separator + 1)..];
        if (NameError(name) is not null || KeyError(key) is not null)
        {
            return false;
        }

        lockId = new LockId(name, key);
        return true;
    }

    /// <summary>The grain key: <c>name + ":" + key</c>.</summary>
    public string ToGrainKey() => string.Concat(Name, ":", Key);

    /// <inheritdoc/>
    public override string ToString() => ToGrainKey();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the rule when <paramref name="name"/> is not a valid lock name.</summary>
    public static void ValidateName(string? name, string paramName = "name")
    {
        var error = NameError(name);
        if (error is not null)
        {
            throw new ArgumentException($"Invalid lock name: {NameRule}; {error}.", paramName);
        }
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the rule when <paramref name="key"/> is not a valid lock key.</summary>
    public static void ValidateKey(string? key, string paramName = "key")
    {
        var error = KeyError(key);
        if (error is not null)
        {
            throw new ArgumentException($"Invalid lock key: {KeyRule}; {error}.", paramName);
        }
    }

    private static string? NameError(string? name)
    {
        if (name is null)
        {
            return "it is null";
        }

        if (name.Length == 0)
        {
            return "it is empty";
        }

        if (name.Length > MaxNameLength)
        {
            return $"it has {name.Length} characters";
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return $"'{Shorten(name)}' contains the character U+{(int)c:X4}";
            }
        }

        return null;
    }

    private static string? KeyError(string? key)
    {
        if (key is null)
        {
            return "it is null";
        }

        if (key.Length > MaxKeyLength)
        {
            return $"it has {key.Length} characters";
        }

        if (key.Contains('\0', StringComparison.Ordinal))
        {
            return "it contains NUL (U+0000)";
        }

        // Grain keys travel and are stored as UTF-8, which turns every unpaired surrogate into U+FFFD:
        // two such keys would be one lock.
        for (var i = 0; i < key.Length; i++)
        {
            if (char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(key[i]))
            {
                return $"it contains an unpaired surrogate (U+{(int)key[i]:X4}) at index {i}";
            }
        }

        return null;
    }

    private static string Shorten(string text) =>
        text.Length <= 64 ? text.Replace("\0", "\\0", StringComparison.Ordinal) : string.Concat(text.AsSpan(0, 64), "…");
}
