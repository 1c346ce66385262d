-- =============================================================================
-- OrleansLocks: PostgreSQL (15+) schema                     schema version: 3
--
-- Why this is our own script and not Orleans' upstream PostgreSQL scripts
--   The Orleans ADO.NET providers ship their own PostgreSQL scripts, but the
--   lock grains need things those do not give, so this one file replaces them
--   (do not apply the upstream scripts to the same database as well):
--   * Long keys: a lock's grain key ("name:key") may be up to 1153 characters,
--     so GrainIdExtensionString and the reminders' GrainId are text, not the
--     short varchar columns upstream declares.
--   * At most one state row per grain: a unique index over the key columns with
--     NULLS NOT DISTINCT (long strings through md5), so two activations racing
--     to create a lock's row cannot both succeed; the loser gets an
--     InconsistentStateException instead of a second, diverging row.
--   * Versioned writes that are atomic: the first write is an INSERT ...
--     ON CONFLICT DO NOTHING, later ones an UPDATE guarded by the ETag
--     (orleans_storage_write), so a stale ETag writes nothing.
--   * Clear, never delete: ClearStorageKey keeps the row and bumps its version
--     (the silo sets DeleteStateOnClear = false), so a re-created row can never
--     restart at version 1 and match a stale activation's old ETag.
--   * Membership writes are checked against the table version inside one
--     function each (orleans_membership_insert / _update), undone on refusal.
--   * Operator views: orleans_locks, worker_locks and worker_read_write_locks
--     read the lock grains' JSON state like Synapse's worker_locks table, but
--     never show a holder's token (whoever has it can renew and release) or
--     acquire id (a retried acquire with it gets the lease back): only an
--     8-hex-digit fingerprint of the token (since schema version 2). Since
--     schema version 3 they include semaphores (orleans_locks, and
--     worker_semaphores with one row per holder), which the sweep reads.
--   * Safe to re-run and to run from several silos at once: IF NOT EXISTS,
--     CREATE OR REPLACE, upserts on QueryKey, one transaction behind an
--     advisory lock; the silo applies it at start-up by default.
--   * A schema version stamp (table orleanslocks_schema, at the end) that the
--     silo checks at start-up (OrleansLocks.Grains.Storage.PostgresSchema).
--
-- When Orleans is upgraded
--   Diff the upstream scripts of the old and new Orleans tag in
--   https://github.com/dotnet/orleans, under src/AdoNet/:
--     Shared/PostgreSQL-Main.sql                       -> OrleansQuery table
--     Orleans.Clustering.AdoNet/PostgreSQL-Clustering.sql (and its Migrations/)
--                                                      -> membership tables, functions and
--                                                         the *Membership*, GatewaysQueryKey and
--                                                         CleanupDefunctSilo* query texts
--     Orleans.Persistence.AdoNet/PostgreSQL-Persistence.sql
--                                                      -> OrleansStorage, orleans_storage_write and
--                                                         Read/Write/Clear/DeleteStorageKey
--     Orleans.Reminders.AdoNet/PostgreSQL-Reminders.sql (and Migrations/PostgreSQL-Reminders-*.sql)
--                                                      -> OrleansRemindersTable and the *Reminder*
--                                                         and ReadRangeRows* query texts
--   and Shared/Storage/DbStoredQueries.cs, which lists the query keys each
--   provider loads and the column names and parameters it reads and binds.
--   A new or renamed key, parameter or result column must be carried over here
--   by hand; then raise the schema version (the stamp at the end of this file
--   and PostgresSchema.ExpectedVersion together).
--
-- One script for one database. It provides what the Orleans 10.4.x ADO.NET
-- providers read at start-up and use afterwards:
--   * Microsoft.Orleans.Clustering.AdoNet   (membership table + gateway list)
--   * Microsoft.Orleans.Persistence.AdoNet  (grain state)
--   * Microsoft.Orleans.Reminders.AdoNet    (reminders)
-- and four read-only views over the state of the lock grains
-- (orleans_locks, worker_locks, worker_read_write_locks, worker_semaphores), none showing a token.
--
-- How the providers use this database
--   Each provider loads its SQL from the OrleansQuery table once, when it
--   starts, and from then on only runs those texts with named parameters
--   (@DeploymentId, @GrainIdHash, ...). Results are read by column name, so the
--   column names/aliases in the query texts below are part of the contract.
--   Changing a query text here takes effect on the next silo/client start.
--
-- Applying it
--   Safe to run again and again (IF NOT EXISTS / CREATE OR REPLACE / upserts
--   on QueryKey). It can be run with psql -f, or sent as the CommandText of a
--   single NpgsqlCommand; it runs as one transaction, serialised by an
--   advisory lock so several processes may apply it at the same time.
--   It does not migrate tables created by the upstream Orleans scripts.
--
-- Conventions
--   * Identifiers are unquoted, so PostgreSQL stores them in lower case
--     (OrleansStorage -> orleansstorage, PayloadBinary -> payloadbinary).
--   * Every timestamp column is timestamptz; the providers send UTC values.
--   * Versions / ETags are 32-bit integers, incremented by one per change.
-- =============================================================================

BEGIN;

-- Serialise concurrent appliers (the key is arbitrary but fixed for this script).
DO $lock$ BEGIN PERFORM pg_advisory_xact_lock(7311500426718590311); END $lock$;

-- -----------------------------------------------------------------------------
-- Query catalogue read by every provider: SELECT QueryKey, QueryText FROM OrleansQuery
-- -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT orleansquery_pkey PRIMARY KEY (QueryKey)
);

-- =============================================================================
-- Clustering (membership)
-- =============================================================================

-- One row per cluster (Orleans calls it DeploymentId = ClusterOptions.ClusterId).
-- Version is the membership table's optimistic-concurrency token: every insert
-- or update of a silo row must present the current value and bumps it by one.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150)   NOT NULL,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0,
    CONSTRAINT orleansmembershipversiontable_pkey PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation (address, port, generation).
-- Status values are Orleans.Runtime.SiloStatus: 1 Created, 2 Joining, 3 Active,
-- 4 ShuttingDown, 5 Stopping, 6 Dead.
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)   NOT NULL,
    Address      varchar(45)    NOT NULL,
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     varchar(150)   NOT NULL,
    HostName     varchar(150)   NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NULL,
    SuspectTimes varchar(8000)  NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    CONSTRAINT orleansmembershiptable_pkey
        PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT orleansmembershiptable_deployment_fkey
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Moves the cluster's table version on by one, only for a caller that presents the
-- current version (membership's optimistic concurrency). True when it moved.
CREATE OR REPLACE FUNCTION orleans_membership_bump(p_deployment_id text, p_table_version integer)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1,
           Timestamp = now()
     WHERE DeploymentId = p_deployment_id
       AND Version = p_table_version;
    RETURN FOUND;
END
$fn$;

-- Adds a silo row, but only for a caller that holds the current table version.
-- Returns 1 when the row was added (and the version bumped), 0 otherwise; on 0
-- nothing is changed (a duplicate row undoes the version bump).
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_silo_name      text,
    p_host_name      text,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_table_version  integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
BEGIN
    BEGIN
        IF NOT orleans_membership_bump(p_deployment_id, p_table_version) THEN
            RETURN 0;  -- stale or unknown table version
        END IF;

        INSERT INTO OrleansMembershipTable
            (DeploymentId, Address, Port, Generation, SiloName, HostName,
             Status, ProxyPort, StartTime, IAmAliveTime)
        VALUES
            (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name,
             p_status, p_proxy_port, p_start_time, p_i_am_alive);
        RETURN 1;
    EXCEPTION WHEN unique_violation THEN
        -- The silo row exists already; leaving the block rolls back the bump.
        RETURN 0;
    END;
END
$fn$;

-- Changes a silo row's status / suspicions, again only for the holder of the
-- current table version. Returns 1 on success, 0 (and no change) otherwise.
-- IAmAliveTime never moves backwards.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  text,
    p_i_am_alive     timestamptz,
    p_table_version  integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
BEGIN
    BEGIN
        IF NOT orleans_membership_bump(p_deployment_id, p_table_version) THEN
            RETURN 0;  -- stale or unknown table version
        END IF;

        UPDATE OrleansMembershipTable
           SET Status = p_status,
               SuspectTimes = p_suspect_times,
               IAmAliveTime = GREATEST(IAmAliveTime, p_i_am_alive)
         WHERE DeploymentId = p_deployment_id
           AND Address = p_address
           AND Port = p_port
           AND Generation = p_generation;
        IF NOT FOUND THEN
            -- No such silo row: undo the version bump by leaving the block.
            RAISE EXCEPTION 'membership row not found' USING ERRCODE = 'no_data_found';
        END IF;
        RETURN 1;
    EXCEPTION WHEN no_data_found THEN
        RETURN 0;
    END;
END
$fn$;

-- =============================================================================
-- Persistence (grain state)
-- =============================================================================

-- One row per (service, state name, grain key).
--   GrainTypeString        the *state name* given to [PersistentState(name, ...)]
--                          (Orleans 7+ passes the state name, not the grain type)
--   GrainIdN0/N1           Guid or integer grain keys (both 0 for string keys)
--   GrainIdExtensionString string grain key, or the key extension of Guid/integer keys
--   GrainIdHash/TypeHash   Orleans' stable 32-bit hashes of the key / state name
--   PayloadBinary          the bytes produced by the configured IGrainStorageSerializer;
--                          NULL after ClearStateAsync (unless DeleteStateOnClear)
--   Version                the ETag; +1 on every write/clear
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer       NOT NULL,
    GrainIdN0              bigint        NOT NULL,
    GrainIdN1              bigint        NOT NULL,
    GrainTypeHash          integer       NOT NULL,
    GrainTypeString        varchar(512)  NOT NULL,
    GrainIdExtensionString text          NULL,  -- a lock's grain key is up to 1153 characters
    ServiceId              varchar(150)  NOT NULL,
    PayloadBinary          bytea         NULL,
    ModifiedOn             timestamptz   NOT NULL DEFAULT now(),
    Version                integer       NULL
);

-- At most one row per grain state, even when two activations race to create it
-- (the loser gets an InconsistentStateException instead of a duplicate row).
-- Leading hash columns make it the lookup index too; the long strings are
-- indexed through md5 so that no key length can exceed the btree row limit.
CREATE UNIQUE INDEX IF NOT EXISTS orleansstorage_grain_ux
    ON OrleansStorage (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, ServiceId,
                       md5(GrainTypeString), md5(GrainIdExtensionString))
    NULLS NOT DISTINCT;

-- Versioned write. p_expected_version is the grain's ETag:
--   NULL     -> the state was never stored: insert it with version 1;
--   a number -> update only if the stored version still equals it.
-- Returns one row with the new version, or NULL when nothing was written
-- (stale ETag / row created by someone else); the provider then raises
-- InconsistentStateException.
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_grain_id_hash     integer,
    p_grain_id_n0       bigint,
    p_grain_id_n1       bigint,
    p_grain_type_hash   integer,
    p_grain_type        text,
    p_grain_key_ext     text,
    p_service_id        text,
    p_expected_version  integer,
    p_payload           bytea)
RETURNS TABLE (NewGrainStateVersion integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_expected_version IS NULL THEN
        INSERT INTO OrleansStorage
            (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
             GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
        VALUES
            (p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type,
             p_grain_key_ext, p_service_id, p_payload, now(), 1)
        ON CONFLICT DO NOTHING
        RETURNING OrleansStorage.Version INTO v_new;
    ELSE
        UPDATE OrleansStorage AS s
           SET PayloadBinary = p_payload,
               ModifiedOn = now(),
               Version = s.Version + 1
         WHERE s.GrainIdHash = p_grain_id_hash
           AND s.GrainTypeHash = p_grain_type_hash
           AND s.GrainIdN0 = p_grain_id_n0
           AND s.GrainIdN1 = p_grain_id_n1
           AND s.ServiceId = p_service_id
           AND s.GrainTypeString = p_grain_type
           AND s.GrainIdExtensionString IS NOT DISTINCT FROM p_grain_key_ext
           AND s.Version = p_expected_version
        RETURNING s.Version INTO v_new;
    END IF;

    RETURN QUERY SELECT v_new;
END
$fn$;

-- =============================================================================
-- Reminders
-- =============================================================================

-- GrainId is the textual grain id ("<grain type>/<key>"), e.g.
-- "orleanslocks.lock/purge_room:!abc:example.org"; text, for long lock keys.
-- GrainHash is the grain's uniform hash (uint) stored as a signed integer.
CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150)   NOT NULL,
    GrainId      text           NOT NULL,
    ReminderName varchar(150)   NOT NULL,
    StartTime    timestamptz(3) NOT NULL,
    Period       bigint         NOT NULL,
    GrainHash    integer        NOT NULL,
    Version      integer        NOT NULL,
    CONSTRAINT orleansreminderstable_pkey PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- Each silo reads the reminders of its hash range.
CREATE INDEX IF NOT EXISTS orleansreminderstable_hash_ix
    ON OrleansRemindersTable (ServiceId, GrainHash);

-- =============================================================================
-- The query texts
-- =============================================================================
INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
-- ---- clustering -------------------------------------------------------------
-- Creates the cluster's version row if missing. One column: 1 = created, 0 = existed.
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer AS row_count FROM created;
$q$),

-- One column: 1 = inserted, 0 = refused.
('InsertMembershipKey', $q$
SELECT orleans_membership_insert(
    @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
    @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS row_count;
$q$),

-- One column: 1 = updated, 0 = refused.
('UpdateMembershipKey', $q$
SELECT orleans_membership_update(
    @DeploymentId, @Address, @Port, @Generation,
    @Status, @SuspectTimes, @IAmAliveTime, @Version) AS row_count;
$q$),

-- Heartbeat; result is not read. Deliberately does not touch the table version.
('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembershipTable
   SET IAmAliveTime = GREATEST(IAmAliveTime, @IAmAliveTime)
 WHERE DeploymentId = @DeploymentId
   AND Address = @Address
   AND Port = @Port
   AND Generation = @Generation;
$q$),

-- The version row joined with one silo's row (silo columns NULL when absent).
('MembershipReadRowKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName,
       m.Status, m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable AS v
  LEFT JOIN OrleansMembershipTable AS m
         ON m.DeploymentId = v.DeploymentId
        AND m.Address = @Address
        AND m.Port = @Port
        AND m.Generation = @Generation
 WHERE v.DeploymentId = @DeploymentId;
$q$),

-- The version row joined with every silo row of the cluster.
('MembershipReadAllKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName,
       m.Status, m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable AS v
  LEFT JOIN OrleansMembershipTable AS m
         ON m.DeploymentId = v.DeploymentId
 WHERE v.DeploymentId = @DeploymentId;
$q$),

-- Drops a whole cluster (used by tests / tooling).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$),

-- Gateways for clients: @Status is 3 (Active); silos without a gateway have ProxyPort 0.
('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
  FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Status = @Status
   AND ProxyPort > 0;
$q$),

-- Required key. Bulk removal of silos that are Dead and silent since @IAmAliveTime.
-- 10.4.x only runs it when CleanupDefunctSiloEntryKey (below) is missing.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Status = 6
   AND IAmAliveTime < @IAmAliveTime
   AND StartTime < @IAmAliveTime;
$q$),

-- Optional key (10.4.x): removes one Dead silo row, but only if it is still exactly
-- the row the provider looked at (same start, heartbeat and suspicions).
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Address = @Address
   AND Port = @Port
   AND Generation = @Generation
   AND Status = 6
   AND StartTime = @StartTime
   AND IAmAliveTime = @IAmAliveTime
   AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
$q$),

-- ---- persistence ------------------------------------------------------------
-- Zero or one row: PayloadBinary (NULL when cleared) and Version (the ETag).
('ReadFromStorageKey', $q$
SELECT PayloadBinary, Version
  FROM OrleansStorage
 WHERE GrainIdHash = @GrainIdHash
   AND GrainTypeHash = @GrainTypeHash
   AND GrainIdN0 = @GrainIdN0
   AND GrainIdN1 = @GrainIdN1
   AND ServiceId = @ServiceId
   AND GrainTypeString = @GrainTypeString
   AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$),

-- One row, column NewGrainStateVersion: the new version, or NULL when refused.
('WriteToStorageKey', $q$
SELECT NewGrainStateVersion
  FROM orleans_storage_write(
       @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
       @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
$q$),

-- ClearStateAsync (default): keep the row, drop the payload, bump the version.
-- No row returned = stale ETag = InconsistentStateException.
('ClearStorageKey', $q$
UPDATE OrleansStorage
   SET PayloadBinary = NULL,
       ModifiedOn = now(),
       Version = Version + 1
 WHERE GrainIdHash = @GrainIdHash
   AND GrainTypeHash = @GrainTypeHash
   AND GrainIdN0 = @GrainIdN0
   AND GrainIdN1 = @GrainIdN1
   AND ServiceId = @ServiceId
   AND GrainTypeString = @GrainTypeString
   AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
   AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
$q$),

-- ClearStateAsync with AdoNetGrainStorageOptions.DeleteStateOnClear = true:
-- delete the row. The returned value only has to differ from the old ETag.
('DeleteStorageKey', $q$
DELETE FROM OrleansStorage
 WHERE GrainIdHash = @GrainIdHash
   AND GrainTypeHash = @GrainTypeHash
   AND GrainIdN0 = @GrainIdN0
   AND GrainIdN1 = @GrainIdN1
   AND ServiceId = @ServiceId
   AND GrainTypeString = @GrainTypeString
   AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
   AND Version = @GrainStateVersion
RETURNING Version + 1 AS NewGrainStateVersion;
$q$),

-- ---- reminders --------------------------------------------------------------
-- Insert or replace; returns the row's new Version (0 on first insert).
('UpsertReminderRowKey', $q$
INSERT INTO OrleansRemindersTable
    (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
   SET StartTime = EXCLUDED.StartTime,
       Period = EXCLUDED.Period,
       GrainHash = EXCLUDED.GrainHash,
       Version = OrleansRemindersTable.Version + 1
RETURNING Version;
$q$),

('ReadReminderRowsKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansRemindersTable
 WHERE ServiceId = @ServiceId
   AND GrainId = @GrainId;
$q$),

('ReadReminderRowKey', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansRemindersTable
 WHERE ServiceId = @ServiceId
   AND GrainId = @GrainId
   AND ReminderName = @ReminderName;
$q$),

-- Hash range (begin, end] when begin < end as signed integers ...
('ReadRangeRows1Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansRemindersTable
 WHERE ServiceId = @ServiceId
   AND GrainHash > @BeginHash
   AND GrainHash <= @EndHash;
$q$),

-- ... and the wrapping range otherwise.
('ReadRangeRows2Key', $q$
SELECT GrainId, ReminderName, StartTime, Period, Version
  FROM OrleansRemindersTable
 WHERE ServiceId = @ServiceId
   AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
$q$),

-- One column: 1 = deleted, 0 = missing or stale Version.
('DeleteReminderRowKey', $q$
WITH removed AS (
    DELETE FROM OrleansRemindersTable
     WHERE ServiceId = @ServiceId
       AND GrainId = @GrainId
       AND ReminderName = @ReminderName
       AND Version = @Version
    RETURNING 1
)
SELECT count(*)::integer AS row_count FROM removed;
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- =============================================================================
-- Lock views
--
-- The lock grain ([GrainType("orleanslocks.lock")], string key "name:key") keeps
-- its state under the state name 'orleanslocks.lock' through the ADO.NET grain storage with a
-- System.Text.Json serializer, so each lock is one OrleansStorage row with
-- GrainTypeString = 'orleanslocks.lock', GrainIdExtensionString = 'name:key', GrainIdN0/N1 = 0,
-- and PayloadBinary = UTF-8 JSON such as
--   {"name":"purge_room","key":"!abc:example.org","token":"9f..","owner":"host/123",
--    "acquiredAt":1700000000000,"lastRenewedAt":1700000000000,"expiresAt":1700000120000,
--    "fencingToken":42,"freedAt":null,"acquireId":"..."}
-- (times in milliseconds since the Unix epoch).
--
-- The read/write lock grain ([GrainType("orleanslocks.rwlock")]) is stored the same way under the
-- state name 'orleanslocks.rwlock': its writer in the same top-level fields, its readers in an
-- array "readers" of {"token","owner","acquiredAt","lastRenewedAt","expiresAt","fencingToken","acquireId"}.
--
-- The semaphore grain ([GrainType("orleanslocks.semaphore")]) is stored the same way under the
-- state name 'orleanslocks.semaphore': no writer, its holders in the array "readers" (as a read/write
-- lock's readers), and its count in "maxCount".
--
-- Note: the grain type itself is not stored; rows are recognised by the state
-- name only (the GrainTypeString column holds the state name), so no other grain may use the
-- state names 'orleanslocks.lock', 'orleanslocks.rwlock' or 'orleanslocks.semaphore' with this table.
-- =============================================================================

-- Payload bytes -> jsonb; NULL for a cleared row or a payload that is not JSON,
-- so one foreign or damaged row cannot make the views fail.
CREATE OR REPLACE FUNCTION orleans_locks_payload(p_payload bytea)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
-- Not PARALLEL SAFE: its EXCEPTION block starts a subtransaction, which PostgreSQL refuses inside a
-- parallel query (a large OrleansStorage table gets parallel plans).
PARALLEL UNSAFE
AS $fn$
BEGIN
    IF p_payload IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN convert_from(p_payload, 'UTF8')::jsonb;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$fn$;

-- A short fingerprint of a token: the first 8 hex digits of its SHA-256. Enough to tell two
-- grants apart in a view or a log; far too little (and one-way) to renew or release with.
CREATE OR REPLACE FUNCTION orleans_locks_fingerprint(p_token text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $fn$
    SELECT left(encode(sha256(convert_to(p_token, 'UTF8')), 'hex'), 8)
$fn$;

-- Schema version 1 showed the token (and the acquire id) in these views. Their columns changed,
-- which CREATE OR REPLACE VIEW cannot do, so views of that shape are dropped here (once: a database
-- already on the new shape keeps its views, and anything built on them). A view of your own built
-- on the old ones makes this DROP fail: drop it first, then apply this script again.
DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = to_regclass('orleans_locks') AND attname = 'token' AND NOT attisdropped) THEN
        DROP VIEW IF EXISTS worker_semaphores;
        DROP VIEW IF EXISTS worker_read_write_locks;
        DROP VIEW IF EXISTS worker_locks;
        DROP VIEW orleans_locks;
    END IF;
END
$do$;

-- Every stored lock row, held or free (and cleared rows, with NULL state).
-- Columns may only be appended here; renaming or reordering needs DROP VIEW first.
-- readers: the read/write lock's readers (or the semaphore's holders), each without its token and
-- acquire id, with a tokenFingerprint. lock_type: 'plain', 'read_write' or 'semaphore'. max_count: a
-- semaphore's count (NULL for locks).
CREATE OR REPLACE VIEW orleans_locks AS
SELECT
    s.ServiceId                                              AS service_id,
    COALESCE(j.doc ->> 'name',
             split_part(s.GrainIdExtensionString, ':', 1))   AS lock_name,
    COALESCE(j.doc ->> 'key',
             substr(s.GrainIdExtensionString,
                    strpos(s.GrainIdExtensionString, ':') + 1)) AS lock_key,
    j.doc ->> 'owner'                                        AS instance_name,
    orleans_locks_fingerprint(j.doc ->> 'token')             AS token_fingerprint,
    (j.doc ->> 'acquiredAt')::bigint                         AS acquired_ts,
    (j.doc ->> 'lastRenewedAt')::bigint                      AS last_renewed_ts,
    (j.doc ->> 'expiresAt')::bigint                          AS expires_ts,
    (j.doc ->> 'fencingToken')::bigint                       AS fencing_token,
    (j.doc ->> 'freedAt')::bigint                            AS freed_ts,
    (j.doc ->> 'noGrantsBefore')::bigint                     AS no_grants_before_ts,
    s.PayloadBinary IS NOT NULL                              AS has_state,
    s.Version                                                AS storage_version,
    s.ModifiedOn                                             AS modified_on,
    s.GrainIdHash                                            AS grain_id_hash,
    s.GrainIdN0                                              AS grain_id_n0,
    s.GrainIdN1                                              AS grain_id_n1,
    s.GrainTypeHash                                          AS grain_type_hash,
    s.GrainTypeString                                        AS grain_type_string,
    s.GrainIdExtensionString                                 AS grain_id_extension_string,
    CASE s.GrainTypeString WHEN 'orleanslocks.rwlock' THEN 'read_write' WHEN 'orleanslocks.semaphore' THEN 'semaphore' ELSE 'plain' END
                                                             AS lock_type,
    COALESCE(jsonb_array_length(j.readers), 0)               AS reader_count,
    LEAST((j.doc ->> 'expiresAt')::bigint,
          (SELECT min((r ->> 'expiresAt')::bigint)
           FROM jsonb_array_elements(j.readers) AS r))       AS next_expiry_ts,
    (SELECT jsonb_agg((r - 'token' - 'acquireId')
                      || jsonb_build_object('tokenFingerprint', orleans_locks_fingerprint(r ->> 'token'))
                      ORDER BY n)
     FROM jsonb_array_elements(j.readers) WITH ORDINALITY AS e(r, n)) AS readers,
    (j.doc ->> 'maxCount')::integer                          AS max_count
FROM OrleansStorage AS s
-- OFFSET 0 keeps this subquery from being flattened, so the payload is decoded once per row, not
-- once per column that reads it.
CROSS JOIN LATERAL (SELECT orleans_locks_payload(s.PayloadBinary) AS doc OFFSET 0) AS p
CROSS JOIN LATERAL (
    SELECT p.doc AS doc,
           CASE WHEN jsonb_typeof(p.doc -> 'readers') = 'array' THEN p.doc -> 'readers' END AS readers
) AS j
WHERE s.GrainTypeString IN ('orleanslocks.lock', 'orleanslocks.rwlock', 'orleanslocks.semaphore');

-- Synapse-style view of plain locks: only locks that currently have a holder. Where Synapse's
-- table has the token, this view has its fingerprint.
CREATE OR REPLACE VIEW worker_locks AS
SELECT
    lock_name,
    lock_key,
    instance_name,
    token_fingerprint,
    last_renewed_ts,
    fencing_token,
    service_id
FROM orleans_locks
WHERE token_fingerprint IS NOT NULL AND lock_type = 'plain';

-- Synapse-style view of read/write locks: one row per holder (the writer, or each reader).
CREATE OR REPLACE VIEW worker_read_write_locks AS
SELECT l.lock_name, l.lock_key, TRUE AS write_lock, l.instance_name, l.token_fingerprint,
       l.last_renewed_ts, l.fencing_token, l.service_id
FROM orleans_locks AS l
WHERE l.lock_type = 'read_write' AND l.token_fingerprint IS NOT NULL
UNION ALL
SELECT l.lock_name, l.lock_key, FALSE, r ->> 'owner', r ->> 'tokenFingerprint',
       (r ->> 'lastRenewedAt')::bigint, (r ->> 'fencingToken')::bigint, l.service_id
FROM orleans_locks AS l
CROSS JOIN LATERAL jsonb_array_elements(COALESCE(l.readers, '[]'::jsonb)) AS r
WHERE l.lock_type = 'read_write';

-- Semaphores: one row per holder (a permit), with the semaphore's count. Where Synapse's table has
-- the token, this view has its fingerprint.
CREATE OR REPLACE VIEW worker_semaphores AS
SELECT l.lock_name, l.lock_key, l.max_count, r ->> 'owner' AS instance_name,
       r ->> 'tokenFingerprint' AS token_fingerprint, (r ->> 'lastRenewedAt')::bigint AS last_renewed_ts,
       (r ->> 'expiresAt')::bigint AS expires_ts, (r ->> 'fencingToken')::bigint AS fencing_token, l.service_id
FROM orleans_locks AS l
CROSS JOIN LATERAL jsonb_array_elements(COALESCE(l.readers, '[]'::jsonb)) AS r
WHERE l.lock_type = 'semaphore';

-- =============================================================================
-- Schema version stamp
--
-- One row: the version of this script that was applied last. The silo checks it
-- at start-up (OrleansLocks.Grains.Storage.PostgresSchema.ExpectedVersion) and
-- refuses to start when it is missing or different. Raise it with every change
-- to this file that a silo depends on.
-- =============================================================================
CREATE TABLE IF NOT EXISTS orleanslocks_schema
(
    id         boolean     NOT NULL DEFAULT TRUE,
    version    integer     NOT NULL,
    applied_on timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleanslocks_schema_pkey PRIMARY KEY (id),
    CONSTRAINT orleanslocks_schema_one_row CHECK (id)
);

INSERT INTO orleanslocks_schema (id, version, applied_on)
VALUES (TRUE, 3, now())
ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, applied_on = EXCLUDED.applied_on;

COMMIT;
