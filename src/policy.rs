//! Loading the policy row, cached in the backend until it changes.
//!
//! Every rule reads the policy, on every spend and metric write. The backend
//! keeps it and forgets it when PostgreSQL invalidates `grse.policy`'s
//! relation cache entry: the policy trigger sends that invalidation on every
//! change, so other sessions drop their copy when the change commits (at
//! their next transaction or statement), and this session at once.

use crate::convert::centi;
use crate::error::{internal, GResult, SpiResultExt};
use grse_core::fixed::Weight;
use grse_core::Policy;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use pgrx::Uuid;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

thread_local! {
    /// The policy and the OID of the table it was read from.
    static CACHE: RefCell<Option<(pg_sys::Oid, Policy)>> = const { RefCell::new(None) };
    static CALLBACK_REGISTERED: Cell<bool> = const { Cell::new(false) };
    /// Regions with their own number of budget slots (`budget_slots` set);
    /// dropped with the policy (grse.set_budget_slots invalidates it).
    static SLOT_COUNTS: RefCell<Option<HashMap<[u8; 16], i32>>> = const { RefCell::new(None) };
}

/// Relation cache invalidation: forget the policy when its table is
/// invalidated (a policy change, DROP EXTENSION, ...) or on a full reset.
#[pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    CACHE.with(|c| {
        if let Ok(mut cache) = c.try_borrow_mut() {
            if relid == pg_sys::InvalidOid || cache.as_ref().is_some_and(|(oid, _)| *oid == relid) {
                *cache = None;
                SLOT_COUNTS.with(|s| {
                    if let Ok(mut s) = s.try_borrow_mut() {
                        *s = None;
                    }
                });
            }
        }
    });
}

fn register_callback() {
    if !CALLBACK_REGISTERED.with(|r| r.replace(true)) {
        // SAFETY: registered once per backend; the callback only touches this module's cache.
        unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache_invalidation), pg_sys::Datum::from(0usize)) };
    }
}

/// The policy in force.
pub fn current() -> GResult<Policy> {
    register_callback();
    if let Some(p) = CACHE.with(|c| c.borrow().as_ref().map(|(_, p)| p.clone())) {
        return Ok(p);
    }
    let (oid, p) = load()?;
    CACHE.with(|c| *c.borrow_mut() = Some((oid, p.clone())));
    Ok(p)
}

/// How many budget slots a region spends from: its own `budget_slots`,
/// else the policy's `default_budget_slots`.
pub fn budget_slots(region_id: Uuid) -> GResult<i32> {
    let default = current()?.default_budget_slots;
    if let Some(n) = SLOT_COUNTS.with(|s| s.borrow().as_ref().map(|m| m.get(region_id.as_bytes()).copied())) {
        return Ok(n.unwrap_or(default));
    }
    let counts = Spi::connect(|client| -> GResult<HashMap<[u8; 16], i32>> {
        let t = client
            .select(
                "SELECT region_id, budget_slots FROM grse.region_scaling_state WHERE budget_slots IS NOT NULL",
                None,
                &[],
            )
            .or_internal()?;
        let mut m = HashMap::new();
        for row in t {
            if let (Some(id), Some(n)) = (row.get::<Uuid>(1).or_internal()?, row.get::<i32>(2).or_internal()?) {
                m.insert(*id.as_bytes(), n);
            }
        }
        Ok(m)
    })?;
    let n = counts.get(region_id.as_bytes()).copied().unwrap_or(default);
    SLOT_COUNTS.with(|s| *s.borrow_mut() = Some(counts));
    Ok(n)
}

/// Forgets the cached policy (and regions' slot counts) here and, when the
/// change commits, in every other session.
pub fn invalidate(policy_table: pg_sys::Oid) {
    CACHE.with(|c| *c.borrow_mut() = None);
    SLOT_COUNTS.with(|s| *s.borrow_mut() = None);
    // SAFETY: queues a relcache invalidation of an existing table for commit.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(policy_table) };
}

const POLICY_SQL: &str = "SELECT pressure_weight_posting, pressure_weight_orchestration, pressure_weight_creative, \
    pressure_weight_intel, capacity_weight_budget, capacity_weight_pressure, capacity_weight_fatigue, \
    frozen_capacity_below, throttled_capacity_below, cautious_capacity_below, frozen_pressure_above, \
    throttled_pressure_above, cautious_pressure_above, small_job_max_cents, pressure_ema_alpha, \
    pressure_points_per_job, capacity_critical_below, capacity_warning_below, budget_critical_below_pct, \
    budget_warning_below_pct, warning_points, critical_points, \
    (extract(epoch FROM fatigue_window))::bigint AS fatigue_window_secs, \
    preferred_region_min_capacity, default_shard_count, risk_pressure_above, tableoid, default_budget_slots \
    FROM grse.policy WHERE id";

fn load() -> GResult<(pg_sys::Oid, Policy)> {
    Spi::connect(|client| {
        let table = crate::statements::select(client, POLICY_SQL, &[], &[])?;
        if table.is_empty() {
            return Err(internal("the grse.policy row is missing"));
        }
        let row = table.first();
        let num = |i: usize| -> GResult<AnyNumeric> {
            row.get::<AnyNumeric>(i).or_internal()?.ok_or_else(|| internal("NULL in grse.policy"))
        };
        let weight = |i: usize| -> GResult<Weight> { Weight::parse(&num(i)?.to_string()).map_err(internal) };
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
            default_budget_slots: row.get::<i32>(28).or_internal()?.unwrap_or(1),
        };
        p.validate().map_err(|e| internal(format!("grse.policy is inconsistent: {e}")))?;
        let table_oid = row.get::<pg_sys::Oid>(27).or_internal()?.ok_or_else(|| internal("no tableoid"))?;
        Ok((table_oid, p))
    })
}

/// [`invalidate`] for a change made outside the policy row that the cache
/// holds (a region's number of budget slots).
pub fn invalidate_everywhere() -> GResult<()> {
    let oid = match CACHE.with(|c| c.borrow().as_ref().map(|(oid, _)| *oid)) {
        Some(oid) => oid,
        None => load()?.0,
    };
    invalidate(oid);
    Ok(())
}
