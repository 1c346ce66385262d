-- =============================================================================
-- OrleansLocks: fencing enforced by PostgreSQL itself                 (PG 15+)
--
-- A fencing token only protects data when the resource checks it. This script
-- gives a PostgreSQL database that check for any lock of OrleansLocks:
--   * lock_fences holds, per lock (lock_kind, lock_name, lock_key), the highest
--     fencing token that has written through orleanslocks_fence. lock_kind is
--     'plain' for a plain lock and 'write' for the write side of a read/write
--     lock: they are different locks with their own tokens.
--   * orleanslocks_fence(lock_name, lock_key, fencing_token[, lock_kind]), called inside the
--     writer's own transaction before its writes, takes that row's lock (held
--     until the transaction ends) and
--       - raises SQLSTATE 'OLF01' when the token is lower than the highest
--         seen: a newer holder has written, so this older holder's whole
--         transaction must roll back;
--       - otherwise records the token as the highest (an equal token is the
--         same holder writing again, and is allowed).
--     Because the row stays locked until commit, a newer holder's fence waits
--     for an older holder's open transaction and then sees its own token as
--     the newest; an older holder arriving after a newer one is refused.
--   Fencing tokens are not secrets (a holder's token is, and never comes here).
--
-- Safe to re-run, and to run from several processes at once: IF NOT EXISTS,
-- CREATE OR REPLACE, one transaction behind an advisory lock. The C# helper
-- LockFences.InstallAsync runs this same script (embedded in the package).
-- =============================================================================
BEGIN;

-- One installer at a time ('OLFENCE' as a number, distinct from the lock
-- schema's own advisory lock).
SELECT pg_advisory_xact_lock(79767069787767);

CREATE TABLE IF NOT EXISTS lock_fences
(
    lock_kind             text        NOT NULL,
    lock_name             text        NOT NULL,
    lock_key              text        NOT NULL,
    highest_fencing_token bigint      NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lock_fences_pkey PRIMARY KEY (lock_kind, lock_name, lock_key),
    CONSTRAINT lock_fences_kind CHECK (lock_kind IN ('plain', 'write'))
);

COMMENT ON TABLE lock_fences IS
    'OrleansLocks: the highest fencing token that has written through orleanslocks_fence, per lock.';

CREATE OR REPLACE FUNCTION orleanslocks_fence(lock_name text, lock_key text, fencing_token bigint, lock_kind text DEFAULT 'plain')
RETURNS void
LANGUAGE plpgsql
AS $fn$
DECLARE
    newest bigint;
BEGIN
    IF lock_name IS NULL OR lock_key IS NULL OR fencing_token IS NULL OR lock_kind IS NULL THEN
        RAISE EXCEPTION 'orleanslocks_fence: lock_name, lock_key, fencing_token and lock_kind must not be null'
            USING ERRCODE = '22004';
    END IF;
    IF lock_kind NOT IN ('plain', 'write') THEN
        RAISE EXCEPTION 'orleanslocks_fence: lock_kind must be ''plain'' or ''write'' (a read hold is shared and cannot fence), got %', lock_kind
            USING ERRCODE = '22023';
    END IF;
    IF fencing_token < 1 THEN
        RAISE EXCEPTION 'orleanslocks_fence: a fencing token is a positive number, got % for lock %:%',
            fencing_token, lock_name, lock_key
            USING ERRCODE = '22023';
    END IF;

    -- One statement: creates the row or locks it (held to the end of the
    -- caller's transaction) and keeps the larger token.
    INSERT INTO lock_fences AS f (lock_kind, lock_name, lock_key, highest_fencing_token)
    VALUES (orleanslocks_fence.lock_kind, orleanslocks_fence.lock_name, orleanslocks_fence.lock_key, orleanslocks_fence.fencing_token)
    ON CONFLICT ON CONSTRAINT lock_fences_pkey DO UPDATE
        SET highest_fencing_token = greatest(f.highest_fencing_token, excluded.highest_fencing_token),
            updated_at = CASE WHEN excluded.highest_fencing_token > f.highest_fencing_token
                              THEN now() ELSE f.updated_at END
    RETURNING f.highest_fencing_token INTO newest;

    IF fencing_token < newest THEN
        -- The message ends with the newest token: the C# helper reads it from there.
        RAISE EXCEPTION 'orleanslocks_fence: write refused for % lock %:%, fencing token % is older than the newest seen, %',
            lock_kind, lock_name, lock_key, fencing_token, newest
            USING ERRCODE = 'OLF01',
                  HINT = 'A newer holder of the lock has written; this holder lost the lock and must not write.';
    END IF;
END
$fn$;

COMMENT ON FUNCTION orleanslocks_fence(text, text, bigint, text) IS
    'OrleansLocks: call first in a writing transaction; raises SQLSTATE OLF01 when fencing_token is older than the newest seen for the lock.';

COMMIT;
