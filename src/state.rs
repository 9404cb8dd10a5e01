//! The state row of a region as the budget machinery sees it, and the SQL
//! fragments that read its true totals (a leaf: no other grse module is
//! imported here).

use pgrx::Uuid;

/// A region's budget facts, read with its state row locked.
#[derive(Clone, Debug)]
pub struct Locked {
    pub region_id: Uuid,
    pub active: bool,
    pub monthly: i64,
    /// The state row's ai_budget_remaining: the pool when slots hold budget.
    pub remaining: i64,
    /// Upper bound of what the budget slots hold (0: none).
    pub allotment: i64,
    pub period_spent: i64,
    pub period_refunded: i64,
    pub scaling_mode: String,
    pub day_due: bool,
    pub month_due: bool,
    /// Budget reserved by open holds (`ai_budget_held`).
    pub held: i64,
    /// An open hold or job may have expired (`next_expiry_at` has passed).
    pub expiry_due: bool,
    /// The creator (`xmin`, as text) of the row version `region::lock_row`
    /// locked; `None` once bringing the row up to date wrote it (a roll-over,
    /// a sweep, an emptying of slots). Later writes do not clear it: it is
    /// for the caller that reads it right after locking. A read of the row
    /// that saw the same creator saw this very version: that creator had
    /// committed (or is this transaction), so it wrote no newer one.
    pub row_version: Option<String>,
}

/// SQL: the true remaining budget of the state row `s` (its pool plus what
/// its slots hold, read only when they may hold something); for a region
/// whose month has ended, what its roll-over will leave (the monthly budget
/// less what open holds keep), so that reads answer as after the roll-over.
macro_rules! true_remaining_sql {
    () => {
        "(CASE WHEN pg_catalog.now() >= s.month_ends_at THEN s.ai_budget_monthly - s.ai_budget_held
               ELSE s.ai_budget_remaining + CASE WHEN s.slot_allotment > 0
                                                 THEN (grse.slot_totals(s.region_id)).balance ELSE 0 END END)"
    };
}
pub(crate) use true_remaining_sql;

/// SQL: the capacity of the state row `s` from its true remaining budget
/// (the stored score is the one as of the last filling of its slots, or of
/// the month that has ended).
macro_rules! live_capacity_sql {
    () => {
        "(CASE WHEN s.slot_allotment > 0 OR pg_catalog.now() >= s.month_ends_at
               THEN grse.compute_region_capacity(s.region_id) ELSE s.capacity_score END)"
    };
}
pub(crate) use live_capacity_sql;

/// SQL: the mode of the state row `s` as the read functions show it: for a
/// region whose month has ended, judged again as its roll-over will leave it.
macro_rules! live_mode_sql {
    () => {
        "(CASE WHEN pg_catalog.now() >= s.month_ends_at
               THEN (SELECT e.scaling_mode FROM grse.evaluate_region(s.region_id) e) ELSE s.scaling_mode END)"
    };
}
pub(crate) use live_mode_sql;

/// SQL: true when the stored mode, capacity and remaining budget of the
/// state row `s` are the live ones that `live_mode_sql`, `live_capacity_sql`
/// and `true_remaining_sql` compute (no budget in slots, a month that has not
/// ended), so that a test of them needs none of those computations.
macro_rules! stored_is_live_sql {
    () => {
        "(s.slot_allotment = 0 AND pg_catalog.now() < s.month_ends_at)"
    };
}
pub(crate) use stored_is_live_sql;
