//! Job routing: per-job-type priority, estimated wait, admission by mode,
//! and the choice of the best region for a job type.

use crate::fixed::Centi;
use crate::mode::Mode;
use crate::policy::Policy;
use std::fmt;

/// The four job types of the seed. `performance` jobs are `intel` jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobType {
    Posting,
    Orchestration,
    Creative,
    Intel,
}

/// Routing parameters of a job type (seed values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteParams {
    /// Priority before pressure lowers it.
    pub base_priority: i32,
    /// Pressure points that lower the priority by one.
    pub pressure_divisor: i64,
    /// Seconds of estimated wait per queued job.
    pub seconds_per_queued_job: i64,
}

impl JobType {
    pub const ALL: [JobType; 4] = [JobType::Posting, JobType::Orchestration, JobType::Creative, JobType::Intel];

    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Posting => "posting",
            JobType::Orchestration => "orchestration",
            JobType::Creative => "creative",
            JobType::Intel => "intel",
        }
    }

    /// Reads a job type; `performance` is accepted as the seed's name for `intel`.
    pub fn parse(s: &str) -> Option<JobType> {
        match s {
            "performance" => Some(JobType::Intel),
            _ => JobType::ALL.into_iter().find(|t| t.as_str() == s),
        }
    }

    /// posting (5, 20, 2), orchestration (7, 25, 3), creative (4, 20, 5), intel (3, 30, 4).
    pub fn params(self) -> RouteParams {
        let (base_priority, pressure_divisor, seconds_per_queued_job) = match self {
            JobType::Posting => (5, 20, 2),
            JobType::Orchestration => (7, 25, 3),
            JobType::Creative => (4, 20, 5),
            JobType::Intel => (3, 30, 4),
        };
        RouteParams { base_priority, pressure_divisor, seconds_per_queued_job }
    }
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// priority = max(1, base − floor(pressure_of_that_type / divisor)); `base` is
/// the job type's base priority unless the caller asks for its own.
pub fn priority(job: JobType, requested_base: Option<i32>, type_pressure: Centi) -> i32 {
    let p = job.params();
    let base = i64::from(requested_base.unwrap_or(p.base_priority));
    let drop = type_pressure.0.max(0) / (100 * p.pressure_divisor);
    (base - drop).max(1).min(i64::from(i32::MAX)) as i32
}

/// estimated_wait (seconds) = jobs_in_queue · seconds per queued job.
pub fn estimated_wait(job: JobType, jobs_in_queue: i64) -> i64 {
    jobs_in_queue.max(0).saturating_mul(job.params().seconds_per_queued_job)
}

/// The delay before an admitted job may run: the policy's
/// `cautious_delay_seconds` in a cautious region ("all jobs, with delays"),
/// else 0. It adds to the estimated wait.
pub fn delay_seconds(policy: &Policy, mode: Mode) -> i32 {
    if mode == Mode::Cautious {
        policy.cautious_delay_seconds.max(0)
    } else {
        0
    }
}

/// Why a region does not take a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Frozen,
    ThrottledBlocksType(JobType),
    ThrottledCostTooHigh { cost: i64, limit: i64 },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Frozen => f.write_str("Region is frozen"),
            Refusal::ThrottledBlocksType(t) => write!(f, "Region is throttled: {t} jobs are blocked"),
            Refusal::ThrottledCostTooHigh { cost, limit } => {
                write!(f, "Region is throttled: only small operations are allowed (cost {cost} > {limit} cents)")
            }
        }
    }
}

impl Refusal {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Frozen => "region_frozen",
            Refusal::ThrottledBlocksType(_) => "throttled_job_type",
            Refusal::ThrottledCostTooHigh { .. } => "throttled_cost",
        }
    }
}

/// Whether a region in `mode` admits a job of type `job` (if known) with a
/// cost estimate of `cost` cents: frozen blocks everything; throttled blocks
/// creative jobs and admits only small operations (cost <= policy limit).
pub fn admits(policy: &Policy, mode: Mode, job: Option<JobType>, cost: i64) -> Result<(), Refusal> {
    match mode {
        Mode::Frozen => Err(Refusal::Frozen),
        Mode::Throttled if job == Some(JobType::Creative) => Err(Refusal::ThrottledBlocksType(JobType::Creative)),
        Mode::Throttled if cost > policy.small_job_max_cents => {
            Err(Refusal::ThrottledCostTooHigh { cost, limit: policy.small_job_max_cents })
        }
        _ => Ok(()),
    }
}

/// A region as seen by the best-region choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<Id> {
    pub id: Id,
    pub mode: Mode,
    pub capacity: Centi,
    /// Pressure of the job type in question.
    pub type_pressure: Centi,
}

/// Best region for a job type: among normal and cautious regions, the
/// preferred one if its capacity is above the policy limit (30), else the one
/// with the lowest pressure of that type; ties go to the higher capacity,
/// then to the smaller id.
pub fn best_region<'a, Id: Ord + PartialEq>(
    policy: &Policy,
    candidates: &'a [Candidate<Id>],
    preferred: Option<&Id>,
) -> Option<&'a Candidate<Id>> {
    let open = || candidates.iter().filter(|c| matches!(c.mode, Mode::Normal | Mode::Cautious));
    if let Some(pref) = preferred {
        if let Some(c) = open().find(|c| &c.id == pref && c.capacity > policy.preferred_region_min_capacity) {
            return Some(c);
        }
    }
    ranked(candidates).into_iter().next()
}

/// The normal and cautious candidates in the best-region order without a
/// preferred region: lowest pressure of the job type first, then higher
/// capacity, then smaller id. `best_region` takes the first; a migration
/// tries them in turn.
pub fn ranked<Id: Ord>(candidates: &[Candidate<Id>]) -> Vec<&Candidate<Id>> {
    let mut open: Vec<_> = candidates.iter().filter(|c| matches!(c.mode, Mode::Normal | Mode::Cautious)).collect();
    open.sort_by(|a, b| a.type_pressure.cmp(&b.type_pressure).then(b.capacity.cmp(&a.capacity)).then(a.id.cmp(&b.id)));
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cautious_delays() {
        let mut p = Policy { cautious_delay_seconds: 45, ..Policy::default() };
        assert_eq!(delay_seconds(&p, Mode::Cautious), 45);
        for m in [Mode::Normal, Mode::Throttled, Mode::Frozen] {
            assert_eq!(delay_seconds(&p, m), 0);
        }
        p.cautious_delay_seconds = 0;
        assert_eq!(delay_seconds(&p, Mode::Cautious), 0);
    }

    #[test]
    fn priority_drops_with_pressure() {
        assert_eq!(priority(JobType::Posting, None, Centi(0)), 5);
        assert_eq!(priority(JobType::Posting, None, Centi(1999)), 5);
        assert_eq!(priority(JobType::Posting, None, Centi(2000)), 4);
        assert_eq!(priority(JobType::Posting, None, Centi(10_000)), 1);
        assert_eq!(priority(JobType::Orchestration, None, Centi(5000)), 5);
        assert_eq!(priority(JobType::Creative, None, Centi(6000)), 1);
        assert_eq!(priority(JobType::Intel, None, Centi(6000)), 1);
        assert_eq!(priority(JobType::Intel, None, Centi(2999)), 3);
        assert_eq!(priority(JobType::Posting, Some(9), Centi(4000)), 7);
    }

    #[test]
    fn wait_is_queue_times_seconds() {
        assert_eq!(estimated_wait(JobType::Creative, 10), 50);
        assert_eq!(estimated_wait(JobType::Orchestration, 0), 0);
        assert_eq!(estimated_wait(JobType::Intel, i64::MAX), i64::MAX);
    }

    #[test]
    fn modes_block_as_the_seed_says() {
        let pol = Policy::default();
        assert_eq!(admits(&pol, Mode::Frozen, Some(JobType::Posting), 0), Err(Refusal::Frozen));
        assert!(admits(&pol, Mode::Throttled, Some(JobType::Creative), 1).is_err());
        assert!(admits(&pol, Mode::Throttled, Some(JobType::Posting), 100).is_ok());
        assert!(admits(&pol, Mode::Throttled, Some(JobType::Posting), 101).is_err());
        assert!(admits(&pol, Mode::Cautious, Some(JobType::Creative), 10_000).is_ok());
    }

    #[test]
    fn best_region_rules() {
        let pol = Policy::default();
        let c = |id: u32, mode, capacity, p| Candidate { id, mode, capacity: Centi(capacity), type_pressure: Centi(p) };
        let regions = vec![
            c(1, Mode::Normal, 8000, 5000),
            c(2, Mode::Cautious, 4000, 1000),
            c(3, Mode::Frozen, 9000, 0),
            c(4, Mode::Normal, 9000, 1000),
        ];
        assert_eq!(best_region(&pol, &regions, None).map(|c| c.id), Some(4));
        assert_eq!(best_region(&pol, &regions, Some(&1)).map(|c| c.id), Some(1));
        assert_eq!(best_region(&pol, &regions, Some(&3)).map(|c| c.id), Some(4));
        // a preferred region at exactly 30 capacity is not kept: the lowest pressure wins
        let weak = vec![c(1, Mode::Normal, 3000, 500), c(2, Mode::Normal, 9000, 100)];
        assert_eq!(best_region(&pol, &weak, Some(&1)).map(|c| c.id), Some(2));
        let none: Vec<Candidate<u32>> = vec![c(1, Mode::Throttled, 9000, 0)];
        assert_eq!(best_region(&pol, &none, None), None);
    }

    #[test]
    fn job_type_names() {
        assert_eq!(JobType::parse("performance"), Some(JobType::Intel));
        assert_eq!(JobType::parse("intel"), Some(JobType::Intel));
        assert_eq!(JobType::parse("video"), None);
    }
}
