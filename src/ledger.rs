//! The budget ledger: the one place that moves a region's pool (the state
//! row's `ai_budget_remaining` and `ai_budget_held`) together with the
//! ledger rows that record the move.
//!
//! A [`Move`] is applied as one statement: the state row is updated and its
//! entries are appended in order, each `balance_after` chaining from the
//! pool's balance before the move, so Σ delta = remaining holds after every
//! statement. The caller holds the region's state row lock (the lock
//! functions of `region`), so nothing else moves the pool meanwhile.
//!
//! The one-statement spends (`budget`, `slots`) and the slot transfers keep
//! their own conditional statements for speed, but name their columns with
//! [`insert_into_ledger!`], so the ledger's column list is written here only.

use crate::error::{internal, GResult, SpiResultExt};
use crate::statements;
use pgrx::spi::SpiClient;
use pgrx::{PgBuiltInOids, PgOid, Uuid};

/// `INSERT INTO` the ledger with its full column list; the row source follows.
macro_rules! insert_into_ledger {
    () => {
        "INSERT INTO grse.region_budget_transactions
                (region_id, slot_no, transaction_type, amount, delta, balance_after, agency_id, job_type,
                 description, idempotency_key, hold_id) "
    };
}
pub(crate) use insert_into_ledger;

/// The kinds of ledger rows a [`Move`] appends (`transaction_type`; the
/// period start's `reset` and the slots' `transfer` rows are written by
/// their own statements in `periods` and `slots`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Allocation,
    Spend,
    Refund,
    /// Money moved from remaining into a budget hold (delta < 0).
    Hold,
    /// Money moved out of a hold back to remaining (delta > 0).
    Release,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Allocation => "allocation",
            Kind::Spend => "spend",
            Kind::Refund => "refund",
            Kind::Hold => "hold",
            Kind::Release => "release",
        }
    }
}

/// One ledger row of a move (slot 0, the pool).
#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: Kind,
    pub delta: i64,
    pub agency_id: Option<Uuid>,
    pub job_type: Option<&'static str>,
    pub description: Option<String>,
    pub idempotency_key: Option<String>,
    pub hold_id: Option<Uuid>,
}

impl Entry {
    pub fn new(kind: Kind, delta: i64) -> Entry {
        Entry { kind, delta, agency_id: None, job_type: None, description: None, idempotency_key: None, hold_id: None }
    }
}

/// A change of a region's pool: the entries, and what else of the state
/// row moves with them.
#[derive(Clone, Debug, Default)]
pub struct Move {
    pub entries: Vec<Entry>,
    /// Change of `ai_budget_held`.
    pub held: i64,
    /// Spend to add to `ai_spend_today` and `period_spent`.
    pub spent: i64,
    /// Refunds to add to `refunded_today` and `period_refunded`.
    pub refunded: i64,
    /// An instant at which an open hold or job of the region expires (the
    /// state's `next_expiry_at` becomes the earlier of it and its own).
    pub expires_at: Option<pgrx::datum::TimestampWithTimeZone>,
    /// A new monthly budget (an allocation), set in the same statement.
    pub monthly: Option<i64>,
}

const APPLY_SQL: &str = concat!(
    "WITH s AS (
       UPDATE grse.region_scaling_state
          SET ai_budget_remaining = ai_budget_remaining + $2, ai_budget_held = ai_budget_held + $3,
              ai_spend_today = ai_spend_today + $4, period_spent = period_spent + $4,
              refunded_today = refunded_today + $5, period_refunded = period_refunded + $5,
              next_expiry_at = LEAST(next_expiry_at, $6),
              ai_budget_monthly = COALESCE($14, ai_budget_monthly)
        WHERE region_id = $1
       RETURNING ai_budget_remaining - $2 AS before, ai_budget_remaining AS after)
     ",
    insert_into_ledger!(),
    "SELECT $1, 0, e.kind, abs(e.delta), e.delta, s.before + sum(e.delta) OVER (ORDER BY e.n),
            e.agency_id, e.job_type, e.description, e.idempotency_key, e.hold_id
       FROM s, unnest($7::text[], $8::bigint[], $9::uuid[], $10::text[], $11::text[], $12::text[], $13::uuid[])
               WITH ORDINALITY AS e(kind, delta, agency_id, job_type, description, idempotency_key, hold_id, n)
      ORDER BY e.n
     RETURNING balance_after"
);

const APPLY_TYPES: [PgOid; 14] = [
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::TIMESTAMPTZOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTARRAYOID),
    PgOid::BuiltIn(PgBuiltInOids::INT8ARRAYOID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDARRAYOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTARRAYOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTARRAYOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTARRAYOID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDARRAYOID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
];

/// Applies a move to a region whose state row this transaction has locked;
/// returns the pool's balance afterwards. Entries with delta 0 are dropped
/// (the ledger records only real moves).
pub fn apply(client: &mut SpiClient<'_>, region_id: Uuid, mut m: Move) -> GResult<i64> {
    m.entries.retain(|e| e.delta != 0);
    let mut net: i64 = 0;
    for e in &m.entries {
        net = net.checked_add(e.delta).ok_or_else(|| internal("a ledger move overflows bigint"))?;
    }
    let kinds: Vec<&str> = m.entries.iter().map(|e| e.kind.as_str()).collect();
    let deltas: Vec<i64> = m.entries.iter().map(|e| e.delta).collect();
    let agencies: Vec<Option<Uuid>> = m.entries.iter().map(|e| e.agency_id).collect();
    let job_types: Vec<Option<&str>> = m.entries.iter().map(|e| e.job_type).collect();
    let descriptions: Vec<Option<String>> = m.entries.iter().map(|e| e.description.clone()).collect();
    let keys: Vec<Option<String>> = m.entries.iter().map(|e| e.idempotency_key.clone()).collect();
    let holds: Vec<Option<Uuid>> = m.entries.iter().map(|e| e.hold_id).collect();
    let t = statements::execute(
        client,
        APPLY_SQL,
        &APPLY_TYPES,
        &[
            region_id.into(),
            net.into(),
            m.held.into(),
            m.spent.into(),
            m.refunded.into(),
            m.expires_at.into(),
            kinds.into(),
            deltas.into(),
            agencies.into(),
            job_types.into(),
            descriptions.into(),
            keys.into(),
            holds.into(),
            m.monthly.into(),
        ],
    )?;
    if m.entries.is_empty() {
        // nothing appended: read the pool as it is
        return pool(client, region_id);
    }
    let mut last = None;
    for row in t {
        last = row.get::<i64>(1).or_internal()?;
    }
    last.ok_or_else(|| internal(format!("the state row of region {region_id} vanished during a ledger move")))
}

/// The pool's balance (the state row's `ai_budget_remaining`).
pub fn pool(client: &mut SpiClient<'_>, region_id: Uuid) -> GResult<i64> {
    crate::statements::run(
        client,
        "SELECT ai_budget_remaining FROM grse.region_scaling_state WHERE region_id = $1",
        &[region_id.into()],
    )?
    .first()
    .get_one::<i64>()
    .or_internal()?
    .ok_or_else(|| internal(format!("no state row for region {region_id}")))
}

/// A credit of `credit` cents to a pool holding `pool` of a monthly budget
/// `monthly`, with `held_after` still reserved by holds afterwards, may not
/// lift remaining + held above the monthly budget (it can only when the
/// monthly budget was lowered below what holds reserved): the excess is
/// withdrawn by an `allocation` entry, so the ledger stays exact.
pub fn cap_credit(pool: i64, monthly: i64, held_after: i64, credit: i64) -> Option<Entry> {
    let ceiling = monthly.saturating_sub(held_after.max(0)).max(0);
    let excess = pool.saturating_add(credit).saturating_sub(ceiling.max(pool));
    (excess > 0).then(|| Entry {
        description: Some("monthly budget below what holds reserved: excess of a released hold withdrawn".into()),
        ..Entry::new(Kind::Allocation, -excess)
    })
}
