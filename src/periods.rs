//! Budget periods: the region-local day (for `ai_spend_today`) and month (for
//! the monthly budget). A period rolls over exactly once per region, whoever
//! gets there first: the first budget call of the new period (lazy), the
//! scheduled job, or a manual reset. The state row lock serializes them and
//! the `now() >= ends_at` test is re-read under that lock, so the second
//! caller finds nothing due. A unique index on `grse.budget_rollovers`
//! records one automatic roll-over per region and local period (after a
//! timezone change a local date can come round twice: the record is then
//! kept once, `ON CONFLICT DO NOTHING`).

use crate::error::GResult;
use crate::ledger::insert_into_ledger;
use crate::state::Locked;
use pgrx::spi::SpiClient;
use pgrx::Uuid;

/// Starts a new region-local day now in each of `regions` (their state rows
/// locked): spend and refunds of the day back to 0. One statement for all.
pub fn start_day(client: &mut SpiClient<'_>, regions: &[Uuid], source: &str) -> GResult<()> {
    crate::statements::run(
        client,
        "WITH s AS (
               UPDATE grse.region_scaling_state s
                  SET ai_spend_today = 0, refunded_today = 0,
                      day_started_at = b.starts_at, day_ends_at = b.ends_at,
                      day_ledger_mark = (SELECT COALESCE(max(l.id), 0) FROM grse.region_budget_transactions l
                                          WHERE l.region_id = s.region_id)
                 FROM grse.regions r, grse.period_bounds('day', r.timezone, pg_catalog.now()) b
                WHERE s.region_id = ANY ($1) AND r.id = s.region_id
               RETURNING s.region_id, b.local_start)
             INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
             SELECT region_id, 'daily', local_start, $2 FROM s
             ON CONFLICT DO NOTHING",
        &[regions.to_vec().into(), source.into()],
    )?;
    Ok(())
}

/// What remaining becomes at the start of a budget period: the monthly
/// budget less what open holds keep reserved (never below zero).
pub fn period_start_remaining(facts: &Locked) -> i64 {
    facts.monthly.saturating_sub(facts.held).max(0)
}

/// Starts a new monthly budget period now in each of `regions` (their state
/// rows locked, every budget slot emptied into them): remaining back to the
/// monthly budget (less what open holds reserve, see
/// [`period_start_remaining`]), with a `reset` ledger row carrying the
/// difference where there is one. One statement for all.
pub fn start_month(client: &mut SpiClient<'_>, regions: &[Uuid], source: &str) -> GResult<()> {
    crate::statements::run(
        client,
        concat!(
            "WITH s AS (
               UPDATE grse.region_scaling_state s
                  SET ai_budget_remaining = GREATEST(s.ai_budget_monthly - s.ai_budget_held, 0), period_spent = 0, period_refunded = 0,
                      month_started_at = b.starts_at, month_ends_at = b.ends_at,
                      month_ledger_mark = (SELECT COALESCE(max(l.id), 0) FROM grse.region_budget_transactions l
                                            WHERE l.region_id = s.region_id)
                 FROM grse.regions r, grse.period_bounds('month', r.timezone, pg_catalog.now()) b,
                      grse.region_scaling_state o
                WHERE s.region_id = ANY ($1) AND r.id = s.region_id AND o.region_id = s.region_id
               RETURNING s.region_id, s.ai_budget_remaining, s.ai_budget_remaining - o.ai_budget_remaining AS delta,
                         b.local_start),
             l AS (",
            insert_into_ledger!(),
            "SELECT region_id, 0, 'reset', abs(delta), delta, ai_budget_remaining, NULL, NULL,
                      'monthly budget period start (' || $2 || ')', NULL, NULL
                 FROM s WHERE delta <> 0)
             INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
             SELECT region_id, 'monthly', local_start, $2 FROM s
             ON CONFLICT DO NOTHING"
        ),
        &[regions.to_vec().into(), source.into()],
    )?;
    Ok(())
}

/// Rolls over whatever period of a locked region has ended; returns the
/// facts as they are afterwards.
pub fn roll_if_due(client: &mut SpiClient<'_>, mut facts: Locked, source: &str) -> GResult<Locked> {
    if facts.month_due {
        start_month(client, &[facts.region_id], source)?;
        facts.remaining = period_start_remaining(&facts);
        facts.period_spent = 0;
        facts.period_refunded = 0;
        facts.month_due = false;
        facts.row_version = None;
    }
    if facts.day_due {
        start_day(client, &[facts.region_id], source)?;
        facts.day_due = false;
        facts.row_version = None;
    }
    Ok(facts)
}
