//! Prepared statements kept for the life of the backend, for the hot paths
//! (a spend is one statement; parsing and planning it on every call would
//! cost more than running it). PostgreSQL's plan cache revalidates kept plans
//! after DDL, so a dropped and re-created extension is picked up.

use crate::error::{GResult, SpiResultExt};
use pgrx::datum::DatumWithOid;
use pgrx::spi::{OwnedPreparedStatement, SpiClient, SpiTupleTable};
use pgrx::PgOid;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

thread_local! {
    static KEPT: RefCell<HashMap<&'static str, Rc<OwnedPreparedStatement>>> = RefCell::new(HashMap::new());
}

fn kept(
    client: &SpiClient<'_>,
    sql: &'static str,
    types: &[PgOid],
    mutating: bool,
) -> GResult<Rc<OwnedPreparedStatement>> {
    if let Some(stmt) = KEPT.with(|k| k.borrow().get(sql).cloned()) {
        return Ok(stmt);
    }
    let prepared = if mutating { client.prepare_mut(sql, types) } else { client.prepare(sql, types) };
    let stmt = Rc::new(prepared.or_internal()?.keep());
    KEPT.with(|k| k.borrow_mut().insert(sql, Rc::clone(&stmt)));
    Ok(stmt)
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
