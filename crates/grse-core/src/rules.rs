//! The row rules of grse's hot tables — the state row, the ledger, the
//! budget slots, the mode transitions and the job records — as pure checks.
//!
//! These tables are written by every spend. PostgreSQL re-reads and re-plans
//! a table's CHECK expressions for every statement that writes it, which
//! cost a spend more than all of its own work; so these tables keep only
//! their keys and NOT NULLs, and the row triggers that already run on every
//! write call these checks on the row as it will be stored. A violation
//! names the rule as the CHECK did (`state_budget_remaining_nonneg`, …) and
//! the shell raises it as SQLSTATE 23514.

use crate::fixed::Centi;
use crate::mode::Mode;
use std::fmt;

/// A broken rule: its constraint name and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub constraint: &'static str,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.constraint, self.detail)
    }
}

pub type Checked = Result<(), Violation>;

fn broken(constraint: &'static str, detail: String) -> Checked {
    Err(Violation { constraint, detail })
}

/// `column >= 0`.
pub fn nonneg(constraint: &'static str, column: &str, value: i64) -> Checked {
    if value < 0 {
        return broken(constraint, format!("{column} must not be negative, got {value}."));
    }
    Ok(())
}

/// `column BETWEEN low AND high` (NULL passes, as in a CHECK).
pub fn between(constraint: &'static str, column: &str, value: Option<i64>, low: i64, high: i64) -> Checked {
    match value {
        Some(v) if v < low || v > high => {
            broken(constraint, format!("{column} must be between {low} and {high}, got {v}."))
        }
        _ => Ok(()),
    }
}

/// A score in [0, 100].
pub fn score(constraint: &'static str, column: &str, value: Centi) -> Checked {
    if value < Centi::ZERO || value > Centi::HUNDRED {
        return broken(constraint, format!("{column} must be a number in [0, 100], got {value}."));
    }
    Ok(())
}

/// A mode name (NULL passes).
pub fn mode(constraint: &'static str, column: &str, value: Option<&str>) -> Checked {
    match value {
        Some(v) if Mode::parse(v).is_none() => {
            broken(constraint, format!("{column} must be one of normal, cautious, throttled, frozen, got \"{v}\"."))
        }
        _ => Ok(()),
    }
}

/// The state row's rules across columns.
#[derive(Clone, Copy, Debug)]
pub struct StateSpans<'a> {
    pub monthly: i64,
    pub remaining: i64,
    /// The four period bounds, microseconds.
    pub day: (i64, i64),
    pub month: (i64, i64),
    pub pinned_mode: Option<&'a str>,
    pub pinned_at: Option<i64>,
    pub pinned_until: Option<i64>,
    pub pin_reason_set: bool,
}

/// `state_remaining_within_monthly`, `state_day_window`, `state_month_window`,
/// `state_pin_complete`.
pub fn state_spans(s: &StateSpans<'_>) -> Checked {
    if s.remaining > s.monthly {
        return broken(
            "state_remaining_within_monthly",
            format!("ai_budget_remaining {} must not exceed ai_budget_monthly {}.", s.remaining, s.monthly),
        );
    }
    if s.day.0 >= s.day.1 {
        return broken("state_day_window", "day_started_at must be before day_ends_at.".into());
    }
    if s.month.0 >= s.month.1 {
        return broken("state_month_window", "month_started_at must be before month_ends_at.".into());
    }
    let pinned = s.pinned_mode.is_some();
    if pinned != s.pinned_at.is_some() || (!pinned && (s.pinned_until.is_some() || s.pin_reason_set)) {
        return broken(
            "state_pin_complete",
            "A pin has pinned_mode and pinned_at, and no pin has pinned_until or pin_reason.".into(),
        );
    }
    Ok(())
}

/// The ledger's transaction types.
pub const LEDGER_TYPES: [&str; 7] = ["allocation", "spend", "refund", "reset", "transfer", "hold", "release"];

/// The job types the ledger stores (`performance` is stored as `intel`).
pub const STORED_JOB_TYPES: [&str; 4] = ["posting", "orchestration", "creative", "intel"];

/// One ledger row as it is inserted.
#[derive(Clone, Copy, Debug)]
pub struct LedgerRow<'a> {
    pub transaction_type: &'a str,
    pub amount: i64,
    pub delta: i64,
    pub balance_after: i64,
    pub job_type: Option<&'a str>,
    pub slot_no: i32,
    pub idempotency_key: Option<&'a str>,
}

/// The ledger's rules, in the order of its former CHECKs.
pub fn ledger_row(r: &LedgerRow<'_>) -> Checked {
    let kind = r.transaction_type;
    if !LEDGER_TYPES.contains(&kind) {
        return broken(
            "ledger_type_valid",
            format!("transaction_type must be one of {}, got \"{kind}\".", LEDGER_TYPES.join(", ")),
        );
    }
    if r.amount <= 0 {
        return broken("ledger_amount_positive", format!("amount must be positive, got {}.", r.amount));
    }
    nonneg("ledger_balance_nonneg", "balance_after", r.balance_after)?;
    if let Some(t) = r.job_type.filter(|t| !STORED_JOB_TYPES.contains(t)) {
        return broken(
            "ledger_job_type_valid",
            format!("job_type must be one of {}, got \"{t}\".", STORED_JOB_TYPES.join(", ")),
        );
    }
    between("ledger_slot_no_range", "slot_no", Some(i64::from(r.slot_no)), 0, 64)?;
    if let Some(key) = r.idempotency_key {
        let n = key.chars().count();
        if !(1..=200).contains(&n) {
            return broken(
                "ledger_idempotency_key_length",
                format!("idempotency_key must be 1 to 200 characters, got {n}."),
            );
        }
    }
    if Some(r.amount) != r.delta.checked_abs() {
        return broken(
            "ledger_amount_is_abs_delta",
            format!("amount {} must be the absolute value of delta {}.", r.amount, r.delta),
        );
    }
    let sign_ok = match kind {
        "spend" | "hold" => r.delta < 0,
        "refund" | "release" => r.delta > 0,
        _ => true,
    };
    if !sign_ok {
        return broken(
            "ledger_delta_sign",
            format!(
                "a {kind} row has delta {}: spends and holds are negative, refunds and releases positive.",
                r.delta
            ),
        );
    }
    if r.slot_no != 0 && !matches!(kind, "spend" | "transfer") {
        return broken(
            "ledger_slot_only_spend_or_transfer",
            format!("a {kind} row belongs to the pool (slot_no 0), got slot {}.", r.slot_no),
        );
    }
    Ok(())
}

/// One budget slot row as it is written.
#[derive(Clone, Copy, Debug)]
pub struct SlotRow {
    pub slot_no: i32,
    pub balance: i64,
    pub spent_today: i64,
    pub period_spent: i64,
}

/// The budget slots' rules.
pub fn slot_row(r: &SlotRow) -> Checked {
    between("slots_slot_no_range", "slot_no", Some(i64::from(r.slot_no)), 1, 64)?;
    nonneg("slots_balance_nonneg", "balance", r.balance)?;
    nonneg("slots_spent_today_nonneg", "spent_today", r.spent_today)?;
    nonneg("slots_period_spent_nonneg", "period_spent", r.period_spent)
}

/// The causes of a mode transition row.
pub const TRANSITION_CAUSES: [&str; 4] = ["metrics", "pin", "unpin", "pin_expired"];

/// A mode transition row, as the transition guard reads it.
#[derive(Clone, Copy, Debug)]
pub struct TransitionRow<'a> {
    pub from_mode: &'a str,
    pub to_mode: &'a str,
    pub cause: &'a str,
}

/// `transition_from_valid`, `transition_to_valid`, `transition_cause_valid`,
/// `transition_changes_mode` (a transition caused by the metrics changes the mode).
pub fn transition_row(r: &TransitionRow<'_>) -> Checked {
    mode("transition_from_valid", "from_mode", Some(r.from_mode))?;
    mode("transition_to_valid", "to_mode", Some(r.to_mode))?;
    if !TRANSITION_CAUSES.contains(&r.cause) {
        return broken(
            "transition_cause_valid",
            format!("cause must be one of {}, got \"{}\".", TRANSITION_CAUSES.join(", "), r.cause),
        );
    }
    if r.from_mode == r.to_mode && r.cause == "metrics" {
        return broken(
            "transition_changes_mode",
            format!("A transition caused by the metrics changes the mode, got {} to {}.", r.from_mode, r.to_mode),
        );
    }
    Ok(())
}

/// The statuses of a job record.
pub const JOB_STATUSES: [&str; 6] = ["queued", "running", "succeeded", "failed", "cancelled", "expired"];

/// A job record as it is written (times in microseconds).
#[derive(Clone, Copy, Debug)]
pub struct JobRow<'a> {
    pub job_type: &'a str,
    pub priority: i32,
    pub estimated_cost: i64,
    pub status: &'a str,
    pub actual_cost: Option<i64>,
    pub created_at: i64,
    pub run_after: i64,
    pub expires_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// The job records' rules: `jobs_job_type_valid`, `jobs_priority_range`
/// (1..1000), `jobs_estimated_cost_nonneg`, `jobs_status_valid`,
/// `jobs_actual_cost_nonneg`, `jobs_run_after_creation`,
/// `jobs_expire_after_creation`, `jobs_finished_iff_done` (queued and running
/// jobs have no finished_at, the others have one), `jobs_started_if_running`.
pub fn job_row(r: &JobRow<'_>) -> Checked {
    if !STORED_JOB_TYPES.contains(&r.job_type) {
        return broken(
            "jobs_job_type_valid",
            format!("job_type must be one of {}, got \"{}\".", STORED_JOB_TYPES.join(", "), r.job_type),
        );
    }
    between("jobs_priority_range", "priority", Some(i64::from(r.priority)), 1, 1000)?;
    nonneg("jobs_estimated_cost_nonneg", "estimated_cost", r.estimated_cost)?;
    if !JOB_STATUSES.contains(&r.status) {
        return broken(
            "jobs_status_valid",
            format!("status must be one of {}, got \"{}\".", JOB_STATUSES.join(", "), r.status),
        );
    }
    if let Some(cost) = r.actual_cost {
        nonneg("jobs_actual_cost_nonneg", "actual_cost", cost)?;
    }
    if r.run_after < r.created_at {
        return broken("jobs_run_after_creation", "run_after must not be before created_at.".to_string());
    }
    if r.expires_at <= r.created_at {
        return broken("jobs_expire_after_creation", "expires_at must be after created_at.".to_string());
    }
    let open = matches!(r.status, "queued" | "running");
    if open == r.finished_at.is_some() {
        return broken(
            "jobs_finished_iff_done",
            format!("a {} job {} finished_at.", r.status, if open { "has no" } else { "has a" }),
        );
    }
    if r.status == "running" && r.started_at.is_none() {
        return broken("jobs_started_if_running", "a running job has a started_at.".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spend() -> LedgerRow<'static> {
        LedgerRow {
            transaction_type: "spend",
            amount: 5,
            delta: -5,
            balance_after: 10,
            job_type: Some("creative"),
            slot_no: 0,
            idempotency_key: None,
        }
    }

    fn broke(r: Checked) -> &'static str {
        r.expect_err("a broken rule").constraint
    }

    #[test]
    fn a_well_formed_ledger_row_passes() {
        assert_eq!(ledger_row(&spend()), Ok(()));
        for kind in ["allocation", "reset", "transfer"] {
            assert_eq!(ledger_row(&LedgerRow { transaction_type: kind, delta: 5, ..spend() }), Ok(()));
            assert_eq!(ledger_row(&LedgerRow { transaction_type: kind, delta: -5, ..spend() }), Ok(()));
        }
        assert_eq!(ledger_row(&LedgerRow { transaction_type: "refund", delta: 5, ..spend() }), Ok(()));
        assert_eq!(ledger_row(&LedgerRow { slot_no: 64, ..spend() }), Ok(()));
        assert_eq!(ledger_row(&LedgerRow { idempotency_key: Some(&"é".repeat(200)), ..spend() }), Ok(()));
    }

    #[test]
    fn each_ledger_rule_names_itself() {
        assert_eq!(broke(ledger_row(&LedgerRow { transaction_type: "gift", ..spend() })), "ledger_type_valid");
        assert_eq!(broke(ledger_row(&LedgerRow { amount: 0, delta: 0, ..spend() })), "ledger_amount_positive");
        assert_eq!(broke(ledger_row(&LedgerRow { balance_after: -1, ..spend() })), "ledger_balance_nonneg");
        assert_eq!(broke(ledger_row(&LedgerRow { job_type: Some("performance"), ..spend() })), "ledger_job_type_valid");
        assert_eq!(broke(ledger_row(&LedgerRow { slot_no: 65, ..spend() })), "ledger_slot_no_range");
        assert_eq!(broke(ledger_row(&LedgerRow { slot_no: -1, ..spend() })), "ledger_slot_no_range");
        assert_eq!(
            broke(ledger_row(&LedgerRow { idempotency_key: Some(""), ..spend() })),
            "ledger_idempotency_key_length"
        );
        let long = "k".repeat(201);
        assert_eq!(
            broke(ledger_row(&LedgerRow { idempotency_key: Some(&long), ..spend() })),
            "ledger_idempotency_key_length"
        );
        assert_eq!(broke(ledger_row(&LedgerRow { delta: -4, ..spend() })), "ledger_amount_is_abs_delta");
        assert_eq!(
            broke(ledger_row(&LedgerRow { delta: i64::MIN, amount: i64::MAX, ..spend() })),
            "ledger_amount_is_abs_delta"
        );
        assert_eq!(broke(ledger_row(&LedgerRow { delta: 5, ..spend() })), "ledger_delta_sign");
        assert_eq!(broke(ledger_row(&LedgerRow { transaction_type: "release", ..spend() })), "ledger_delta_sign");
        assert_eq!(
            broke(ledger_row(&LedgerRow { transaction_type: "hold", slot_no: 3, ..spend() })),
            "ledger_slot_only_spend_or_transfer"
        );
    }

    #[test]
    fn transition_rules() {
        let ok = TransitionRow { from_mode: "normal", to_mode: "frozen", cause: "metrics" };
        assert_eq!(transition_row(&ok), Ok(()));
        for cause in ["pin", "unpin", "pin_expired"] {
            assert_eq!(transition_row(&TransitionRow { to_mode: "normal", cause, ..ok }), Ok(()));
        }
        assert_eq!(broke(transition_row(&TransitionRow { from_mode: "calm", ..ok })), "transition_from_valid");
        assert_eq!(broke(transition_row(&TransitionRow { to_mode: "Frozen", ..ok })), "transition_to_valid");
        assert_eq!(broke(transition_row(&TransitionRow { cause: "cron", ..ok })), "transition_cause_valid");
        assert_eq!(broke(transition_row(&TransitionRow { to_mode: "normal", ..ok })), "transition_changes_mode");
    }

    #[test]
    fn job_rules() {
        let ok = JobRow {
            job_type: "posting",
            priority: 5,
            estimated_cost: 0,
            status: "queued",
            actual_cost: None,
            created_at: 10,
            run_after: 10,
            expires_at: 11,
            started_at: None,
            finished_at: None,
        };
        assert_eq!(job_row(&ok), Ok(()));
        let done =
            JobRow { status: "succeeded", started_at: Some(10), finished_at: Some(12), actual_cost: Some(3), ..ok };
        assert_eq!(job_row(&done), Ok(()));
        assert_eq!(job_row(&JobRow { status: "running", started_at: Some(10), ..ok }), Ok(()));
        assert_eq!(broke(job_row(&JobRow { job_type: "performance", ..ok })), "jobs_job_type_valid");
        assert_eq!(broke(job_row(&JobRow { priority: 0, ..ok })), "jobs_priority_range");
        assert_eq!(broke(job_row(&JobRow { priority: 1001, ..ok })), "jobs_priority_range");
        assert_eq!(broke(job_row(&JobRow { estimated_cost: -1, ..ok })), "jobs_estimated_cost_nonneg");
        assert_eq!(broke(job_row(&JobRow { status: "done", ..ok })), "jobs_status_valid");
        assert_eq!(broke(job_row(&JobRow { actual_cost: Some(-1), ..done })), "jobs_actual_cost_nonneg");
        assert_eq!(broke(job_row(&JobRow { run_after: 9, ..ok })), "jobs_run_after_creation");
        assert_eq!(broke(job_row(&JobRow { expires_at: 10, ..ok })), "jobs_expire_after_creation");
        assert_eq!(broke(job_row(&JobRow { finished_at: Some(12), ..ok })), "jobs_finished_iff_done");
        assert_eq!(broke(job_row(&JobRow { finished_at: None, ..done })), "jobs_finished_iff_done");
        assert_eq!(broke(job_row(&JobRow { status: "running", ..ok })), "jobs_started_if_running");
    }

    #[test]
    fn slot_rules() {
        let ok = SlotRow { slot_no: 1, balance: 0, spent_today: 0, period_spent: 0 };
        assert_eq!(slot_row(&ok), Ok(()));
        assert_eq!(broke(slot_row(&SlotRow { slot_no: 0, ..ok })), "slots_slot_no_range");
        assert_eq!(broke(slot_row(&SlotRow { balance: -1, ..ok })), "slots_balance_nonneg");
        assert_eq!(broke(slot_row(&SlotRow { spent_today: -1, ..ok })), "slots_spent_today_nonneg");
        assert_eq!(broke(slot_row(&SlotRow { period_spent: -1, ..ok })), "slots_period_spent_nonneg");
    }

    #[test]
    fn state_rules() {
        let ok = StateSpans {
            monthly: 100,
            remaining: 100,
            day: (0, 1),
            month: (0, 1),
            pinned_mode: None,
            pinned_at: None,
            pinned_until: None,
            pin_reason_set: false,
        };
        assert_eq!(state_spans(&ok), Ok(()));
        assert_eq!(
            state_spans(&StateSpans {
                pinned_mode: Some("frozen"),
                pinned_at: Some(1),
                pinned_until: Some(2),
                pin_reason_set: true,
                ..ok
            }),
            Ok(())
        );
        assert_eq!(broke(state_spans(&StateSpans { remaining: 101, ..ok })), "state_remaining_within_monthly");
        assert_eq!(broke(state_spans(&StateSpans { day: (1, 1), ..ok })), "state_day_window");
        assert_eq!(broke(state_spans(&StateSpans { month: (2, 1), ..ok })), "state_month_window");
        assert_eq!(broke(state_spans(&StateSpans { pinned_mode: Some("frozen"), ..ok })), "state_pin_complete");
        assert_eq!(broke(state_spans(&StateSpans { pinned_at: Some(1), ..ok })), "state_pin_complete");
        assert_eq!(broke(state_spans(&StateSpans { pinned_until: Some(1), ..ok })), "state_pin_complete");
        assert_eq!(broke(state_spans(&StateSpans { pin_reason_set: true, ..ok })), "state_pin_complete");
        assert_eq!(
            broke(score("state_fatigue_score_range", "fatigue_score", Centi(10_001))),
            "state_fatigue_score_range"
        );
        assert_eq!(broke(score("s", "c", Centi(-1))), "s");
        assert_eq!(score("s", "c", Centi::HUNDRED), Ok(()));
        assert_eq!(broke(nonneg("n", "c", -1)), "n");
        assert_eq!(between("b", "c", None, 1, 64), Ok(()));
        assert_eq!(broke(between("b", "c", Some(65), 1, 64)), "b");
        assert_eq!(broke(mode("m", "c", Some("paused"))), "m");
        assert_eq!(mode("m", "c", None), Ok(()));
    }
}
