-- metric write, batch form: the same write for all 105 regions in one statement (one
-- commit per 105 row writes), so the per-row trigger cost is not hidden behind
-- the commit's WAL flush; grse.region_scaling_state.
UPDATE grse.region_scaling_state
   SET posting_pressure = floor(random() * 91), orchestration_pressure = floor(random() * 91),
       creative_pressure = floor(random() * 91), intel_pressure = floor(random() * 91);
