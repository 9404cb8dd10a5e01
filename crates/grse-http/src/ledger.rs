//! The spend and refund counters of /metrics, from the ledger. The ledger is append-only, so
//! they are kept incrementally: each scrape reads only the ledger rows above a settled mark.
//! A row id at or below the mark can no longer appear: the mark is the highest id a former
//! scrape saw once every transaction that was running or had an id at that scrape has ended
//! (ledger rows take their id after their transaction has an xid, as grse writes the state row
//! first), so the counters are exact and never go down.

use crate::auth::Caller;
use crate::db::{Db, DbError};
use std::collections::{BTreeMap, VecDeque};
use tokio::sync::Mutex;

const SNAPSHOT_SQL: &str = "SELECT pg_catalog.pg_snapshot_xmin(s)::text, pg_catalog.pg_snapshot_xmax(s)::text,
           (SELECT COALESCE(max(l.id), 0) FROM grse.region_budget_transactions l)::text
      FROM pg_catalog.pg_current_snapshot() AS s";

const LEDGER_SQL: &str = "SELECT l.region_id::text, COALESCE(l.job_type, 'unknown'), l.transaction_type,
           (l.id <= $2::bigint)::text, sum(l.amount)::text
      FROM grse.region_budget_transactions l
     WHERE l.id > $1::bigint AND l.transaction_type IN ('spend', 'refund')
     GROUP BY 1, 2, 3, 4";

/// The role the ledger counters are read as (every region); each scrape then shows only the
/// regions its own caller can see.
pub const LEDGER_ROLE: &str = "grse_reader";

/// Spent and refunded cents per (region id, job type).
pub type Totals = BTreeMap<(String, String), [i64; 2]>;

#[derive(Default)]
struct Ledger {
    mark: i64,
    settled: Totals,
    /// (highest id seen, xmax of that scrape's snapshot), oldest first.
    pending: VecDeque<(i64, u64)>,
}

/// The highest id that is settled once the oldest running transaction is `xmin`; the pending
/// scrapes it settles are removed.
fn settle(pending: &mut VecDeque<(i64, u64)>, mark: i64, xmin: u64) -> i64 {
    let mut new_mark = mark;
    while let Some(&(id, xmax)) = pending.front() {
        if xmax > xmin {
            break;
        }
        new_mark = new_mark.max(id);
        pending.pop_front();
    }
    new_mark
}

/// The spend and refund counters, kept between scrapes.
#[derive(Default)]
pub struct LedgerCounters {
    ledger: Mutex<Ledger>,
}

impl LedgerCounters {
    /// The ledger totals now: settled totals plus the rows above the mark.
    pub async fn totals(&self, db: &Db) -> Result<Totals, DbError> {
        let mut guard = self.ledger.lock().await;
        let ledger = &mut *guard;
        let reader = Caller { role: LEDGER_ROLE.into(), claims: "{}".into(), expires_at: None };
        let mut session = db.session(&reader).await?;
        let result = async {
            let rows = session.query(SNAPSHOT_SQL, &[]).await?;
            let row = rows.first().ok_or_else(|| DbError::Internal("no snapshot row".into()))?;
            let field = |i: usize| -> Result<String, DbError> {
                row.try_get::<_, String>(i).map_err(|e| DbError::Internal(e.to_string()))
            };
            let parse = |t: String| t.parse::<u64>().map_err(|e| DbError::Internal(format!("{t}: {e}")));
            let xmin = parse(field(0)?)?;
            let xmax = parse(field(1)?)?;
            let max_id = parse(field(2)?)? as i64;
            let new_mark = settle(&mut ledger.pending, ledger.mark, xmin);
            let rows = session.query(LEDGER_SQL, &[Some(ledger.mark.to_string()), Some(new_mark.to_string())]).await?;
            let mut open = Totals::new();
            for r in rows {
                let get = |i: usize| r.try_get::<_, String>(i).map_err(|e| DbError::Internal(e.to_string()));
                let (region, job, kind, settled, sum) = (get(0)?, get(1)?, get(2)?, get(3)?, get(4)?);
                let cents: i64 = sum.parse().map_err(|e| DbError::Internal(format!("{sum}: {e}")))?;
                let target = if settled == "true" { &mut ledger.settled } else { &mut open };
                let entry = target.entry((region, job)).or_insert([0, 0]);
                entry[usize::from(kind == "refund")] += cents;
            }
            ledger.mark = new_mark;
            if max_id > new_mark {
                ledger.pending.push_back((max_id, xmax));
            }
            let mut totals = ledger.settled.clone();
            for (key, [spent, refunded]) in open {
                let e = totals.entry(key).or_insert([0, 0]);
                e[0] += spent;
                e[1] += refunded;
            }
            Ok(totals)
        }
        .await;
        session.end(result.is_ok()).await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settling() {
        let mut p = VecDeque::from([(10, 100), (20, 105), (30, 110)]);
        assert_eq!(settle(&mut p, 5, 99), 5); // a transaction older than the first scrape still runs
        assert_eq!(p.len(), 3);
        assert_eq!(settle(&mut p, 5, 105), 20);
        assert_eq!(p, VecDeque::from([(30, 110)]));
        assert_eq!(settle(&mut p, 20, 500), 30);
        assert!(p.is_empty());
    }
}
