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

thread_local! {
    static KEPT: RefCell<HashMap<(&'static str, Vec<pg_sys::Oid>), Rc<OwnedPreparedStatement>>> =
        RefCell::new(HashMap::new());
}

fn kept(
    client: &SpiClient<'_>,
    sql: &'static str,
    types: &[PgOid],
    mutating: bool,
) -> GResult<Rc<OwnedPreparedStatement>> {
    let key = (sql, types.iter().map(|t| t.value()).collect::<Vec<_>>());
    if let Some(stmt) = KEPT.with(|k| k.borrow().get(&key).cloned()) {
        return Ok(stmt);
    }
    let prepared = if mutating { client.prepare_mut(sql, types) } else { client.prepare(sql, types) };
    let stmt = Rc::new(prepared.or_internal()?.keep());
    KEPT.with(|k| k.borrow_mut().insert(key, Rc::clone(&stmt)));
    Ok(stmt)
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
