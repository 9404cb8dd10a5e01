//! The budget engine: admission check, spend, refund, monthly allocation.
//!
//! Every change of `ai_budget_remaining` writes exactly one ledger row in the
//! same statement, under the state row's lock, so for every region and at
//! every moment Σ delta = remaining and each balance_after chains from the
//! previous one. Spends are one conditional UPDATE: no check-then-act race.

use crate::convert::amount_cents;
use crate::error::{invalid, not_found, required, GResult, SpiResultExt};
use crate::idempotency::{key_arg, recorded, reused, Recorded};
use crate::ledger::{insert_into_ledger, Entry, Kind, Move};
use crate::locking::{empty_slots, lock, lock_active_keeping_slots, prelock_slots, with_all_slots, Prelock};
use crate::region::with_writes;
use crate::slots::Emptying;
use crate::state::Locked;
use crate::statements;
use grse_core::mode::Mode;
use grse_core::policy::MAX_SLOTS;
use grse_core::routing::{admits, JobType};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::{AnyNumeric, PgBuiltInOids, PgOid, Uuid};

/// Reads an optional job type argument; `performance` is stored as `intel`.
pub fn job_type_arg(job_type: Option<&str>) -> GResult<Option<JobType>> {
    job_type.map(|t| JobType::parse(t).ok_or_else(|| crate::error::unknown_job_type(t, ""))).transpose()
}

/// The one-statement spend: succeeds only if the region is active, its
/// periods are current, no hold or job of it is due to expire (else the
/// locked path sweeps them first) and it has the budget; writes the ledger row.
macro_rules! spend_sql {
    ($condition:literal) => {
        concat!(
            "WITH s AS (
               UPDATE grse.region_scaling_state s
                  SET ai_budget_remaining = s.ai_budget_remaining - $2,
                      ai_spend_today = s.ai_spend_today + $2,
                      period_spent = s.period_spent + $2
                WHERE s.region_id = $1 AND s.region_active
                  AND s.ai_budget_remaining >= $2 ",
            $condition,
            "
                  AND pg_catalog.now() < s.day_ends_at AND pg_catalog.now() < s.month_ends_at
                  AND (s.next_expiry_at IS NULL OR pg_catalog.now() < s.next_expiry_at)
               RETURNING s.region_id, s.ai_budget_remaining)
             ",
            insert_into_ledger!(),
            "SELECT region_id, 0, 'spend', $2, -$2, ai_budget_remaining, $3, $4, $5, $6, NULL FROM s
             RETURNING balance_after"
        )
    };
}

/// The spend without the row lock: only a region whose slots hold nothing
/// (their budget is not the pool's to give).
const SPEND_SQL: &str = spend_sql!("AND s.slot_allotment = 0");

/// The spend under the row lock, after the checks that keep the slots' budget
/// from hiding a change of mode (see `spend`).
const SPEND_LOCKED_SQL: &str = spend_sql!("");

/// Argument types of SPEND_SQL: region, amount, agency, job type, description, idempotency key.
const SPEND_TYPES: [PgOid; 6] = [
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::INT8OID),
    PgOid::BuiltIn(PgBuiltInOids::UUIDOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
    PgOid::BuiltIn(PgBuiltInOids::TEXTOID),
];

/// A spend charged to the pool refills the free slots only if each share
/// would be at least this many spends of its amount; the pool keeps as much
/// again above the floor (see `grse_core::slots::distribute`).
const SPENDS_PER_SHARE: i64 = 16;

/// What a spend charges.
#[derive(Clone, Copy, Debug)]
pub struct Charge<'a> {
    pub amount: i64,
    pub agency_id: Option<Uuid>,
    pub job_type: Option<JobType>,
    pub description: Option<&'a str>,
    /// With a key, the spend is decided under the state row lock and a
    /// retry returns the first answer (see `idempotency`).
    pub key: Option<&'a str>,
}

/// Charges a spend. `Ok(false)` (nothing written) when the budget is
/// insufficient; errors for an unknown or inactive region.
///
/// Without budget slots, one conditional UPDATE of the state row. With
/// slots, one conditional UPDATE of a free slot (see `slots::spend`); when
/// none can pay, the state row is locked, the slots are tried once more,
/// then the free ones (or, if needed, all) are emptied into the pool, the
/// spend is charged to it, and the free slots are filled again. A keyed
/// spend always takes the locked path (its key is checked under the lock).
pub fn spend(client: &mut SpiClient<'_>, region_id: Uuid, c: &Charge<'_>) -> GResult<bool> {
    let args = || {
        [
            region_id.into(),
            c.amount.into(),
            c.agency_id.into(),
            c.job_type.map(|t| t.as_str()).into(),
            c.description.into(),
            c.key.into(),
        ]
    };
    let slots = crate::policy::budget_slots(region_id)?;
    if c.key.is_none() {
        // a call collecting the region's rows goes first (see `drain`)
        crate::drain::wait_undrained(region_id);
        let charged = if slots > 1 {
            crate::slots::spend(client, region_id, slots, c.amount, c.agency_id, c.job_type, c.description)?
        } else {
            let timer = crate::autoslots::Timer::start();
            let mut charge = || Ok(!statements::execute(client, SPEND_SQL, &SPEND_TYPES, &args())?.is_empty());
            // holding a row of the region already (a slot of an earlier spend), the wait for
            // the state row is bounded, as in `region::lock_row`
            let charged =
                if crate::held::holds(region_id) { crate::shortwaits::bounded("spending", charge)? } else { charge()? };
            if charged {
                crate::held::note(region_id);
                crate::autoslots::pool_spend_took(client, region_id, timer)?;
            }
            charged
        };
        if charged {
            return Ok(true);
        }
    }
    // Not charged: decide under the row lock (rolling a due period over).
    let facts = lock_active_keeping_slots(client, region_id)?;
    // the slot count as of now: a call that emptied every slot may have ended the region's
    // automatic slots while this one waited for the lock
    let slots = crate::policy::budget_slots(region_id)?;
    if let Some(key) = c.key {
        match recorded(client, region_id, key)? {
            None => {}
            Some(Recorded::Ledger { kind, amount, agency_id, job_type, description, .. })
                if kind == "spend"
                    && amount == c.amount
                    && agency_id == c.agency_id
                    && job_type.as_deref() == c.job_type.map(|t| t.as_str())
                    && description.as_deref() == c.description =>
            {
                return Ok(true);
            }
            Some(_) => return Err(reused(key)),
        }
    }
    // Another spender may have filled the slots while this one waited for the
    // lock: try them again before emptying anything (else every spender that
    // queued behind a filling would empty and refill all slots in turn).
    if c.key.is_none()
        && slots > 1
        && facts.allotment > 0
        && !crate::drain::drained(region_id)
        && crate::slots::spend(client, region_id, slots, c.amount, c.agency_id, c.job_type, c.description)?
    {
        return Ok(true);
    }
    let Some(facts) = debit_ready(client, facts, c.amount, false)? else {
        return Ok(false);
    };
    let t = statements::execute(client, SPEND_LOCKED_SQL, &SPEND_TYPES, &args())?;
    if t.is_empty() {
        return Err(crate::error::internal("a spend under the row lock was not charged"));
    }
    let pool = t.first().get_one::<i64>().or_internal()?.unwrap_or(0);
    // (not while a call that needs every slot collects them: filling would take them from it)
    if slots > 1 && !crate::drain::drained(region_id) {
        let policy = crate::policy::current()?;
        let min_share = c.amount.max(1).saturating_mul(SPENDS_PER_SHARE);
        crate::slots::fill(client, &policy, region_id, slots, pool, facts.allotment, min_share)?;
    }
    Ok(true)
}

/// Makes the pool of a locked region able to pay a debit of `amount` (a
/// spend or a hold). `None`, with nothing emptied, when the region's true
/// remaining budget (pool and slots, as this snapshot shows them: spends in
/// flight only lower it) is short. Else the free slots are emptied into the
/// pool (with `whole`, every slot: the caller took them first, see
/// `locking::prelock_slots`); `None` if the pool still cannot pay: what
/// slots other transactions hold is theirs until they end, and grse never
/// waits for it under the state row lock (the debit is refused instead).
/// If those slots could hide a change of judgement after the debit, the
/// state trigger judges the region by its pool alone until they are back.
pub fn debit_ready(client: &mut SpiClient<'_>, facts: Locked, amount: i64, whole: bool) -> GResult<Option<Locked>> {
    let in_slots = crate::slots::holdings(client, facts.region_id, facts.allotment)?.balance;
    if facts.remaining.saturating_add(in_slots) < amount {
        return Ok(None);
    }
    // the pool pays alone, and the slots could not hide a change of judgement after it: they
    // stay as they are (emptying them would only make the next spend fill them again)
    if !whole && facts.allotment > 0 && facts.remaining >= amount {
        let policy = crate::policy::current()?;
        if crate::slots::steady(client, &policy, facts.region_id, facts.remaining - amount, facts.allotment, None)? {
            return Ok(Some(facts));
        }
    }
    let facts = empty_slots(client, facts, if whole { Emptying::All } else { Emptying::Free })?;
    // spends in flight may have taken it meanwhile
    Ok((facts.remaining >= amount).then_some(facts))
}

/// P0002 unless an agency id given to a budget function holds a license
/// (of any status, in any region: fallback routing runs jobs outside the
/// home region).
pub fn agency_arg(agency_id: Option<Uuid>) -> GResult<Option<Uuid>> {
    if let Some(a) = agency_id {
        crate::resolver::require_agency(a)?;
    }
    Ok(agency_id)
}

/// The refusal message of a budget that is short, if it is.
pub fn shortfall(remaining: i64, cost: i64) -> Option<String> {
    (remaining < cost).then(|| format!("Insufficient budget: {remaining} remaining, {cost} requested"))
}

/// Why a job or hold of `cost` cents is refused in a region of `mode` with
/// `remaining` cents (frozen; throttled and above the small-job limit;
/// insufficient budget), or None when it is allowed. check_budget,
/// reserve_budget and admission judge by it.
pub fn refusal(
    policy: &grse_core::Policy,
    mode: Mode,
    job: Option<JobType>,
    remaining: i64,
    cost: i64,
) -> Option<String> {
    match admits(policy, mode, job, cost) {
        Err(refusal) => Some(refusal.to_string()),
        Ok(()) => shortfall(remaining, cost),
    }
}

/// The seed's helper: charge `amount` cents if the budget allows; false (and
/// nothing written) when it does not.
#[pg_extern(volatile, parallel_unsafe)]
pub fn check_and_decrement_budget(
    region_id: Option<Uuid>,
    amount: Option<AnyNumeric>,
    agency_id: default!(Option<Uuid>, "NULL"),
    job_type: default!(Option<&str>, "NULL"),
    idempotency_key: default!(Option<&str>, "NULL"),
) -> GResult<bool> {
    decrement_budget(region_id, amount, agency_id, job_type, None, idempotency_key)
}

/// Charge `amount` cents of AI spend, with an optional description.
#[pg_extern(volatile, parallel_unsafe)]
pub fn decrement_budget(
    region_id: Option<Uuid>,
    amount: Option<AnyNumeric>,
    agency_id: default!(Option<Uuid>, "NULL"),
    job_type: default!(Option<&str>, "NULL"),
    description: default!(Option<&str>, "NULL"),
    idempotency_key: default!(Option<&str>, "NULL"),
) -> GResult<bool> {
    let region_id = required(region_id, "region_id")?;
    let amount = amount_cents("amount", &required(amount, "amount")?)?;
    let job_type = job_type_arg(job_type)?;
    let key = key_arg(idempotency_key)?;
    let agency_id = agency_arg(agency_id)?;
    let charge = Charge { amount, agency_id, job_type, description, key };
    with_writes(|client| spend(client, region_id, &charge))
}

/// A region's budget as a read sees it, without a lock: as if a due
/// budget period had rolled over and expired holds had been released.
struct BudgetNow {
    remaining: i64,
    mode: Mode,
}

const BUDGET_NOW_SQL: &str =
    "SELECT s.region_active AS active, s.ai_budget_monthly, s.ai_budget_remaining, s.ai_budget_held,
        s.scaling_mode, pg_catalog.now() >= s.month_ends_at AS month_due,
        CASE WHEN s.next_expiry_at <= pg_catalog.now()
             THEN (SELECT COALESCE(sum(h.amount), 0)::bigint FROM grse.budget_holds h
                    WHERE h.region_id = s.region_id AND h.status = 'held' AND h.expires_at <= pg_catalog.now())
             ELSE 0 END AS expired,
        CASE WHEN s.slot_allotment > 0 THEN (grse.slot_totals(s.region_id)).balance ELSE 0 END AS in_slots,
        (extract(epoch FROM pg_catalog.now()) * 1000000)::bigint AS now_us
   FROM grse.region_scaling_state s
  WHERE s.region_id = $1";

fn budget_now(region_id: Uuid) -> GResult<BudgetNow> {
    let (active, monthly, remaining, held, mode, month_due, expired, in_slots, now_us) = Spi::connect(|client| {
        let t =
            statements::select(client, BUDGET_NOW_SQL, &[PgOid::BuiltIn(PgBuiltInOids::UUIDOID)], &[region_id.into()])?;
        if t.is_empty() {
            return Err(crate::error::not_found("region", region_id));
        }
        let r = t.first();
        let int = |c: &str| -> GResult<i64> { Ok(r.get_by_name::<i64, _>(c).or_internal()?.unwrap_or(0)) };
        Ok((
            r.get_by_name::<bool, _>("active").or_internal()?.unwrap_or(false),
            int("ai_budget_monthly")?,
            int("ai_budget_remaining")?,
            int("ai_budget_held")?,
            r.get_by_name::<String, _>("scaling_mode").or_internal()?.unwrap_or_default(),
            r.get_by_name::<bool, _>("month_due").or_internal()?.unwrap_or(false),
            int("expired")?,
            int("in_slots")?,
            int("now_us")?,
        ))
    })?;
    if !active {
        return Err(crate::error::inactive_region(region_id));
    }
    let stored_mode = Mode::parse(&mode).unwrap_or(Mode::Frozen);
    let true_remaining = remaining.saturating_add(in_slots);
    if !month_due && expired == 0 {
        return Ok(BudgetNow { remaining: true_remaining, mode: stored_mode });
    }
    let still_held = held.saturating_sub(expired).max(0);
    let remaining = if month_due {
        monthly.saturating_sub(still_held).max(0)
    } else {
        true_remaining.saturating_add(expired).min(monthly)
    };
    let policy = crate::policy::current()?;
    let metrics =
        grse_core::evaluate::RegionMetrics { budget_remaining: remaining, ..crate::scaling::metrics(region_id)? };
    let (state, _) = crate::modes::stored_mode_state(region_id)?;
    let (e, _) = grse_core::evaluate::evaluate_from(&policy, &metrics, Some(&state), now_us);
    Ok(BudgetNow { remaining, mode: e.mode })
}

/// Would a job costing `cost` cents be admitted now? Refuses (allowed =
/// false, with the reason) for a frozen region, a throttled region and a
/// cost above the small-job limit, or insufficient budget. A read: it takes
/// no lock and writes nothing (it works in read-only transactions and on a
/// standby), judging as if a due period had rolled over and expired holds
/// had been released.
#[pg_extern(stable, parallel_safe)]
pub fn check_budget(
    region_id: Option<Uuid>,
    cost: Option<AnyNumeric>,
) -> Result<
    TableIterator<
        'static,
        (name!(allowed, bool), name!(remaining, i64), name!(requested, i64), name!(message, String)),
    >,
    pgrx::pg_sys::panic::ErrorReport,
> {
    let region_id = required(region_id, "region_id")?;
    let cost = amount_cents("cost", &required(cost, "cost")?)?;
    let policy = crate::policy::current()?;
    let now = budget_now(region_id)?;
    let (allowed, message) = match refusal(&policy, now.mode, None, now.remaining, cost) {
        Some(why) => (false, why),
        None => (true, "Budget available".to_string()),
    };
    Ok(TableIterator::once((allowed, now.remaining, cost, message)))
}

/// Gives back `amount` cents of spend (a failed or cancelled operation).
/// A refund may not exceed what was spent and not yet refunded in the
/// current budget period, nor lift remaining above the monthly budget less
/// what holds reserve (22023). Returns the remaining budget afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn refund_budget(
    region_id: Option<Uuid>,
    amount: Option<AnyNumeric>,
    reason: default!(Option<&str>, "NULL"),
    idempotency_key: default!(Option<&str>, "NULL"),
) -> GResult<i64> {
    let region_id = required(region_id, "region_id")?;
    let amount = amount_cents("amount", &required(amount, "amount")?)?;
    let key = key_arg(idempotency_key)?;
    with_writes(|client| {
        with_all_slots(client, |client| {
            if key.is_some() {
                // keyed: every slot is emptied below; take them before the state row
                prelock_slots(client, region_id, Prelock::Always)?;
            }
            let mut facts = lock_active_keeping_slots(client, region_id)?;
            if let Some(key) = key {
                match recorded(client, region_id, key)? {
                    None => {}
                    Some(Recorded::Ledger { kind, amount: a, description, balance_after, .. })
                        if kind == "refund" && a == amount && description.as_deref() == reason =>
                    {
                        return Ok(balance_after);
                    }
                    Some(_) => return Err(reused(key)),
                }
                // keyed: the whole budget in the pool, so the row's balance_after is the answer
                facts = empty_slots(client, facts, Emptying::All)?;
            }
            // The slots stay as they are (emptying them would only make the next spend fill
            // them again) unless they could hide a change of judgement once the pool has the
            // refund: then the free ones come back into the pool first.
            let policy = crate::policy::current()?;
            if facts.allotment > 0
                && !crate::slots::steady(client, &policy, region_id, facts.remaining + amount, facts.allotment, None)?
            {
                facts = empty_slots(client, facts, Emptying::Free)?;
            }
            // slots count as this snapshot shows them: their balance can only fall and their
            // spend only rise (spends in flight), so this is conservative
            let in_slots = crate::slots::holdings(client, region_id, facts.allotment)?;
            let refundable = (i128::from(facts.period_spent) + i128::from(in_slots.period_spent)
                - i128::from(facts.period_refunded))
            .min(
                i128::from(facts.monthly)
                    - i128::from(facts.remaining)
                    - i128::from(in_slots.balance)
                    - i128::from(facts.held),
            )
            .max(0);
            // within [0, monthly]: fits in bigint
            let refundable = i64::try_from(refundable).unwrap_or(i64::MAX);
            if amount > refundable {
                return Err(invalid(format!(
                    "refund of {amount} cents exceeds the refundable amount of {refundable} cents"
                ))
                .set_detail(
                    "A refund may not exceed what was spent and not yet refunded in the current budget period.",
                ));
            }
            let entry = Entry {
                description: reason.map(str::to_string),
                idempotency_key: key.map(str::to_string),
                ..Entry::new(Kind::Refund, amount)
            };
            let pool = crate::ledger::apply(
                client,
                region_id,
                Move { refunded: amount, entries: vec![entry], ..Move::default() },
            )?;
            let in_slots = crate::slots::holdings(client, region_id, facts.allotment)?.balance;
            Ok(pool + in_slots)
        })
    })
}

/// Whether a locked region's pool alone can take a change of its monthly
/// budget to `monthly` with its slots left as they are: no slots; or the pool
/// stays non-negative, what the slots hold (as this snapshot shows it: spends
/// in flight only lower it) fits under the new budget with the holds, and
/// the slots could not hide a change of mode under it.
fn pool_takes_change(
    client: &mut SpiClient<'_>,
    policy: &grse_core::Policy,
    facts: &Locked,
    monthly: i64,
) -> GResult<bool> {
    if facts.allotment <= 0 {
        return Ok(true);
    }
    let pool_after = i128::from(facts.remaining) + i128::from(monthly) - i128::from(facts.monthly);
    let in_slots = crate::slots::holdings(client, facts.region_id, facts.allotment)?.balance;
    if pool_after < 0 || pool_after + i128::from(in_slots) + i128::from(facts.held) > i128::from(monthly) {
        return Ok(false);
    }
    crate::slots::steady(client, policy, facts.region_id, pool_after as i64, facts.allotment, Some(monthly))
}

/// Sets the monthly budget. This is an allocation: remaining moves by the
/// same difference (never below zero, nor above the new budget less what
/// holds reserve), written as one `allocation` ledger row with that signed
/// delta. Returns the remaining budget afterwards.
#[pg_extern(volatile, parallel_unsafe)]
pub fn set_monthly_budget(region_id: Option<Uuid>, amount: Option<AnyNumeric>) -> GResult<i64> {
    let region_id = required(region_id, "region_id")?;
    let monthly = amount_cents("amount", &required(amount, "amount")?)?;
    with_writes(|client| {
        // First under the state row alone (the usual case: the pool, or the pool and the free
        // slots, take the change); if every slot must come back, undo that and take them all
        // before the state row, as the lock order wants.
        let sub = crate::subxact::SubXact::begin();
        match change_monthly(client, region_id, monthly, false) {
            Ok(Some(remaining)) => {
                sub.commit();
                return Ok(remaining);
            }
            Ok(None) => sub.rollback(),
            Err(e) => {
                sub.rollback();
                return Err(e);
            }
        }
        with_all_slots(client, |client| {
            prelock_slots(client, region_id, Prelock::Always)?;
            change_monthly(client, region_id, monthly, true).and_then(|r| {
                r.ok_or_else(|| crate::error::internal("a budget change with every slot emptied was not made"))
            })
        })
    })
}

/// The body of `set_monthly_budget`: locks the region and makes the change.
/// The slots stay as they are (emptying them would only make the next spend
/// fill them again) if the pool alone can take the change; else the free
/// ones come back first, and if that is not enough, every one — only when
/// `all_taken` (the caller took every slot before the state row); else
/// `None`, the change not made.
fn change_monthly(client: &mut SpiClient<'_>, region_id: Uuid, monthly: i64, all_taken: bool) -> GResult<Option<i64>> {
    let policy = crate::policy::current()?;
    let mut facts = lock_active_keeping_slots(client, region_id)?;
    let diff = i128::from(monthly) - i128::from(facts.monthly);
    if !pool_takes_change(client, &policy, &facts, monthly)? {
        facts = empty_slots(client, facts, Emptying::Free)?;
        if !pool_takes_change(client, &policy, &facts, monthly)? {
            if !all_taken {
                return Ok(None);
            }
            facts = empty_slots(client, facts, Emptying::All)?;
        }
    }
    let pool_after = i128::from(facts.remaining) + diff;
    // with slots still held (true remaining R <= old monthly): R + diff lies in [pool_after, monthly]
    let new_remaining = if facts.allotment > 0 {
        pool_after as i64
    } else {
        let ceiling = (i128::from(monthly) - i128::from(facts.held)).max(0);
        (i128::from(facts.remaining) + diff).clamp(0, ceiling) as i64
    };
    let delta = new_remaining - facts.remaining;
    let entry =
        Entry { description: Some(format!("monthly budget set to {monthly}")), ..Entry::new(Kind::Allocation, delta) };
    crate::ledger::apply(client, region_id, Move { entries: vec![entry], monthly: Some(monthly), ..Move::default() })?;
    let in_slots = crate::slots::holdings(client, region_id, facts.allotment)?.balance;
    Ok(Some(new_remaining + in_slots))
}

/// Sets how many budget slots a region spends from: 1 for none (one row,
/// as without slots), up to 64; NULL for the policy's default_budget_slots.
/// The region's slots are emptied into its pool first; they fill again on
/// its next spend. Returns the number now in force.
#[pg_extern(volatile, parallel_unsafe)]
pub fn set_budget_slots(region_id: Option<Uuid>, slots: Option<i32>) -> GResult<i32> {
    let region_id = required(region_id, "region_id")?;
    if let Some(n) = slots.filter(|n| !(1..=MAX_SLOTS).contains(n)) {
        return Err(invalid(format!("slots must lie in [1, {MAX_SLOTS}], got {n}")));
    }
    with_writes(|client| {
        // every slot emptied (taken before the state row, again if one appeared meanwhile)
        lock(client, region_id)?.ok_or_else(|| not_found("region", region_id))?;
        crate::statements::run(
            client,
            "UPDATE grse.region_scaling_state SET budget_slots = $2 WHERE region_id = $1",
            &[region_id.into(), slots.into()],
        )?;
        crate::policy::invalidate_everywhere()?;
        Ok(match slots {
            Some(n) => n,
            None => crate::policy::current()?.default_budget_slots,
        })
    })
}
