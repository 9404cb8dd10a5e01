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
use std::rc::Rc;

thread_local! {
    /// The policy and the OID of the table it was read from.
    static CACHE: RefCell<Option<(pg_sys::Oid, Rc<Policy>)>> = const { RefCell::new(None) };
    static CALLBACK_REGISTERED: Cell<bool> = const { Cell::new(false) };
    /// Regions with their own number of budget slots (`budget_slots` set);
    /// dropped with the policy (grse.set_budget_slots invalidates it).
    static SLOT_COUNTS: RefCell<Option<HashMap<[u8; 16], SlotSetting>>> = const { RefCell::new(None) };
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
pub fn current() -> GResult<Rc<Policy>> {
    register_callback();
    if let Some(p) = CACHE.with(|c| c.borrow().as_ref().map(|(_, p)| Rc::clone(p))) {
        return Ok(p);
    }
    let (oid, p) = load()?;
    let p = Rc::new(p);
    CACHE.with(|c| *c.borrow_mut() = Some((oid, Rc::clone(&p))));
    Ok(p)
}

/// How many budget slots a region spends from: its own `budget_slots`,
/// else the policy's `default_budget_slots`, or its `auto_budget_slots`
/// while the region's automatic slots last (`grse_core::slots::auto`).
pub fn budget_slots(region_id: Uuid) -> GResult<i32> {
    let p = current()?;
    let now = crate::clock::now_us();
    Ok(slot_setting(region_id, now)?.map_or(p.default_budget_slots, |s| {
        grse_core::slots::auto::effective(s.fixed, p.default_budget_slots, p.auto_budget_slots, s.auto_until, now)
    }))
}

/// Whether the region spends from automatic slots now: no `budget_slots` of
/// its own, and its `auto_slots_until` ahead.
pub fn auto_slots_on(region_id: Uuid) -> GResult<bool> {
    let now = crate::clock::now_us();
    Ok(slot_setting(region_id, now)?.is_some_and(|s| s.fixed.is_none() && s.auto_until.is_some_and(|u| u > now)))
}

/// Whether the region may take automatic slots now, as this backend last
/// read it: no `budget_slots` of its own, and its automatic slots not
/// resting (`auto_slots_off_until` passed or unset). The write that makes a
/// region hot checks it again.
pub fn auto_slots_may_start(region_id: Uuid) -> GResult<bool> {
    let now = crate::clock::now_us();
    Ok(slot_setting(region_id, now)?.is_none_or(|s| s.fixed.is_none() && s.off_until.is_none_or(|u| u <= now)))
}

/// The region's own slot count and the end of its automatic slots or of
/// their rest, if it has any of them (cached per backend until the policy is
/// invalidated).
pub(crate) fn slot_setting(region_id: Uuid, now: i64) -> GResult<Option<SlotSetting>> {
    let cached = SLOT_COUNTS.with(|s| s.borrow().as_ref().map(|m| m.get(region_id.as_bytes()).copied()));
    match cached {
        // automatic slots seen ending here may have been extended since: read again (once)
        Some(Some(SlotSetting { fixed: None, auto_until: Some(until), .. })) if until <= now => {}
        Some(setting) => return Ok(setting),
        None => {}
    }
    let counts = Spi::connect(|client| -> GResult<HashMap<[u8; 16], SlotSetting>> {
        let t = client
            .select(
                "SELECT region_id, budget_slots,
                        CASE WHEN auto_slots_until > pg_catalog.now() THEN auto_slots_until END AS auto_until,
                        auto_slots_off_until AS off_until
                   FROM grse.region_scaling_state
                  WHERE budget_slots IS NOT NULL OR auto_slots_until > pg_catalog.now()
                     OR auto_slots_off_until > pg_catalog.now()",
                None,
                &[],
            )
            .or_internal()?;
        let mut m = HashMap::new();
        for row in t {
            if let Some(id) = row.get_by_name::<Uuid, _>("region_id").or_internal()? {
                // instants as the clock's (`clock::now_us`: microseconds since 2000-01-01)
                let instant = |c: &str| -> GResult<Option<i64>> {
                    Ok(row.get_by_name::<TimestampWithTimeZone, _>(c).or_internal()?.map(pg_sys::TimestampTz::from))
                };
                let setting = SlotSetting {
                    fixed: row.get_by_name::<i32, _>("budget_slots").or_internal()?,
                    auto_until: instant("auto_until")?,
                    off_until: instant("off_until")?,
                };
                m.insert(*id.as_bytes(), setting);
            }
        }
        Ok(m)
    })?;
    let setting = counts.get(region_id.as_bytes()).copied();
    SLOT_COUNTS.with(|s| *s.borrow_mut() = Some(counts));
    Ok(setting)
}

/// A region's own slot count and the ends of its automatic slots (if
/// they had not ended when read) and of their rest (`clock::now_us` instants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotSetting {
    pub fixed: Option<i32>,
    pub auto_until: Option<i64>,
    pub off_until: Option<i64>,
}

/// Forgets the cached policy (and regions' slot counts) here and, when the
/// change commits, in every other session.
pub fn invalidate(policy_table: pg_sys::Oid) {
    CACHE.with(|c| *c.borrow_mut() = None);
    SLOT_COUNTS.with(|s| *s.borrow_mut() = None);
    // SAFETY: queues a relcache invalidation of an existing table for commit.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(policy_table) };
}

/// The policy row with its intervals in whole seconds (`fatigue_window`) or
/// microseconds (the others), read column by column by name.
const POLICY_SQL: &str = "SELECT p.*, p.tableoid AS policy_table, \
    (extract(epoch FROM p.fatigue_window))::bigint AS fatigue_window_secs, \
    (extract(epoch FROM p.mode_min_dwell) * 1000000)::bigint AS mode_min_dwell_micros, \
    (extract(epoch FROM p.hold_ttl) * 1000000)::bigint AS hold_ttl_micros, \
    (extract(epoch FROM p.job_ttl) * 1000000)::bigint AS job_ttl_micros \
    FROM grse.policy p WHERE p.id";

/// Builds a [`Policy`] from a row whose column names are its field names:
/// each field is read by name with the reader given for it.
macro_rules! policy_by_name {
    ($row:expr, { $($field:ident: $read:ident),* $(,)? }) => {
        Policy { $($field: $read($row, stringify!($field))?),* }
    };
}

type PolicyRow<'a, 'conn> = &'a pgrx::spi::SpiTupleTable<'conn>;

fn column<T: pgrx::FromDatum + pgrx::IntoDatum>(row: PolicyRow<'_, '_>, name: &str) -> GResult<T> {
    row.get_by_name::<T, _>(name).or_internal()?.ok_or_else(|| internal(format!("grse.policy.{name} is NULL")))
}

fn weight(row: PolicyRow<'_, '_>, name: &str) -> GResult<Weight> {
    Weight::parse(&column::<AnyNumeric>(row, name)?.to_string()).map_err(internal)
}

fn score(row: PolicyRow<'_, '_>, name: &str) -> GResult<grse_core::Centi> {
    centi(&column::<AnyNumeric>(row, name)?)
}

fn int4(row: PolicyRow<'_, '_>, name: &str) -> GResult<i32> {
    column::<i32>(row, name)
}

fn int8(row: PolicyRow<'_, '_>, name: &str) -> GResult<i64> {
    column::<i64>(row, name)
}

fn load() -> GResult<(pg_sys::Oid, Policy)> {
    Spi::connect(|client| {
        let table = crate::statements::select(client, POLICY_SQL, &[], &[])?;
        if table.is_empty() {
            return Err(internal("the grse.policy row is missing"));
        }
        let row = table.first();
        let p = policy_by_name!(&row, {
            pressure_weight_posting: weight,
            pressure_weight_orchestration: weight,
            pressure_weight_creative: weight,
            pressure_weight_intel: weight,
            capacity_weight_budget: weight,
            capacity_weight_pressure: weight,
            capacity_weight_fatigue: weight,
            frozen_capacity_below: score,
            throttled_capacity_below: score,
            cautious_capacity_below: score,
            frozen_pressure_above: score,
            throttled_pressure_above: score,
            cautious_pressure_above: score,
            small_job_max_cents: int8,
            pressure_ema_alpha: weight,
            pressure_points_per_job: score,
            capacity_critical_below: score,
            capacity_warning_below: score,
            budget_critical_below_pct: score,
            budget_warning_below_pct: score,
            warning_points: score,
            critical_points: score,
            fatigue_window_secs: int8,
            preferred_region_min_capacity: score,
            default_shard_count: int4,
            risk_pressure_above: score,
            default_budget_slots: int4,
            cautious_delay_seconds: int4,
            mode_recovery_margin: score,
            mode_min_dwell_micros: int8,
            hold_ttl_micros: int8,
            job_ttl_micros: int8,
            auto_budget_slots: int4,
        });
        p.validate().map_err(|e| internal(format!("grse.policy is inconsistent: {e}")))?;
        Ok((column::<pg_sys::Oid>(&row, "policy_table")?, p))
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
