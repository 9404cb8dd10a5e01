//! The state row of a region as the budget machinery sees it (a leaf: no
//! other grse module is imported here).

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
}
