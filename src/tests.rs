//! `#[pg_test]`s: run inside a real PostgreSQL by `cargo pgrx test`; each
//! test runs in its own transaction, rolled back afterwards.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::Uuid;

    fn region(slug: &str) -> Uuid {
        Spi::get_one_with_args::<Uuid>(
            "INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES ($1, $1, 'DE', 'Europe/Berlin') RETURNING id",
            &[slug.into()],
        )
        .unwrap()
        .unwrap()
    }

    fn one<T: FromDatum + IntoDatum>(sql: &str, id: Uuid) -> T {
        Spi::get_one_with_args::<T>(sql, &[id.into()]).unwrap().unwrap()
    }

    fn set_all_pressures(id: Uuid, value: &str) -> String {
        Spi::run_with_args(
            &format!(
                "UPDATE grse.region_scaling_state SET posting_pressure = {value}, orchestration_pressure = {value},
                        creative_pressure = {value}, intel_pressure = {value} WHERE region_id = $1"
            ),
            &[id.into()],
        )
        .unwrap();
        one::<String>("SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = $1", id)
    }

    fn ledger_is_exact(id: Uuid) -> bool {
        one::<bool>(
            "SELECT (SELECT COALESCE(sum(delta), 0) FROM grse.region_budget_transactions WHERE region_id = $1)
                      = (SELECT ai_budget_remaining FROM grse.region_scaling_state WHERE region_id = $1)
                AND NOT EXISTS (
                    SELECT 1 FROM (SELECT balance_after, delta,
                                          lag(balance_after, 1, 0::bigint) OVER (ORDER BY id) AS prev
                                     FROM grse.region_budget_transactions WHERE region_id = $1) c
                     WHERE c.balance_after <> c.prev + c.delta)",
            id,
        )
    }

    #[pg_test]
    fn region_insert_creates_state_and_opening_allocation() {
        let id = region("eu");
        assert_eq!(
            one::<i64>("SELECT ai_budget_remaining FROM grse.region_scaling_state WHERE region_id = $1", id),
            100_000
        );
        assert_eq!(
            one::<String>("SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = $1", id),
            "normal"
        );
        assert_eq!(
            one::<i64>("SELECT count(*) FROM grse.region_budget_transactions WHERE region_id = $1 AND transaction_type = 'allocation'", id),
            1
        );
        assert!(ledger_is_exact(id));
    }

    #[pg_test]
    fn pressure_thresholds_are_exact_at_their_boundaries() {
        let id = region("edge");
        for (value, mode) in [
            ("60.00", "normal"),
            ("60.01", "cautious"),
            ("75.00", "cautious"),
            ("75.01", "throttled"),
            ("90.00", "throttled"),
            ("90.01", "frozen"),
            ("0", "normal"),
        ] {
            assert_eq!(set_all_pressures(id, value), mode, "pressure {value}");
        }
        // 6 changes of mode, each recorded once: normal→cautious→throttled→frozen→normal
        assert_eq!(one::<i64>("SELECT count(*) FROM grse.region_mode_transitions WHERE region_id = $1", id), 4);
    }

    #[pg_test]
    fn capacity_thresholds_follow_the_budget() {
        // full pressure factor and fatigue factor give 60; the budget gives 0..40
        let id = region("cap");
        Spi::run_with_args("SELECT grse.set_monthly_budget($1, 10000)", &[id.into()]).unwrap();
        // spend to remaining 0: capacity = 60.00 -> normal
        assert!(one::<bool>("SELECT grse.check_and_decrement_budget($1, 10000)", id));
        assert_eq!(
            one::<String>("SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = $1", id),
            "normal"
        );
        // pressure 28.58 everywhere: capacity = 0.35·71.42 + 25 = 49.997 -> 50.00 normal
        assert_eq!(set_all_pressures(id, "28.58"), "normal");
        // pressure 28.60: 0.35·71.40 + 25 = 49.99 -> cautious
        assert_eq!(set_all_pressures(id, "28.60"), "cautious");
        assert_eq!(
            one::<String>("SELECT capacity_score::text FROM grse.region_scaling_state WHERE region_id = $1", id),
            "49.99"
        );
    }

    #[pg_test]
    fn unchanged_mode_writes_no_transition() {
        let id = region("calm");
        set_all_pressures(id, "10");
        set_all_pressures(id, "20");
        assert_eq!(one::<i64>("SELECT count(*) FROM grse.region_mode_transitions WHERE region_id = $1", id), 0);
        set_all_pressures(id, "70");
        let (from, to) = Spi::get_two_with_args::<String, String>(
            "SELECT from_mode, to_mode FROM grse.region_mode_transitions WHERE region_id = $1",
            &[id.into()],
        )
        .unwrap();
        assert_eq!((from.unwrap().as_str(), to.unwrap().as_str()), ("normal", "cautious"));
    }

    #[pg_test]
    fn spend_refund_and_allocation_keep_the_ledger_exact() {
        let id = region("ledger");
        assert!(one::<bool>("SELECT grse.check_and_decrement_budget($1, 99999, NULL, 'creative')", id));
        assert!(!one::<bool>("SELECT grse.check_and_decrement_budget($1, 2)", id));
        assert!(one::<bool>("SELECT grse.check_and_decrement_budget($1, 1)", id));
        assert_eq!(one::<i64>("SELECT grse.refund_budget($1, 500, 'cancelled')", id), 500);
        assert_eq!(one::<i64>("SELECT grse.set_monthly_budget($1, 200000)", id), 100_500);
        assert_eq!(one::<i64>("SELECT grse.set_monthly_budget($1, 1000)", id), 0);
        assert_eq!(
            one::<i64>("SELECT ai_spend_today FROM grse.region_scaling_state WHERE region_id = $1", id),
            100_000
        );
        assert!(ledger_is_exact(id));
    }

    #[pg_test(error = "column ai_budget_remaining of grse.region_scaling_state is maintained by grse")]
    fn direct_budget_writes_are_refused() {
        let id = region("guarded");
        Spi::run_with_args(
            "UPDATE grse.region_scaling_state SET ai_budget_remaining = 5 WHERE region_id = $1",
            &[id.into()],
        )
        .unwrap();
    }

    #[pg_test(error = "grse.region_budget_transactions is append-only: DELETE is not allowed")]
    fn ledger_rows_cannot_be_deleted() {
        region("append-only");
        Spi::run("DELETE FROM grse.region_budget_transactions").unwrap();
    }

    #[pg_test]
    fn policy_change_rejudges_regions_at_once() {
        let id = region("policy");
        assert_eq!(set_all_pressures(id, "55"), "normal");
        Spi::run("UPDATE grse.policy SET cautious_pressure_above = 50").unwrap();
        assert_eq!(
            one::<String>("SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = $1", id),
            "cautious"
        );
    }

    #[pg_test]
    fn pg_cron_jobs_are_scheduled_idempotently() {
        Spi::run("CREATE EXTENSION IF NOT EXISTS pg_cron").unwrap();
        let count =
            || Spi::get_one::<i64>("SELECT count(*) FROM cron.job WHERE jobname LIKE 'grse-%'").unwrap().unwrap();
        let listed = Spi::get_one::<i64>("SELECT count(*) FROM grse.default_jobs()").unwrap().unwrap();
        Spi::run("SELECT grse.schedule_default_jobs()").unwrap();
        assert_eq!(count(), listed);
        Spi::run("SELECT grse.schedule_default_jobs()").unwrap();
        assert_eq!(count(), listed);
        assert_eq!(Spi::get_one::<i32>("SELECT grse.unschedule_default_jobs()").unwrap(), Some(listed as i32));
        assert_eq!(count(), 0);
        assert_eq!(Spi::get_one::<i32>("SELECT grse.unschedule_default_jobs()").unwrap(), Some(0));
    }

    #[pg_test(error = "pg_cron is not installed in this database")]
    fn scheduling_without_pg_cron_is_a_clear_error() {
        Spi::run("DROP EXTENSION IF EXISTS pg_cron").unwrap();
        Spi::run("SELECT grse.schedule_default_jobs()").unwrap();
    }

    #[pg_test]
    fn a_due_month_empties_the_slots_and_rolls_over_once() {
        let id = region("hot");
        let true_remaining = "SELECT s.ai_budget_remaining + (grse.slot_totals(s.region_id)).balance
                                FROM grse.region_scaling_state s WHERE s.region_id = $1";
        Spi::run_with_args("SELECT grse.set_budget_slots($1, 4)", &[id.into()]).unwrap();
        for amount in [1000, 300] {
            assert!(one::<bool>(&format!("SELECT grse.check_and_decrement_budget($1, {amount})"), id));
        }
        assert!(one::<i64>("SELECT slot_allotment FROM grse.region_scaling_state WHERE region_id = $1", id) > 0);
        assert_eq!(one::<i64>(true_remaining, id), 98_700);
        // the budget month ended a second ago (an internal write: the columns are grse's)
        crate::guard::internally(|| {
            Spi::run_with_args(
                "UPDATE grse.region_scaling_state
                    SET month_started_at = now() - interval '31 days', month_ends_at = now() - interval '1 second'
                  WHERE region_id = $1",
                &[id.into()],
            )
        })
        .unwrap();
        // the next spend cannot use its slot (the period is over): it locks the row,
        // empties the slots, starts the new month (remaining back to 100000), is
        // charged, and fills the slots again
        assert!(one::<bool>("SELECT grse.check_and_decrement_budget($1, 200)", id));
        assert_eq!(one::<i64>(true_remaining, id), 99_800);
        assert_eq!(
            one::<i64>("SELECT sum(delta)::bigint FROM grse.region_budget_transactions WHERE region_id = $1 AND transaction_type = 'reset'", id),
            1_300
        );
        assert_eq!(one::<i64>("SELECT period_spent + (grse.slot_totals(region_id)).period_spent FROM grse.region_scaling_state WHERE region_id = $1", id), 200);
        assert!(one::<i64>("SELECT slot_allotment FROM grse.region_scaling_state WHERE region_id = $1", id) > 0);
        assert_eq!(
            one::<i64>(
                "SELECT count(*) FROM grse.budget_rollovers WHERE region_id = $1 AND period_kind = 'monthly'",
                id
            ),
            1
        );
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM grse.verify_invariants()").unwrap(), Some(0));
    }

    /// The setting a statement run by `execute_generic` runs under, read by the statement itself.
    fn mode_inside(sql: &'static str) -> Option<String> {
        Spi::connect_mut(|c| crate::statements::execute_generic(c, sql, &[], &[]).unwrap().first().get_one::<String>())
            .unwrap()
    }

    #[pg_test]
    fn generic_statements_run_generic_plans_and_give_the_setting_back() {
        Spi::run("SET plan_cache_mode = force_custom_plan").unwrap();
        let show = || Spi::get_one::<String>("SHOW plan_cache_mode").unwrap();
        assert_eq!(
            mode_inside("SELECT pg_catalog.current_setting('plan_cache_mode')").as_deref(),
            Some("force_generic_plan")
        );
        assert_eq!(mode_inside("SELECT pg_catalog.current_setting('enable_seqscan')").as_deref(), Some("off"));
        assert_eq!(show().as_deref(), Some("force_custom_plan"));
        assert_eq!(Spi::get_one::<String>("SHOW enable_seqscan").unwrap().as_deref(), Some("on"));
        // an error inside the statement (division by zero, at run time) gives the setting back
        // too; a subtransaction undoes it, as an exception block would
        let ran = PgTryBuilder::new(|| {
            let sub = crate::subxact::SubXact::begin();
            let out = mode_inside("SELECT (1 / ((random() < 2)::int - 1))::text");
            sub.commit();
            out.is_some()
        })
        .catch_others(|_| false)
        .execute();
        assert!(!ran);
        assert_eq!(show().as_deref(), Some("force_custom_plan"));
    }

    /// Runs `sql` inside `shortwaits::with_short_waits`, armed for `ms` if
    /// `armed`; the lock_timeout in force inside, and the outcome (None: a
    /// wait cut short undid it).
    fn in_short_waits(armed: bool, sql: &'static str) -> (String, Option<Result<(), ()>>) {
        let mut inside = String::new();
        let out = Spi::connect_mut(|c| {
            crate::shortwaits::with_short_waits(|w| {
                if armed {
                    w.end_by(std::time::Instant::now() + std::time::Duration::from_millis(40));
                }
                inside = c
                    .select("SELECT pg_catalog.current_setting('lock_timeout')", None, &[])
                    .unwrap()
                    .first()
                    .get_one::<String>()
                    .unwrap()
                    .unwrap();
                c.update(sql, None, &[]).unwrap();
                Ok(Ok(()))
            })
        })
        .unwrap();
        (inside, out)
    }

    /// A statement that does some work and then fails as a lock wait cut short would.
    const CUT_SHORT_SQL: &str = "DO $$ BEGIN INSERT INTO short_waits VALUES (1);
                                 RAISE EXCEPTION 'canceling statement due to lock timeout' USING ERRCODE = '55P03'; END $$";

    #[pg_test]
    fn skipping_makes_a_cut_short_statement_again_and_gives_up_with_55p03() {
        Spi::run("CREATE TEMP TABLE short_waits (n int)").unwrap();
        let count = || Spi::get_one::<i64>("SELECT count(*) FROM short_waits").unwrap().unwrap();
        let tries = std::cell::Cell::new(0);
        let got = crate::shortwaits::skipping("a test", || {
            tries.set(tries.get() + 1);
            if tries.get() < 3 {
                Spi::run(CUT_SHORT_SQL).unwrap();
            }
            Spi::run("INSERT INTO short_waits VALUES (2)").unwrap();
            Ok(tries.get())
        })
        .unwrap();
        // two tries cut short and undone (their rows gone), the third kept
        assert_eq!(got, 3);
        assert_eq!(count(), 1);
        // cut short every time: a bounded number of tries, then 55P03, with nothing kept
        tries.set(0);
        let message = PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
            let e = crate::shortwaits::skipping("a test", || {
                tries.set(tries.get() + 1);
                Spi::run(CUT_SHORT_SQL).unwrap();
                Ok(())
            })
            .unwrap_err();
            assert!(e.message().starts_with("a test: "), "{}", e.message());
            // raised as grse raises it: only a 55P03 is caught below
            e.report(PgLogLevel::ERROR);
            String::new()
        }))
        .catch_when(PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE, |e| match e {
            pg_sys::panic::CaughtError::PostgresError(r) | pg_sys::panic::CaughtError::ErrorReport(r) => {
                r.message().to_string()
            }
            _ => String::new(),
        })
        .execute();
        assert!(message.starts_with("a test: "), "{message}");
        assert_eq!(tries.get(), 50);
        assert_eq!(count(), 1);
    }

    /// `held`: a region noted in a subtransaction that rolls back is held no
    /// longer; one noted in a subtransaction that commits stays held by its
    /// parent, whatever later savepoints undo, until the parent rolls back.
    #[pg_test]
    fn held_regions_follow_subtransactions() {
        use crate::held::{holds, note};
        use crate::subxact::SubXact;
        let r = Uuid::from_bytes([7; 16]);
        assert!(!holds(r));
        let sub = SubXact::begin();
        note(r);
        assert!(holds(r));
        sub.rollback();
        assert!(!holds(r));
        let outer = SubXact::begin();
        let inner = SubXact::begin();
        note(r);
        inner.commit();
        let later = SubXact::begin();
        later.rollback();
        assert!(holds(r), "a rollback of a later savepoint keeps what was taken before it");
        outer.rollback();
        assert!(!holds(r), "the parent's rollback releases what its committed child took");
        let sub = SubXact::begin();
        note(r);
        sub.commit();
        assert!(holds(r));
    }

    #[pg_test]
    fn short_waits_undo_a_cut_short_attempt_and_give_lock_timeout_back() {
        Spi::run("SET lock_timeout = '7s'").unwrap();
        Spi::run("CREATE TEMP TABLE short_waits (n int)").unwrap();
        let count = || Spi::get_one::<i64>("SELECT count(*) FROM short_waits").unwrap().unwrap();
        let show = || Spi::get_one::<String>("SHOW lock_timeout").unwrap().unwrap();
        // armed: waits end within the attempt; a 55P03 undoes what it did and says so
        let (inside, out) = in_short_waits(true, CUT_SHORT_SQL);
        let ms: i64 = inside.trim_end_matches("ms").parse().unwrap();
        assert!((1..=40).contains(&ms), "lock_timeout inside was {inside}");
        assert_eq!(out, None);
        assert_eq!(count(), 0);
        assert_eq!(show(), "7s");
        // kept: what it did stays, the setting comes back
        let (_, out) = in_short_waits(true, "INSERT INTO short_waits VALUES (2)");
        assert_eq!(out, Some(Ok(())));
        assert_eq!(count(), 1);
        assert_eq!(show(), "7s");
        // not armed: the session's own lock_timeout stays in force and its 55P03 is an error
        let raised = PgTryBuilder::new(|| {
            let (inside, _) = in_short_waits(false, CUT_SHORT_SQL);
            assert_eq!(inside, "7s");
            false
        })
        .catch_when(PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE, |_| true)
        .execute();
        assert!(raised);
        assert_eq!(count(), 1);
        assert_eq!(show(), "7s");
    }

    /// `numeric_in` of `text` for a column of type modifier `typmod` (-1: plain numeric).
    fn numeric_in(text: &str, typmod: i32) -> pg_sys::Datum {
        let text = std::ffi::CString::new(text).unwrap();
        // SAFETY: numeric_in reads a C string, a type oid and a typmod
        unsafe {
            pgrx::direct_function_call_as_datum(
                pg_sys::numeric_in,
                &[
                    Some(pg_sys::Datum::from(text.as_ptr())),
                    Some(pg_sys::Datum::from(pg_sys::Oid::INVALID)),
                    Some(pg_sys::Datum::from(typmod)),
                ],
            )
            .unwrap()
        }
    }

    fn varlena_bytes(d: pg_sys::Datum) -> Vec<u8> {
        // SAFETY: a varlena datum made by numeric_in or centi_datum
        unsafe {
            let p = d.cast_mut_ptr::<pg_sys::varlena>();
            std::slice::from_raw_parts(p.cast::<u8>(), pgrx::varlena::varsize_any(p)).to_vec()
        }
    }

    /// The same value with the 1-byte varlena header a stored tuple gives it.
    fn packed(d: pg_sys::Datum) -> Vec<u8> {
        let bytes = varlena_bytes(d);
        let mut out = vec![0u8; bytes.len() - 3];
        out[1..].copy_from_slice(&bytes[4..]);
        // SAFETY: `out` is a buffer of the length set
        unsafe { pgrx::varlena::set_varsize_1b(out.as_mut_ptr().cast(), out.len() as i32) };
        out
    }

    #[pg_test]
    fn scores_are_read_and_written_as_numeric_in_does() {
        use crate::convert::{centi_datum, centi_of_datum};
        use grse_core::Centi;
        // numeric(5,2)
        let typmod = ((5 << 16) | 2) + 4;
        for v in -99_999..=99_999i64 {
            let text = Centi(v).to_string();
            let stored = numeric_in(&text, typmod);
            assert_eq!(varlena_bytes(centi_datum(Centi(v))), varlena_bytes(stored), "{text}");
            // SAFETY: numeric datums, in both varlena forms
            unsafe {
                assert_eq!(centi_of_datum(stored), Some(Centi(v)), "{text}");
                let mut short = packed(stored);
                assert_eq!(centi_of_datum(pg_sys::Datum::from(short.as_mut_ptr())), Some(Centi(v)), "{text} packed");
            }
        }
        // beyond a score column: written as numeric_in writes them
        for v in [i64::MAX, i64::MIN, 10_000_000_000, -1, 1] {
            let text = Centi(v).to_string();
            assert_eq!(varlena_bytes(centi_datum(Centi(v))), varlena_bytes(numeric_in(&text, -1)), "{text}");
        }
        // plain numerics: any scale, read when whole hundredths, else left to the general reading
        for (text, expected) in [
            ("1.5", Some(150)),
            ("12.300", Some(1230)),
            ("-0.50", Some(-50)),
            ("0", Some(0)),
            ("1e4", Some(1_000_000)),
            ("0.001", None),
            ("12.345", None),
            ("NaN", None),
            ("Infinity", None),
            ("-Infinity", None),
            ("100000000000000000000", None),
            ("92233720368547758.07", Some(i64::MAX)),
            ("92233720368547758.08", None),
        ] {
            // SAFETY: numeric datums
            let got = unsafe { centi_of_datum(numeric_in(text, -1)) };
            assert_eq!(got, expected.map(Centi), "{text}");
        }
    }

    #[pg_test]
    fn built_jsonb_is_the_jsonb_its_text_parses_to() {
        let cases = [
            r#"{"a": 1, "b": [true, false, null], "c": {"d": "é ✓ \" \\ \n", "e": []}, "f": {}}"#,
            r#"[1, -9223372036854775808, 9223372036854775807, 18446744073709551615, 0.1, 1e-7, 12.5, -0.0]"#,
            r#"{"bb": 1, "a": 2, "ccc": [{"z": 1, "y": [[]]}], "": ""}"#,
            r#""a top-level string""#,
            "42",
            "null",
            "[]",
        ];
        for text in cases {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let parsed = serde_json::to_string(&value).unwrap();
            let same = Spi::get_one_with_args::<bool>(
                "SELECT $1 = $2::jsonb AND $1::text = $2::jsonb::text",
                &[crate::jsonb::Jsonb(value).into(), parsed.as_str().into()],
            )
            .unwrap();
            assert_eq!(same, Some(true), "{text}");
        }
    }

    #[pg_test]
    fn a_whole_emptying_ends_automatic_slots_and_rests_them() {
        let id = region("auto");
        let internal = |sql: &str| crate::guard::internally(|| Spi::run_with_args(sql, &[id.into()])).unwrap();
        let allotment = || one::<i64>("SELECT slot_allotment FROM grse.region_scaling_state WHERE region_id = $1", id);
        Spi::run_with_args("SELECT grse.set_monthly_budget($1, 1000000000)", &[id.into()]).unwrap();
        // hot for an hour (what a backend that saw contended spends writes), as every backend reads it
        internal(
            "UPDATE grse.region_scaling_state SET auto_slots_until = now() + interval '1 hour' WHERE region_id = $1",
        );
        crate::policy::invalidate_everywhere().unwrap();
        let now = crate::clock::now_us();
        let seen = crate::policy::slot_setting(id, now).unwrap().unwrap();
        assert_eq!(seen.auto_until, Some(now + 3_600_000_000), "the end read on the clock's own scale");
        assert_eq!(crate::policy::budget_slots(id).unwrap(), 32);
        assert!(crate::policy::auto_slots_on(id).unwrap());
        assert!(one::<bool>("SELECT grse.check_and_decrement_budget($1, 100)", id));
        assert!(allotment() > 0, "the spend filled the automatic slots");
        // the monthly reset needs every slot in the pool: it ends the automatic slots and rests them
        Spi::run("SELECT grse.reset_monthly_budgets()").unwrap();
        assert!(one::<bool>(
            "SELECT auto_slots_until = now() AND auto_slots_off_until = now() + interval '60 seconds'
               FROM grse.region_scaling_state WHERE region_id = $1",
            id
        ));
        assert_eq!(allotment(), 0);
        assert_eq!(crate::policy::budget_slots(id).unwrap(), 1);
        assert!(!crate::policy::auto_slots_on(id).unwrap());
        assert!(!crate::policy::auto_slots_may_start(id).unwrap());
        // spends go to the pool and fill nothing while they rest
        assert!(one::<bool>("SELECT grse.check_and_decrement_budget($1, 100)", id));
        assert_eq!(allotment(), 0);
        // once the rest is over, the region may take them again
        internal("UPDATE grse.region_scaling_state SET auto_slots_off_until = now() - interval '1 second' WHERE region_id = $1");
        crate::policy::invalidate_everywhere().unwrap();
        assert!(crate::policy::auto_slots_may_start(id).unwrap());
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM grse.verify_invariants()").unwrap(), Some(0));
    }

    #[pg_test]
    fn new_holds_and_jobs_get_time_ordered_ids() {
        let id = region("ordered-ids");
        // job ids and hold ids, in the order they were made
        let ids: Vec<String> = (0..3)
            .flat_map(|_| {
                let job = one::<Uuid>(
                    "SELECT job_id FROM grse.admit_job('posting', region_id => $1, estimated_cost => 1)",
                    id,
                );
                let hold = one::<Uuid>("SELECT hold_id FROM grse.reserve_budget($1, 1)", id);
                [job.to_string(), hold.to_string()]
            })
            .collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} was made before {}", pair[0], pair[1]);
        }
        // version 7 (RFC 9562): the version nibble, then the variant bits 10
        assert!(ids.iter().all(|u| u.as_bytes()[14] == b'7' && matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b')));
    }
}
