using System.Text.Json.Serialization;

namespace OrleansLocks.Grains;

/// <summary>
/// The persisted state of one lock: the <c>worker_locks</c> row of Synapse plus the fencing
/// counter. Stored as plain JSON (see <see cref="Storage.LockStateJsonSerializer"/>); the
/// property names are part of the stored format and of the SQL views in <c>sql/</c>, so they
/// never change. Times are milliseconds since the Unix epoch, as in Synapse.
/// </summary>
/// <remarks>
/// The writer (a plain lock's only holder) is stored flat at the top level, as the <c>worker_locks</c>
/// row is; a read/write lock's readers are the <see cref="Readers"/> array, and so are a semaphore's
/// holders (which share it as readers do), beside its <see cref="MaxCount"/>.
/// </remarks>
internal sealed class LockState
{
    // Null until a rare field is set (see RareFields).
    private RareFields? _rare;

    /// <summary>The lock name (kept in the row so the SQL views can show it).</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The lock key.</summary>
    [JsonPropertyName("key")]
    public string Key { get; set; } = "";

    /// <summary>The holder's token; null when free.</summary>
    [JsonPropertyName("token")]
    public string? Token { get; set; }

    /// <summary>The holder's owner name; null when free.</summary>
    [JsonPropertyName("owner")]
    public string? Owner { get; set; }

    /// <summary>When the current grant was made.</summary>
    [JsonPropertyName("acquiredAt")]
    public long? AcquiredAt { get; set; }

    /// <summary>When the current grant was last renewed.</summary>
    [JsonPropertyName("lastRenewedAt")]
    public long? LastRenewedAt { get; set; }

    /// <summary>When the current grant expires unless renewed.</summary>
    [JsonPropertyName("expiresAt")]
    public long? ExpiresAt { get; set; }

    /// <summary>
    /// The fencing token of the latest grant (while a writer holds, the writer's); kept while free so
    /// the next grant continues from it.
    /// </summary>
    [JsonPropertyName("fencingToken")]
    public long FencingToken { get; set; }

    /// <summary>When the lock last became free; null while held.</summary>
    [JsonPropertyName("freedAt")]
    public long? FreedAt { get; set; }

    /// <summary>The client's id for the acquire attempt that made the current grant (makes a retried acquire idempotent).</summary>
    [JsonPropertyName("acquireId")]
    public string? AcquireId { get; set; }

    /// <summary>
    /// After a forced release, until when nobody may be granted the lock (so the old holder's next
    /// renewal is refused before anyone else gets in); absent otherwise.
    /// </summary>
    [JsonPropertyName("noGrantsBefore")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? NoGrantsBefore
    {
        get => _rare?.NoGrantsBefore;
        set => Rare(value is null)?.NoGrantsBefore = value;
    }

    /// <summary>The readers of a read/write lock; absent for plain locks.</summary>
    [JsonPropertyName("readers")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<LockHolder>? Readers { get; set; }

    /// <summary>
    /// When the writer is an upgraded upgradeable reader: the fencing token of its upgradeable read, so
    /// that giving up the upgrade turns it back into that read; absent otherwise.
    /// </summary>
    [JsonPropertyName("upgradedFrom")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? UpgradedFrom
    {
        get => _rare?.UpgradedFrom;
        set => Rare(value is null)?.UpgradedFrom = value;
    }

    /// <summary>The waiter id of the wait that upgraded the writer (its StopWaiting turns the upgrade back); absent otherwise.</summary>
    [JsonPropertyName("upgradeId")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UpgradeId
    {
        get => _rare?.UpgradeId;
        set => Rare(value is null)?.UpgradeId = value;
    }

    /// <summary>
    /// A semaphore's count: set by its first holder or waiter, and replaced by the next first caller
    /// once nobody holds or waits (a semaphore's holders are the <see cref="Readers"/> array); absent for locks.
    /// </summary>
    [JsonPropertyName("maxCount")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxCount
    {
        get => _rare?.MaxCount;
        set => Rare(value is null)?.MaxCount = value;
    }

    /// <summary>The writer (a plain lock's holder), or null; a view over the flat top-level fields.</summary>
    [JsonIgnore]
    public LockHolder? Writer
    {
        get => Token is null
            ? null
            : new LockHolder(Token, Owner ?? LockOwner.Unknown, AcquiredAt ?? 0, LastRenewedAt ?? 0, ExpiresAt ?? 0, FencingToken, AcquireId);
        set
        {
            if (value?.Token != Token)
            {
                // Another holder (or none): what was recorded about an upgrade is the old writer's.
                UpgradedFrom = null;
                UpgradeId = null;
            }

            Token = value?.Token;
            Owner = value?.Owner;
            AcquiredAt = value?.AcquiredAt;
            LastRenewedAt = value?.LastRenewedAt;
            ExpiresAt = value?.ExpiresAt;
            AcquireId = value?.AcquireId;
            if (value is not null)
            {
                FencingToken = value.FencingToken;
            }
        }
    }

    /// <summary>Every holder: the writer, then the readers.</summary>
    [JsonIgnore]
    public IEnumerable<LockHolder> Holders =>
        Writer is { } writer ? [writer, .. Readers ?? []] : Readers ?? [];

    /// <summary>A copy, so a failed write can be undone by putting the copy back.</summary>
    public LockState Clone()
    {
        var copy = (LockState)MemberwiseClone();
        copy.Readers = Readers is null ? null : [.. Readers];
        copy._rare = _rare?.Clone();
        return copy;
    }

    // The rare fields' holder for a set: made on first use, except to store "absent" (null) in it,
    // which needs no holder when there is none yet.
    private RareFields? Rare(bool settingNull) => settingNull && _rare is null ? null : _rare ??= new RareFields();

    /// <summary>
    /// The fields only some locks ever use: a forced release's lock-delay, an upgrade's record, a
    /// semaphore's count. They live in one object made on first use, so the state of a plain lock (a
    /// silo may keep hundreds of thousands) pays one reference for all of them.
    /// </summary>
    private sealed class RareFields
    {
        public long? NoGrantsBefore;
        public int? MaxCount;
        public long? UpgradedFrom;
        public string? UpgradeId;

        public RareFields Clone() => (RareFields)MemberwiseClone();
    }
}
