//! The row rules of the state row, the ledger and the budget slots, checked
//! by the row triggers those tables already fire on every write (the rules
//! themselves are `grse_core::rules`). The tables keep only their keys and
//! NOT NULLs: PostgreSQL re-reads and re-plans a table's CHECK expressions
//! for every statement that writes it, which cost a spend more than all of
//! its own work. A broken rule is SQLSTATE 23514 naming the rule, worded as
//! a CHECK violation is.

use super::row::{rule_violation, Changes, Col, Columns, Row, Tuple};
use crate::error::GResult;
use grse_core::evaluate::{Evaluation, RegionMetrics};
use grse_core::rules::{self, Checked};
use pgrx::pg_sys;

/// bigint counters of the state row that may not go below zero.
const STATE_NONNEG_INT8: [(Col, &str); 8] = [
    (Col::Monthly, "state_budget_monthly_nonneg"),
    (Col::Remaining, "state_budget_remaining_nonneg"),
    (Col::SpendToday, "state_spend_today_nonneg"),
    (Col::RefundedToday, "state_refunded_today_nonneg"),
    (Col::PeriodSpent, "state_period_spent_nonneg"),
    (Col::PeriodRefunded, "state_period_refunded_nonneg"),
    (Col::Allotment, "state_slot_allotment_nonneg"),
    (Col::Held, "state_budget_held_nonneg"),
];

/// integer counters of the state row that may not go below zero.
const STATE_NONNEG_INT4: [(Col, &str); 4] = [
    (Col::ActiveAgencies, "state_active_agencies_nonneg"),
    (Col::ActiveClients, "state_active_clients_nonneg"),
    (Col::JobsInQueue, "state_jobs_in_queue_nonneg"),
    (Col::JobsManual, "state_jobs_queued_manually_nonneg"),
];

/// Nullable integer settings of the state row and their ranges.
const STATE_RANGES: [(Col, &str, i64, i64); 2] =
    [(Col::ShardCount, "state_shard_count_range", 1, 65536), (Col::BudgetSlots, "state_budget_slots_range", 1, 64)];

/// The scores a state row is written with (the derived ones as computed).
#[derive(Clone, Copy)]
pub enum Derived<'a> {
    /// Computed by the trigger for this write.
    Computed(&'a Evaluation),
    /// As the row carries them (a row restored from a dump).
    Stored,
}

/// Checks every rule of the state row `new` as it will be written with
/// `changes`; `inputs` are its pressures and fatigue as read from it, `old`
/// the row before an UPDATE (the metadata is checked only when it changes).
pub fn state(
    new: &Row,
    old: Option<&Row>,
    changes: &Changes,
    inputs: &RegionMetrics,
    derived: Derived<'_>,
) -> GResult<()> {
    let fin = |c: Col| changes.get(new, c).unwrap_or_else(|| new.opt_datum(c));
    let int8 = |c: Col| fin(c).map(|d| d.value() as i64);
    let int4 = |c: Col| fin(c).map(|d| i64::from(d.value() as i32));
    let on = |r: Checked| r.map_err(|v| rule_violation(Col::TABLE, v));
    // NULL in a NOT NULL column is left to that constraint (23502)
    for (c, name) in STATE_NONNEG_INT8 {
        if let Some(v) = int8(c) {
            on(rules::nonneg(name, c.name(), v))?;
        }
    }
    for (c, name) in STATE_NONNEG_INT4 {
        if let Some(v) = int4(c) {
            on(rules::nonneg(name, c.name(), v))?;
        }
    }
    for (c, name, low, high) in STATE_RANGES {
        on(rules::between(name, c.name(), int4(c), low, high))?;
    }
    let p = &inputs.pressures;
    for (c, v) in [
        (Col::Posting, p.posting),
        (Col::Orchestration, p.orchestration),
        (Col::Creative, p.creative),
        (Col::Intel, p.intel),
        (Col::Fatigue, inputs.fatigue),
    ] {
        on(rules::score(score_rule(c), c.name(), v))?;
    }
    match derived {
        Derived::Computed(d) => {
            for (c, v) in [
                (Col::OverallPressure, d.overall_pressure),
                (Col::Capacity, d.capacity),
                (Col::Warning, d.warning_index),
            ] {
                on(rules::score(score_rule(c), c.name(), v))?;
            }
        }
        Derived::Stored => {
            for c in [Col::OverallPressure, Col::Capacity, Col::Warning] {
                on(rules::score(score_rule(c), c.name(), new.score(c)?))?;
            }
            on(rules::mode("state_scaling_mode_valid", "scaling_mode", Some(&new.text(Col::Mode)?)))?;
        }
    }
    let pinned_mode = new.opt_text(Col::PinnedMode)?;
    let pin_cleared = changes.get(new, Col::PinnedMode).is_some();
    let pinned_mode = if pin_cleared { None } else { pinned_mode };
    on(rules::mode("state_pinned_mode_valid", "pinned_mode", pinned_mode.as_deref()))?;
    if let (Some(monthly), Some(remaining), Some(ds), Some(de), Some(ms), Some(me)) = (
        int8(Col::Monthly),
        int8(Col::Remaining),
        int8(Col::DayStart),
        int8(Col::DayEnd),
        int8(Col::MonthStart),
        int8(Col::MonthEnd),
    ) {
        on(rules::state_spans(&rules::StateSpans {
            monthly,
            remaining,
            day: (ds, de),
            month: (ms, me),
            pinned_mode: pinned_mode.as_deref(),
            pinned_at: int8(Col::PinnedAt),
            pinned_until: int8(Col::PinnedUntil),
            pin_reason_set: fin(Col::PinReason).is_some(),
        }))?;
    }
    if let Some(meta) = new.opt_datum(Col::Metadata) {
        // SAFETY: both datums are jsonb values of the rows being compared/written.
        let unchanged = old.and_then(|o| o.opt_datum(Col::Metadata)).is_some_and(|m| unsafe { same_varlena(m, meta) });
        if !unchanged && !unsafe { jsonb_is_object(meta) } {
            return Err(rule_violation(
                Col::TABLE,
                rules::Violation {
                    constraint: "state_metadata_object",
                    detail: "metadata must be a JSON object.".into(),
                },
            ));
        }
    }
    Ok(())
}

/// `state_<column>_range`.
fn score_rule(c: Col) -> &'static str {
    match c {
        Col::Posting => "state_posting_pressure_range",
        Col::Orchestration => "state_orchestration_pressure_range",
        Col::Creative => "state_creative_pressure_range",
        Col::Intel => "state_intel_pressure_range",
        Col::Fatigue => "state_fatigue_score_range",
        Col::OverallPressure => "state_overall_pressure_range",
        Col::Capacity => "state_capacity_score_range",
        _ => "state_warning_index_range",
    }
}

/// Byte-equal varlena images (an unchanged column of an UPDATE; a TOAST
/// pointer compares as the pointer).
///
/// # Safety
/// Both datums must point at varlena values.
unsafe fn same_varlena(a: pg_sys::Datum, b: pg_sys::Datum) -> bool {
    let (pa, pb) = (a.cast_mut_ptr::<pg_sys::varlena>(), b.cast_mut_ptr::<pg_sys::varlena>());
    let (na, nb) = (pgrx::varlena::varsize_any(pa), pgrx::varlena::varsize_any(pb));
    na == nb && std::slice::from_raw_parts(pa as *const u8, na) == std::slice::from_raw_parts(pb as *const u8, nb)
}

/// Whether a jsonb value's root is an object.
///
/// # Safety
/// The datum must be a jsonb value.
unsafe fn jsonb_is_object(d: pg_sys::Datum) -> bool {
    let v = pg_sys::pg_detoast_datum_packed(d.cast_mut_ptr::<pg_sys::varlena>());
    let header = std::ptr::read_unaligned(pgrx::varlena::vardata_any(v) as *const u32);
    header & pg_sys::JB_FOBJECT != 0
}

/// The ledger's columns its trigger reads.
#[derive(Clone, Copy, Debug)]
pub enum LedgerCol {
    TransactionType,
    Amount,
    Delta,
    BalanceAfter,
    JobType,
    SlotNo,
    IdempotencyKey,
}

impl Columns for LedgerCol {
    const TABLE: &'static str = "region_budget_transactions";
    const NAMES: &'static [&'static str] =
        &["transaction_type", "amount", "delta", "balance_after", "job_type", "slot_no", "idempotency_key"];
    fn pos(self) -> usize {
        self as usize
    }
}

/// Checks a ledger row being inserted.
///
/// # Safety
/// `tuple` must be a valid tuple of the ledger relation `relid` with descriptor `desc`.
pub unsafe fn ledger(relid: pg_sys::Oid, tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc) -> GResult<()> {
    use LedgerCol as L;
    let row = Tuple::<L>::deform(relid, tuple, desc)?;
    let kind = row.text(L::TransactionType)?;
    let job_type = row.opt_text(L::JobType)?;
    let key = row.opt_text(L::IdempotencyKey)?;
    rules::ledger_row(&rules::LedgerRow {
        transaction_type: &kind,
        amount: row.int8(L::Amount)?,
        delta: row.int8(L::Delta)?,
        balance_after: row.int8(L::BalanceAfter)?,
        job_type: job_type.as_deref(),
        slot_no: row.int4(L::SlotNo)?,
        idempotency_key: key.as_deref(),
    })
    .map_err(|v| rule_violation(L::TABLE, v))
}

/// The budget slots' columns their trigger reads.
#[derive(Clone, Copy, Debug)]
pub enum SlotCol {
    SlotNo,
    Balance,
    SpentToday,
    PeriodSpent,
}

impl Columns for SlotCol {
    const TABLE: &'static str = "region_budget_slots";
    const NAMES: &'static [&'static str] = &["slot_no", "balance", "spent_today", "period_spent"];
    fn pos(self) -> usize {
        self as usize
    }
}

/// Checks a budget slot row being written.
///
/// # Safety
/// `tuple` must be a valid tuple of the slots relation `relid` with descriptor `desc`.
pub unsafe fn slot(relid: pg_sys::Oid, tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc) -> GResult<()> {
    use SlotCol as S;
    let row = Tuple::<S>::deform(relid, tuple, desc)?;
    rules::slot_row(&rules::SlotRow {
        slot_no: row.int4(S::SlotNo)?,
        balance: row.int8(S::Balance)?,
        spent_today: row.int8(S::SpentToday)?,
        period_spent: row.int8(S::PeriodSpent)?,
    })
    .map_err(|v| rule_violation(S::TABLE, v))
}

/// The mode transitions' columns their trigger reads.
#[derive(Clone, Copy, Debug)]
pub enum TransitionCol {
    FromMode,
    ToMode,
    Cause,
}

impl Columns for TransitionCol {
    const TABLE: &'static str = "region_mode_transitions";
    const NAMES: &'static [&'static str] = &["from_mode", "to_mode", "cause"];
    fn pos(self) -> usize {
        self as usize
    }
}

/// Checks a mode transition row being inserted.
///
/// # Safety
/// `tuple` must be a valid tuple of the transitions relation `relid` with descriptor `desc`.
pub unsafe fn transition(relid: pg_sys::Oid, tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc) -> GResult<()> {
    use TransitionCol as T;
    let row = Tuple::<T>::deform(relid, tuple, desc)?;
    let (from_mode, to_mode, cause) = (row.text(T::FromMode)?, row.text(T::ToMode)?, row.text(T::Cause)?);
    rules::transition_row(&rules::TransitionRow { from_mode: &from_mode, to_mode: &to_mode, cause: &cause })
        .map_err(|v| rule_violation(T::TABLE, v))
}

/// The job records' columns their guard reads.
#[derive(Clone, Copy, Debug)]
pub enum JobCol {
    JobType,
    Priority,
    EstimatedCost,
    Status,
    ActualCost,
    CreatedAt,
    RunAfter,
    ExpiresAt,
    StartedAt,
    FinishedAt,
}

impl Columns for JobCol {
    const TABLE: &'static str = "jobs";
    const NAMES: &'static [&'static str] = &[
        "job_type",
        "priority",
        "estimated_cost",
        "status",
        "actual_cost",
        "created_at",
        "run_after",
        "expires_at",
        "started_at",
        "finished_at",
    ];
    fn pos(self) -> usize {
        self as usize
    }
}

/// Checks a job record being written.
///
/// # Safety
/// `tuple` must be a valid tuple of the jobs relation `relid` with descriptor `desc`.
pub unsafe fn job(relid: pg_sys::Oid, tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc) -> GResult<()> {
    use JobCol as J;
    let row = Tuple::<J>::deform(relid, tuple, desc)?;
    let (job_type, status) = (row.text(J::JobType)?, row.text(J::Status)?);
    rules::job_row(&rules::JobRow {
        job_type: &job_type,
        priority: row.int4(J::Priority)?,
        estimated_cost: row.int8(J::EstimatedCost)?,
        status: &status,
        actual_cost: row.opt_int8(J::ActualCost),
        created_at: row.int8(J::CreatedAt)?,
        run_after: row.int8(J::RunAfter)?,
        expires_at: row.int8(J::ExpiresAt)?,
        started_at: row.opt_int8(J::StartedAt),
        finished_at: row.opt_int8(J::FinishedAt),
    })
    .map_err(|v| rule_violation(J::TABLE, v))
}
