//! Shard keys: a stable hash of the tenant picks one of N shards of a region.
//!
//! The scheme is part of grse's stable interface and does not change between
//! versions:
//!
//! 1. `h = FNV-1a-64(the tenant id's 16 bytes, big-endian as written)`;
//! 2. `shard = jump_consistent_hash(h, N)` (Lamping & Veach, 2014), so that
//!    growing a region from N to N+1 shards moves only about 1/(N+1) of its
//!    tenants;
//! 3. `key = "{region_slug}/{job_type}/{shard}"`, the shard number zero-padded
//!    to the width of `N - 1`.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64-bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME))
}

/// Jump consistent hash: a bucket in `[0, buckets)` for `key`.
pub fn jump_consistent_hash(mut key: u64, buckets: u32) -> u32 {
    let buckets = i64::from(buckets.max(1));
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < buckets {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

/// The shard of a tenant among `shards` shards.
pub fn shard_of(tenant: &[u8; 16], shards: u32) -> u32 {
    jump_consistent_hash(fnv1a64(tenant), shards)
}

/// The readable shard key `"{region_slug}/{job_type}/{shard}"`.
pub fn shard_key(region_slug: &str, job_type: &str, shard: u32, shards: u32) -> String {
    let width = shards.saturating_sub(1).max(1).to_string().len();
    format!("{region_slug}/{job_type}/{shard:0width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn jump_hash_reference_values() {
        // values from the paper's reference implementation
        assert_eq!(jump_consistent_hash(0, 1), 0);
        assert_eq!(jump_consistent_hash(1, 1), 0);
        assert_eq!(jump_consistent_hash(0xDEAD_BEEF, 1), 0);
        for key in 0..1000u64 {
            assert!(jump_consistent_hash(key, 16) < 16);
        }
    }

    #[test]
    fn spreads_and_moves_few_on_growth() {
        let tenants: Vec<[u8; 16]> = (0..16_000u128).map(|i| (i * 0x9E37_79B9_7F4A_7C15).to_be_bytes()).collect();
        let mut counts = [0u32; 16];
        for t in &tenants {
            counts[shard_of(t, 16) as usize] += 1;
        }
        // every shard gets a fair share (1000 expected)
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
        let moved = tenants.iter().filter(|t| shard_of(t, 16) != shard_of(t, 17)).count();
        // about 1/17 should move
        assert!(moved < 16_000 / 17 + 200, "moved {moved}");
        assert!(tenants.iter().all(|t| {
            let (a, b) = (shard_of(t, 16), shard_of(t, 17));
            a == b || b == 16
        }));
    }

    #[test]
    fn key_format() {
        assert_eq!(shard_key("eu-west", "posting", 7, 16), "eu-west/posting/07");
        assert_eq!(shard_key("us", "intel", 3, 1000), "us/intel/003");
        assert_eq!(shard_key("us", "intel", 0, 1), "us/intel/0");
    }
}
