//! A row of a grse table read once (`heap_deform_tuple`) and, for the state
//! row, written once (`heap_modify_tuple_by_cols`): the row triggers run on
//! every metric, budget and ledger write, so they avoid per-column lookups
//! and per-column tuple rebuilds. Each table names the columns its trigger
//! reads ([`Columns`]); their positions are looked up once per backend.

use crate::convert::{centi, centi_datum, centi_of_datum};
use crate::error::{internal, GResult};
use grse_core::Centi;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

/// The columns a trigger reads from one table.
pub trait Columns: Copy {
    /// The table's name (for messages).
    const TABLE: &'static str;
    /// The column names, in the order of [`Columns::pos`].
    const NAMES: &'static [&'static str];
    /// This column's place in `NAMES`.
    fn pos(self) -> usize;
    /// Its name.
    fn name(self) -> &'static str {
        Self::NAMES[self.pos()]
    }
}

/// The columns of `grse.region_scaling_state` the trigger reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    RegionId,
    Monthly,
    Remaining,
    SpendToday,
    RefundedToday,
    PeriodSpent,
    PeriodRefunded,
    DayMark,
    MonthMark,
    DayStart,
    DayEnd,
    MonthStart,
    MonthEnd,
    Fatigue,
    Posting,
    Orchestration,
    Creative,
    Intel,
    OverallPressure,
    Capacity,
    Warning,
    Mode,
    UpdatedAt,
    ModeSince,
    BudgetSlots,
    Allotment,
    HeldUntil,
    PinnedMode,
    PinnedUntil,
    PinReason,
    PinnedAt,
    Held,
    JobsManual,
    NextExpiry,
    JobsInQueue,
    ActiveAgencies,
    ActiveClients,
    ShardCount,
    Metadata,
    AutoUntil,
    AutoOff,
    RegionActive,
}

const NAMES: [(Col, &str); COLS] = [
    (Col::RegionId, "region_id"),
    (Col::Monthly, "ai_budget_monthly"),
    (Col::Remaining, "ai_budget_remaining"),
    (Col::SpendToday, "ai_spend_today"),
    (Col::RefundedToday, "refunded_today"),
    (Col::PeriodSpent, "period_spent"),
    (Col::PeriodRefunded, "period_refunded"),
    (Col::DayMark, "day_ledger_mark"),
    (Col::MonthMark, "month_ledger_mark"),
    (Col::DayStart, "day_started_at"),
    (Col::DayEnd, "day_ends_at"),
    (Col::MonthStart, "month_started_at"),
    (Col::MonthEnd, "month_ends_at"),
    (Col::Fatigue, "fatigue_score"),
    (Col::Posting, "posting_pressure"),
    (Col::Orchestration, "orchestration_pressure"),
    (Col::Creative, "creative_pressure"),
    (Col::Intel, "intel_pressure"),
    (Col::OverallPressure, "overall_pressure"),
    (Col::Capacity, "capacity_score"),
    (Col::Warning, "warning_index"),
    (Col::Mode, "scaling_mode"),
    (Col::UpdatedAt, "updated_at"),
    (Col::ModeSince, "mode_since"),
    (Col::BudgetSlots, "budget_slots"),
    (Col::Allotment, "slot_allotment"),
    (Col::HeldUntil, "mode_held_until"),
    (Col::PinnedMode, "pinned_mode"),
    (Col::PinnedUntil, "pinned_until"),
    (Col::PinReason, "pin_reason"),
    (Col::PinnedAt, "pinned_at"),
    (Col::Held, "ai_budget_held"),
    (Col::JobsManual, "jobs_queued_manually"),
    (Col::NextExpiry, "next_expiry_at"),
    (Col::JobsInQueue, "jobs_in_queue"),
    (Col::ActiveAgencies, "active_agencies"),
    (Col::ActiveClients, "active_clients"),
    (Col::ShardCount, "shard_count"),
    (Col::Metadata, "metadata"),
    (Col::AutoUntil, "auto_slots_until"),
    (Col::AutoOff, "auto_slots_off_until"),
    (Col::RegionActive, "region_active"),
];

const COLS: usize = 42;

const STATE_NAMES: [&str; COLS] = {
    let mut names = [""; COLS];
    let mut i = 0;
    while i < COLS {
        names[NAMES[i].0 as usize] = NAMES[i].1;
        i += 1;
    }
    names
};

impl Columns for Col {
    const TABLE: &'static str = "region_scaling_state";
    const NAMES: &'static [&'static str] = &STATE_NAMES;
    fn pos(self) -> usize {
        self as usize
    }
}

/// Column positions (0-based attribute indexes, in `NAMES` order) per
/// relation and attribute count: a dropped or added column is a new layout.
type Layout = (pg_sys::Oid, i32, Rc<[usize]>);

thread_local! {
    static LAYOUTS: RefCell<Vec<Layout>> = const { RefCell::new(Vec::new()) };
}

fn layout<C: Columns>(relid: pg_sys::Oid, desc: pg_sys::TupleDesc) -> GResult<Rc<[usize]>> {
    // SAFETY: desc is the firing relation's descriptor.
    let natts = unsafe { (*desc).natts };
    let cached = LAYOUTS
        .with(|l| l.borrow().iter().find(|(rel, n, _)| *rel == relid && *n == natts).map(|(_, _, idx)| Rc::clone(idx)));
    if let Some(idx) = cached {
        return Ok(idx);
    }
    let tupdesc = unsafe { pgrx::PgTupleDesc::from_pg_unchecked(desc) };
    let mut idx = vec![usize::MAX; C::NAMES.len()];
    for (i, att) in tupdesc.iter().enumerate() {
        if att.is_dropped() {
            continue;
        }
        if let Some(pos) = C::NAMES.iter().position(|name| *name == att.name()) {
            idx[pos] = i;
        }
    }
    if let Some(pos) = idx.iter().position(|i| *i == usize::MAX) {
        return Err(internal(format!("column {} missing from grse.{}", C::NAMES[pos], C::TABLE)));
    }
    let idx: Rc<[usize]> = idx.into();
    LAYOUTS.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|(rel, _, _)| *rel != relid);
        l.push((relid, natts, Rc::clone(&idx)));
    });
    Ok(idx)
}

/// A deformed row of the table whose columns `C` names.
pub struct Tuple<C: Columns> {
    idx: Rc<[usize]>,
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    columns: PhantomData<C>,
}

/// A deformed state row.
pub type Row = Tuple<Col>;

impl<C: Columns> Tuple<C> {
    /// Deforms `tuple` of the relation `relid` with descriptor `desc`.
    ///
    /// # Safety
    /// `tuple` must be a valid tuple of that relation and `desc` its descriptor.
    pub unsafe fn deform(relid: pg_sys::Oid, tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc) -> GResult<Self> {
        let idx = layout::<C>(relid, desc)?;
        let n = (*desc).natts as usize;
        let mut values = vec![pg_sys::Datum::from(0usize); n];
        let mut nulls = vec![true; n];
        pg_sys::heap_deform_tuple(tuple, desc, values.as_mut_ptr(), nulls.as_mut_ptr());
        Ok(Tuple { idx, values, nulls, columns: PhantomData })
    }

    fn at(&self, c: C) -> usize {
        self.idx[c.pos()]
    }

    /// The raw datum of a NOT NULL column; NULL (a write the NOT NULL
    /// constraint would refuse after the trigger) is refused with 23502.
    pub fn datum(&self, c: C) -> GResult<pg_sys::Datum> {
        let i = self.at(c);
        if self.nulls[i] {
            return Err(not_null_violation(C::TABLE, c.name()));
        }
        Ok(self.values[i])
    }

    /// A nullable column's datum.
    pub fn opt_datum(&self, c: C) -> Option<pg_sys::Datum> {
        let i = self.at(c);
        (!self.nulls[i]).then_some(self.values[i])
    }

    /// A nullable pass-by-value column, as (is null, raw value): for comparing.
    pub fn raw(&self, c: C) -> (bool, usize) {
        let i = self.at(c);
        (self.nulls[i], if self.nulls[i] { 0 } else { self.values[i].value() })
    }

    /// A bigint or timestamptz column (both 8-byte pass-by-value).
    pub fn int8(&self, c: C) -> GResult<i64> {
        Ok(self.datum(c)?.value() as i64)
    }

    /// A nullable bigint or timestamptz column.
    pub fn opt_int8(&self, c: C) -> Option<i64> {
        let (null, raw) = self.raw(c);
        (!null).then_some(raw as i64)
    }

    /// An integer column.
    pub fn int4(&self, c: C) -> GResult<i32> {
        Ok(self.datum(c)?.value() as i32)
    }

    /// A nullable text column.
    pub fn opt_text(&self, c: C) -> GResult<Option<String>> {
        if self.nulls[self.at(c)] {
            return Ok(None);
        }
        self.text(c).map(Some)
    }

    /// A numeric(5,2) score column.
    /// NaN (which numeric(5,2) holds) is refused with 23514, naming the
    /// column's range constraint (`state_<column>_range`).
    pub fn score(&self, c: C) -> GResult<Centi> {
        let d = self.datum(c)?;
        // SAFETY: the column is numeric and not NULL.
        if let Some(v) = unsafe { centi_of_datum(d) } {
            return Ok(v);
        }
        // the general reading, which also words the error
        // SAFETY: as above.
        let n = unsafe { AnyNumeric::from_datum(d, false) }.ok_or_else(|| internal("NULL score"))?;
        centi(&n).map_err(|_| range_violation(C::TABLE, c.name(), &n))
    }

    /// A text column.
    pub fn text(&self, c: C) -> GResult<String> {
        // SAFETY: the column is text and not NULL.
        unsafe { String::from_datum(self.datum(c)?, false) }.ok_or_else(|| internal("NULL text"))
    }

    /// The region id's 16 bytes, None for NULL.
    pub fn opt_uuid_bytes(&self, c: C) -> Option<[u8; 16]> {
        self.uuid_bytes(c).ok()
    }

    /// The region id's 16 bytes.
    pub fn uuid_bytes(&self, c: C) -> GResult<[u8; 16]> {
        let d = self.datum(c)?;
        // SAFETY: uuid is a fixed 16-byte pass-by-reference type.
        let bytes = unsafe { std::slice::from_raw_parts(d.cast_mut_ptr::<u8>(), 16) };
        let mut out = [0u8; 16];
        out.copy_from_slice(bytes);
        Ok(out)
    }
}

/// 23502, worded as PostgreSQL words it.
fn not_null_violation(table: &str, column: &str) -> ErrorReport {
    crate::error::report(crate::error::Error::NotNull(format!(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )))
}

/// 23514 for a score that is not a number in [0, 100] (NaN).
fn range_violation(table: &str, column: &str, value: &AnyNumeric) -> ErrorReport {
    crate::error::report(crate::error::Error::Check(format!(
        "new row for relation \"{table}\" violates check constraint \"state_{column}_range\""
    )))
    .set_detail(format!("{column} must be a number in [0, 100], got {value}."))
}

/// 23514 for a broken row rule, worded as PostgreSQL words a CHECK violation.
pub fn rule_violation(table: &str, v: grse_core::rules::Violation) -> ErrorReport {
    crate::error::report(crate::error::Error::Check(format!(
        "new row for relation \"{table}\" violates check constraint \"{}\"",
        v.constraint
    )))
    .set_detail(v.detail)
}

/// New values for some columns (by their position in the row; `None`:
/// NULL), applied to the deformed row in one `heap_form_tuple`.
pub struct Changes {
    set: Vec<(usize, Option<pg_sys::Datum>)>,
}

/// Room for the columns a write of the state row changes (the derived
/// ones, a pin cleared, the queue and the slots emptied).
const CHANGES_ROOM: usize = 20;

impl Default for Changes {
    fn default() -> Self {
        Changes { set: Vec::with_capacity(CHANGES_ROOM) }
    }
}

impl Changes {
    pub fn set(&mut self, row: &Row, c: Col, value: Option<pg_sys::Datum>) -> GResult<()> {
        let value = value.ok_or_else(|| internal("a computed value is NULL"))?;
        self.set_nullable(row, c, Some(value));
        Ok(())
    }

    /// Sets a nullable column (`None`: NULL).
    pub fn set_nullable(&mut self, row: &Row, c: Col, value: Option<pg_sys::Datum>) {
        self.set.push((row.at(c), value));
    }

    /// The value this set of changes writes into a column (`Some(None)`:
    /// NULL), or `None` if it leaves the column as it is.
    pub fn get(&self, row: &Row, c: Col) -> Option<Option<pg_sys::Datum>> {
        let at = row.at(c);
        self.set.iter().rev().find(|(i, _)| *i == at).map(|(_, value)| *value)
    }

    pub fn set_score(&mut self, row: &Row, c: Col, v: Centi) {
        self.set_nullable(row, c, Some(centi_datum(v)));
    }

    /// Applies the changes to `row`, the deformed `tuple`: the new tuple
    /// (with the identity of `tuple`, as `heap_modify_tuple` gives it) and
    /// the row as it will be stored.
    ///
    /// # Safety
    /// `row` must be `tuple` deformed with `desc`, and `tuple` still valid.
    pub unsafe fn apply(
        self,
        mut row: Row,
        tuple: pg_sys::HeapTuple,
        desc: pg_sys::TupleDesc,
    ) -> (pg_sys::HeapTuple, Row) {
        for (i, value) in self.set {
            row.values[i] = value.unwrap_or(pg_sys::Datum::from(0usize));
            row.nulls[i] = value.is_none();
        }
        let formed = pg_sys::heap_form_tuple(desc, row.values.as_mut_ptr(), row.nulls.as_mut_ptr());
        (*(*formed).t_data).t_ctid = (*(*tuple).t_data).t_ctid;
        (*formed).t_self = (*tuple).t_self;
        (*formed).t_tableOid = (*tuple).t_tableOid;
        (formed, row)
    }
}
