//! Loading the policy row, cached for the rest of the transaction.
//!
//! Every rule reads the policy; reading it once per transaction keeps metric
//! writes cheap and gives each transaction one consistent view of it. A change
//! to `grse.policy` made by this very transaction drops the cache (see the
//! policy trigger), so the change applies at once.

use crate::convert::centi;
use crate::error::{internal, GResult, SpiResultExt};
use grse_core::fixed::Weight;
use grse_core::Policy;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use std::cell::RefCell;

thread_local! {
    static CACHE: RefCell<Option<(pg_sys::LocalTransactionId, Policy)>> = const { RefCell::new(None) };
}

fn local_xid() -> pg_sys::LocalTransactionId {
    // SAFETY: MyProc is set for every backend that runs SQL.
    unsafe { (*pg_sys::MyProc).lxid }
}

/// The policy in force for this transaction.
pub fn current() -> GResult<Policy> {
    let lxid = local_xid();
    if let Some(p) = CACHE.with(|c| c.borrow().as_ref().filter(|(x, _)| *x == lxid).map(|(_, p)| p.clone())) {
        return Ok(p);
    }
    let p = load()?;
    CACHE.with(|c| *c.borrow_mut() = Some((lxid, p.clone())));
    Ok(p)
}

/// Forgets the cached policy (the policy row changed in this transaction).
pub fn invalidate() {
    CACHE.with(|c| *c.borrow_mut() = None);
}

const POLICY_SQL: &str = "SELECT pressure_weight_posting, pressure_weight_orchestration, pressure_weight_creative, \
    pressure_weight_intel, capacity_weight_budget, capacity_weight_pressure, capacity_weight_fatigue, \
    frozen_capacity_below, throttled_capacity_below, cautious_capacity_below, frozen_pressure_above, \
    throttled_pressure_above, cautious_pressure_above, small_job_max_cents, pressure_ema_alpha, \
    pressure_points_per_job, capacity_critical_below, capacity_warning_below, budget_critical_below_pct, \
    budget_warning_below_pct, warning_points, critical_points, \
    (extract(epoch FROM fatigue_window))::bigint AS fatigue_window_secs, \
    preferred_region_min_capacity, default_shard_count, risk_pressure_above FROM grse.policy WHERE id";

fn load() -> GResult<Policy> {
    Spi::connect(|client| {
        let table = crate::statements::select(client, POLICY_SQL, &[], &[])?;
        if table.is_empty() {
            return Err(internal("the grse.policy row is missing"));
        }
        let row = table.first();
        let num = |i: usize| -> GResult<AnyNumeric> {
            row.get::<AnyNumeric>(i).or_internal()?.ok_or_else(|| internal("NULL in grse.policy"))
        };
        let weight = |i: usize| -> GResult<Weight> {
            Weight::parse(&num(i)?.to_string()).map_err(internal)
        };
        let score = |i: usize| -> GResult<grse_core::Centi> { centi(&num(i)?) };
        let int = |i: usize| -> GResult<i64> {
            row.get::<i64>(i).or_internal()?.ok_or_else(|| internal("NULL in grse.policy"))
        };
        let p = Policy {
            pressure_weight_posting: weight(1)?,
            pressure_weight_orchestration: weight(2)?,
            pressure_weight_creative: weight(3)?,
            pressure_weight_intel: weight(4)?,
            capacity_weight_budget: weight(5)?,
            capacity_weight_pressure: weight(6)?,
            capacity_weight_fatigue: weight(7)?,
            frozen_capacity_below: score(8)?,
            throttled_capacity_below: score(9)?,
            cautious_capacity_below: score(10)?,
            frozen_pressure_above: score(11)?,
            throttled_pressure_above: score(12)?,
            cautious_pressure_above: score(13)?,
            small_job_max_cents: int(14)?,
            pressure_ema_alpha: weight(15)?,
            pressure_points_per_job: score(16)?,
            capacity_critical_below: score(17)?,
            capacity_warning_below: score(18)?,
            budget_critical_below_pct: score(19)?,
            budget_warning_below_pct: score(20)?,
            warning_points: score(21)?,
            critical_points: score(22)?,
            fatigue_window_secs: int(23)?,
            preferred_region_min_capacity: score(24)?,
            default_shard_count: row.get::<i32>(25).or_internal()?.unwrap_or(16),
            risk_pressure_above: score(26)?,
        };
        p.validate().map_err(|e| internal(format!("grse.policy is inconsistent: {e}")))?;
        Ok(p)
    })
}
