-- grse 0.2.0 -> 0.3.0.
-- Applied by ALTER EXTENSION grse UPDATE TO '0.3.0', after installing 0.3.0 and restarting the
-- server (README, "Upgrading"). tests/upgrade/run.sh checks that an upgraded database has the same
-- catalog as a fresh 0.3.0 install. Each section below belongs to one change of 0.3.0 (CHANGELOG.md).
\echo Use "ALTER EXTENSION grse UPDATE TO '0.3.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Policy: new columns (modes, holds, jobs)
-- ---------------------------------------------------------------------------
ALTER TABLE grse.policy
    ADD COLUMN cautious_delay_seconds integer NOT NULL DEFAULT 30
        CONSTRAINT policy_cautious_delay_range CHECK (cautious_delay_seconds BETWEEN 0 AND 86400),
    ADD COLUMN mode_recovery_margin numeric(5,2) NOT NULL DEFAULT 0
        CONSTRAINT policy_mode_recovery_margin_range CHECK (mode_recovery_margin BETWEEN 0 AND 100),
    ADD COLUMN mode_min_dwell interval NOT NULL DEFAULT '0'
        CONSTRAINT policy_mode_min_dwell_range
        CHECK (mode_min_dwell >= interval '0' AND mode_min_dwell <= interval '1 day'),
    ADD COLUMN hold_ttl interval NOT NULL DEFAULT '15 minutes'
        CONSTRAINT policy_hold_ttl_range CHECK (hold_ttl > interval '0' AND hold_ttl <= interval '7 days'),
    ADD COLUMN job_ttl interval NOT NULL DEFAULT '1 hour'
        CONSTRAINT policy_job_ttl_range CHECK (job_ttl > interval '0' AND job_ttl <= interval '30 days');
COMMENT ON COLUMN grse.policy.cautious_delay_seconds IS
    'Seconds a cautious region delays each job it admits (delay_seconds of route_* and admit_job rows, added to estimated_wait); 0 to 86400.';
COMMENT ON COLUMN grse.policy.mode_recovery_margin IS
    'Hysteresis: a region moves to a better mode only when its capacity and pressure clear that mode''s thresholds by this many points; 0 to 100 (0 = the plain thresholds).';
COMMENT ON COLUMN grse.policy.mode_min_dwell IS
    'Hysteresis: a region moves to a better mode only after holding its current mode this long (worse modes apply at once); 0 to 1 day.';
COMMENT ON COLUMN grse.policy.hold_ttl IS 'Lifetime of a budget hold reserved without a ttl; more than 0, at most 7 days.';
COMMENT ON COLUMN grse.policy.job_ttl IS
    'Lifetime of an admitted job record: jobs not finished by created_at + job_ttl are expired; more than 0, at most 30 days.';

-- ---------------------------------------------------------------------------
-- Budget holds, idempotency keys, job records, migration
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Modes: cautious delays, hysteresis, pins; forecasting, alert rules, geographic routing, trends
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Operations: backups, replication, standby reads, input checks, privileges
-- ---------------------------------------------------------------------------
