-- Triggers. The functions are Rust (src/triggers/).

-- Every metric write recomputes overall pressure, capacity, warning index and
-- mode in the writing transaction; budget columns are guarded; the row's rules
-- (see sql/schema.sql) are checked on the row as written; a real mode change, a
-- pin and an unpin are recorded and announced (NOTIFY grse_mode_changed).
CREATE TRIGGER region_scaling_state_derive
    BEFORE INSERT OR UPDATE ON grse.region_scaling_state
    FOR EACH ROW EXECUTE FUNCTION grse.state_before_write();

CREATE TRIGGER region_scaling_state_no_delete
    BEFORE DELETE ON grse.region_scaling_state
    FOR EACH ROW EXECUTE FUNCTION grse.state_delete_guard();
CREATE TRIGGER region_scaling_state_no_truncate
    BEFORE TRUNCATE ON grse.region_scaling_state
    FOR EACH STATEMENT EXECUTE FUNCTION grse.state_delete_guard();
ALTER TABLE grse.region_scaling_state
    ENABLE ALWAYS TRIGGER region_scaling_state_no_delete,
    ENABLE ALWAYS TRIGGER region_scaling_state_no_truncate;

-- A new region gets its state row and opening allocation.
CREATE TRIGGER regions_create_state
    AFTER INSERT ON grse.regions
    FOR EACH ROW EXECUTE FUNCTION grse.region_after_insert();
-- ... and its state row a copy of its active flag (region_active), which the
-- budget calls read in place of a join with grse.regions.
CREATE TRIGGER regions_copy_active
    AFTER UPDATE OF active ON grse.regions
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION grse.region_after_update();

-- The ledger, the roll-over record and the mode transitions are append-only
-- and written by grse only, for every role (the ledger's guard also checks
-- its row rules, and the slots' guard theirs); ENABLE ALWAYS keeps the guards on
-- under session_replication_role = replica too.
CREATE TRIGGER region_budget_transactions_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.region_budget_transactions
    FOR EACH ROW EXECUTE FUNCTION grse.ledger_guard();
CREATE TRIGGER region_budget_transactions_no_truncate
    BEFORE TRUNCATE ON grse.region_budget_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION grse.append_only_guard();
ALTER TABLE grse.region_budget_transactions
    ENABLE ALWAYS TRIGGER region_budget_transactions_append_only,
    ENABLE ALWAYS TRIGGER region_budget_transactions_no_truncate;

-- Budget slots are written by grse's budget functions only.
CREATE TRIGGER region_budget_slots_internal_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.region_budget_slots
    FOR EACH ROW EXECUTE FUNCTION grse.slot_guard();
CREATE TRIGGER region_budget_slots_no_truncate
    BEFORE TRUNCATE ON grse.region_budget_slots
    FOR EACH STATEMENT EXECUTE FUNCTION grse.internal_write_guard();
ALTER TABLE grse.region_budget_slots
    ENABLE ALWAYS TRIGGER region_budget_slots_internal_only,
    ENABLE ALWAYS TRIGGER region_budget_slots_no_truncate;

CREATE TRIGGER budget_rollovers_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.budget_rollovers
    FOR EACH ROW EXECUTE FUNCTION grse.append_only_guard();
CREATE TRIGGER budget_rollovers_no_truncate
    BEFORE TRUNCATE ON grse.budget_rollovers
    FOR EACH STATEMENT EXECUTE FUNCTION grse.append_only_guard();
ALTER TABLE grse.budget_rollovers
    ENABLE ALWAYS TRIGGER budget_rollovers_append_only,
    ENABLE ALWAYS TRIGGER budget_rollovers_no_truncate;

CREATE TRIGGER region_mode_transitions_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.region_mode_transitions
    FOR EACH ROW EXECUTE FUNCTION grse.transition_guard();
CREATE TRIGGER region_mode_transitions_no_truncate
    BEFORE TRUNCATE ON grse.region_mode_transitions
    FOR EACH STATEMENT EXECUTE FUNCTION grse.append_only_guard();
ALTER TABLE grse.region_mode_transitions
    ENABLE ALWAYS TRIGGER region_mode_transitions_append_only,
    ENABLE ALWAYS TRIGGER region_mode_transitions_no_truncate;

-- The policy is one row; changing it re-judges every region. The row of a
-- dump being restored (grse.pre_restore) or of a publisher's initial copy
-- replaces grse's own; the guards are ENABLE ALWAYS so that logical
-- replication apply workers fire them too (policy_applied drops the cached
-- policy when an apply worker changes it: statement triggers do not fire there).
CREATE TRIGGER policy_one_row
    BEFORE INSERT OR DELETE ON grse.policy
    FOR EACH ROW EXECUTE FUNCTION grse.policy_guard();
CREATE TRIGGER policy_no_truncate
    BEFORE TRUNCATE ON grse.policy
    FOR EACH STATEMENT EXECUTE FUNCTION grse.policy_guard();
CREATE TRIGGER policy_applied
    AFTER UPDATE ON grse.policy
    FOR EACH ROW EXECUTE FUNCTION grse.policy_guard();
ALTER TABLE grse.policy
    ENABLE ALWAYS TRIGGER policy_one_row,
    ENABLE ALWAYS TRIGGER policy_no_truncate,
    ENABLE ALWAYS TRIGGER policy_applied;
CREATE TRIGGER policy_rejudge_regions
    AFTER UPDATE ON grse.policy
    FOR EACH STATEMENT EXECUTE FUNCTION grse.policy_after_update();

-- updated_at bookkeeping for plain tables (grse.touch_updated_at is Rust: src/triggers/touch.rs).
CREATE TRIGGER regions_touch BEFORE UPDATE ON grse.regions
    FOR EACH ROW EXECUTE FUNCTION grse.touch_updated_at();
CREATE TRIGGER agency_regions_touch BEFORE UPDATE ON grse.agency_regions
    FOR EACH ROW EXECUTE FUNCTION grse.touch_updated_at();
CREATE TRIGGER policy_touch BEFORE UPDATE ON grse.policy
    FOR EACH ROW EXECUTE FUNCTION grse.touch_updated_at();

-- Alert rules: updated_at bookkeeping.
CREATE TRIGGER alert_rules_touch BEFORE UPDATE ON grse.alert_rules
    FOR EACH ROW EXECUTE FUNCTION grse.touch_updated_at();
