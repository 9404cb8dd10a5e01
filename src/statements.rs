//! Prepared statements kept for the life of the backend, for the hot paths
//! (a spend is one statement; parsing and planning it on every call would
//! cost more than running it). PostgreSQL's plan cache revalidates kept plans
//! after DDL, so a dropped and re-created extension is picked up.

use crate::error::{GResult, SpiResultExt};
use pgrx::datum::DatumWithOid;
use pgrx::spi::{OwnedPreparedStatement, SpiClient, SpiTupleTable};
use pgrx::{pg_sys, PgOid};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A kept statement's key: the address and length of its SQL text (a
/// `&'static str`: the same constant is the same text for the life of the
/// backend, and hashing two words is cheaper than hashing the text on every
/// call); the statements under one key differ by argument types.
type Key = (usize, usize);

thread_local! {
    static KEPT: RefCell<HashMap<Key, Vec<(Vec<pg_sys::Oid>, Rc<OwnedPreparedStatement>)>>> =
        RefCell::new(HashMap::new());
}

fn kept(
    client: &SpiClient<'_>,
    sql: &'static str,
    types: &[PgOid],
    mutating: bool,
) -> GResult<Rc<OwnedPreparedStatement>> {
    let key = (sql.as_ptr() as usize, sql.len());
    let same_types =
        |kept: &[pg_sys::Oid]| kept.len() == types.len() && kept.iter().zip(types).all(|(k, t)| *k == t.value());
    let found = KEPT.with(|k| {
        k.borrow().get(&key).and_then(|v| v.iter().find(|(t, _)| same_types(t)).map(|(_, stmt)| Rc::clone(stmt)))
    });
    if let Some(stmt) = found {
        return Ok(stmt);
    }
    let prepared = if mutating { client.prepare_mut(sql, types) } else { client.prepare(sql, types) };
    let stmt = Rc::new(prepared.or_internal()?.keep());
    let entry = (types.iter().map(|t| t.value()).collect(), Rc::clone(&stmt));
    KEPT.with(|k| k.borrow_mut().entry(key).or_default().push(entry));
    Ok(stmt)
}

/// Held while a statement runs with its generic plan, planned with index
/// scans (see [`execute_generic`]); the two planner settings are restored
/// when it ends, also by an error (the guard is dropped as the error unwinds).
struct GenericPlans {
    plan_cache_mode: std::ffi::c_int,
    enable_seqscan: bool,
}

impl GenericPlans {
    fn begin() -> GenericPlans {
        // SAFETY: plain globals of this backend (the plan_cache_mode and enable_seqscan
        // settings), read when a cached plan is chosen and made; restored on drop.
        unsafe {
            let saved =
                GenericPlans { plan_cache_mode: pg_sys::plan_cache_mode, enable_seqscan: pg_sys::enable_seqscan };
            pg_sys::plan_cache_mode = pg_sys::PlanCacheMode::PLAN_CACHE_MODE_FORCE_GENERIC_PLAN as std::ffi::c_int;
            pg_sys::enable_seqscan = false;
            saved
        }
    }
}

impl Drop for GenericPlans {
    fn drop(&mut self) {
        // SAFETY: as in `begin`.
        unsafe {
            pg_sys::plan_cache_mode = self.plan_cache_mode;
            pg_sys::enable_seqscan = self.enable_seqscan;
        }
    }
}

/// [`execute`] with the argument types of `args` (each argument carries
/// its type): a writing statement prepared once per backend and argument
/// types.
pub fn run<'conn>(
    client: &mut SpiClient<'conn>,
    sql: &'static str,
    args: &[DatumWithOid<'_>],
) -> GResult<SpiTupleTable<'conn>> {
    let types: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
    execute(client, sql, &types, args)
}

/// Runs a writing statement `sql` (argument types `types`), prepared once per backend.
pub fn execute<'conn>(
    client: &mut SpiClient<'conn>,
    sql: &'static str,
    types: &[PgOid],
    args: &[DatumWithOid<'_>],
) -> GResult<SpiTupleTable<'conn>> {
    let stmt = kept(client, sql, types, true)?;
    client.update(&*stmt, None, args).or_internal()
}

/// [`execute`] with the statement's generic plan, always. PostgreSQL's plan
/// cache plans a parameterized statement afresh for its first executions and
/// then for good whenever the generic plan's estimate is above the average
/// custom plan's. The slot spend's can be: on a hot region whose slots came
/// after the last ANALYZE, the bench found it planned again on one call in
/// four, and the region's spends ran at less than half their speed. A generic
/// plan is made once, though, and one made while the slot table was nearly
/// empty (a sequential scan) stayed as the table grew, which halved the
/// spends of 32 clients over 100 regions: the plan is therefore made without
/// sequential scans. Only for statements that find every row they read by
/// an index.
pub fn execute_generic<'conn>(
    client: &mut SpiClient<'conn>,
    sql: &'static str,
    types: &[PgOid],
    args: &[DatumWithOid<'_>],
) -> GResult<SpiTupleTable<'conn>> {
    let _generic = GenericPlans::begin();
    execute(client, sql, types, args)
}

/// Runs a reading statement, prepared once per backend; it assigns no
/// transaction id, so it works in read-only transactions and on standbys.
pub fn select<'conn>(
    client: &SpiClient<'conn>,
    sql: &'static str,
    types: &[PgOid],
    args: &[DatumWithOid<'_>],
) -> GResult<SpiTupleTable<'conn>> {
    let stmt = kept(client, sql, types, false)?;
    client.select(&*stmt, None, args).or_internal()
}

/// The first column of the first row of a read-only query, or None when it
/// returns no row (or NULL). Assigns no transaction id.
pub fn one<T: pgrx::FromDatum + pgrx::IntoDatum>(sql: &str, args: &[DatumWithOid<'_>]) -> GResult<Option<T>> {
    pgrx::spi::Spi::connect(|client| {
        let t = client.select(sql, Some(1), args).or_internal()?;
        if t.is_empty() {
            return Ok(None);
        }
        t.first().get_one::<T>().or_internal()
    })
}
