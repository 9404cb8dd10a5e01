-- grse 0.2.0 -> 0.3.0.
-- Applied by ALTER EXTENSION grse UPDATE TO '0.3.0', after installing 0.3.0 and restarting the
-- server (README, "Upgrading"). tests/upgrade/run.sh checks that an upgraded database has the same
-- catalog as a fresh 0.3.0 install. Each section below belongs to one change of 0.3.0 (CHANGELOG.md).
\echo Use "ALTER EXTENSION grse UPDATE TO '0.3.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Policy: new columns (modes, holds, jobs)
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Budget holds, idempotency keys, job records, migration
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Modes: cautious delays, hysteresis, pins; forecasting, alert rules, geographic routing, trends
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Operations: backups, replication, standby reads, input checks, privileges
-- ---------------------------------------------------------------------------
