//! Configuration from the environment (pure: the lookup is passed in, so it is unit-tested).

use std::net::SocketAddr;
use std::time::Duration;

/// What `grse-http --help` prints.
pub const HELP: &str = "\
grse-http — the HTTP API, dashboard pages, live updates and Prometheus metrics of grse

Usage:
  grse-http                      serve (configuration from the environment)
  grse-http token --role ROLE [--agency-id UUID] [--ttl DURATION] [--sub NAME]
                                 print an HS256 JWT signed with GRSE_JWT_SECRET
                                 (DURATION: seconds or a number with s, m, h or d; default 8h)
  grse-http --help | --version

Environment:
  DATABASE_URL          PostgreSQL connection (URL or key=value form), required. Log in as a
                        role that may only switch to the grse roles (see docs/http.md).
  GRSE_JWT_SECRET       HS256 secret of the bearer tokens, required (use 32 random bytes or more;
                        a shorter one is warned about).
  GRSE_HTTP_ADDR        address to listen on: host:port, :port (every interface) or a port
                        (default 127.0.0.1:8080).
  GRSE_DB_POOL_SIZE     database connections of the pool (default 16).
  GRSE_REQUEST_TIMEOUT  seconds a request may take, also the statement_timeout (default 30).

Endpoints: GET /api/regions/health, GET|POST /api/regions/{id}/snapshot, GET /healthz,
GET /metrics, pages /regions and /regions/{id} (sign in at /signin).
";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub addr: SocketAddr,
    pub jwt_secret: Vec<u8>,
    pub pool_size: usize,
    pub request_timeout: Duration,
}

/// The shortest secret that is not warned about (PostgREST's minimum).
pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the settings through `get` (the environment in `main`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let database_url = get("DATABASE_URL")
            .filter(|v| !v.trim().is_empty())
            .ok_or("DATABASE_URL is not set (for example postgresql://grse_http@127.0.0.1:5432/app)")?;
        let jwt_secret =
            get("GRSE_JWT_SECRET").filter(|v| !v.is_empty()).ok_or("GRSE_JWT_SECRET is not set")?.into_bytes();
        let addr = match get("GRSE_HTTP_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => parse_addr(&v)?,
        };
        let pool_size = positive(&get, "GRSE_DB_POOL_SIZE", 16, 1000)?;
        let timeout = positive(&get, "GRSE_REQUEST_TIMEOUT", 30, 3600)?;
        Ok(Config { database_url, addr, jwt_secret, pool_size, request_timeout: Duration::from_secs(timeout as u64) })
    }
}

/// A listen address: `host:port` (a name such as `localhost` is resolved), `:port` (every
/// interface) or a bare port (loopback).
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let t = text.trim();
    let candidate = if let Some(port) = t.strip_prefix(':') {
        format!("0.0.0.0:{port}")
    } else if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        format!("127.0.0.1:{t}")
    } else {
        t.to_string()
    };
    candidate
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("GRSE_HTTP_ADDR \"{text}\" is not an address like 127.0.0.1:8080"))
}

impl Config {
    /// Why the secret is weak, if it is (shorter than PostgREST's minimum of 32 characters).
    pub fn secret_warning(&self) -> Option<String> {
        (self.jwt_secret.len() < MIN_SECRET_BYTES).then(|| {
            format!(
                "GRSE_JWT_SECRET is {} bytes long: use at least {MIN_SECRET_BYTES} random bytes, a short HS256 secret can be guessed",
                self.jwt_secret.len()
            )
        })
    }
}

/// An optional positive integer setting in [1, max].
fn positive(get: &impl Fn(&str) -> Option<String>, name: &str, default: usize, max: usize) -> Result<usize, String> {
    match get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("{name} \"{v}\" must be an integer in [1, {max}]")),
        },
    }
}

/// Parses a token lifetime: plain seconds or a number with `s`, `m`, `h` or `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let n: u64 = digits.parse().map_err(|_| format!("\"{text}\" is not a duration like 3600, 90m, 8h or 7d"))?;
    let secs = match unit {
        's' => Some(n),
        'm' => n.checked_mul(60),
        'h' => n.checked_mul(3600),
        'd' => n.checked_mul(86_400),
        _ => None,
    };
    match secs {
        Some(s) if s > 0 => Ok(Duration::from_secs(s)),
        _ => Err(format!("\"{text}\" is not a positive duration like 3600, 90m, 8h or 7d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults() {
        let c = Config::from_lookup(lookup(&[("DATABASE_URL", "postgresql://x@h/db"), ("GRSE_JWT_SECRET", SECRET)]))
            .unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.pool_size, 16);
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.jwt_secret, SECRET.as_bytes());
    }

    #[test]
    fn every_setting() {
        let c = Config::from_lookup(lookup(&[
            ("DATABASE_URL", "host=/tmp dbname=x"),
            ("GRSE_JWT_SECRET", SECRET),
            ("GRSE_HTTP_ADDR", "0.0.0.0:9000"),
            ("GRSE_DB_POOL_SIZE", "4"),
            ("GRSE_REQUEST_TIMEOUT", "5"),
        ]))
        .unwrap();
        assert_eq!(c.addr.to_string(), "0.0.0.0:9000");
        assert_eq!(c.pool_size, 4);
        assert_eq!(c.request_timeout, Duration::from_secs(5));
    }

    #[test]
    fn refusals() {
        let err = |pairs: &[(&str, &str)]| Config::from_lookup(lookup(pairs)).unwrap_err();
        assert!(err(&[("GRSE_JWT_SECRET", SECRET)]).contains("DATABASE_URL"));
        assert!(err(&[("DATABASE_URL", "x")]).contains("GRSE_JWT_SECRET is not set"));
        assert!(err(&[("DATABASE_URL", "x"), ("GRSE_JWT_SECRET", "")]).contains("GRSE_JWT_SECRET is not set"));
        assert!(err(&[("DATABASE_URL", "x"), ("GRSE_JWT_SECRET", SECRET), ("GRSE_HTTP_ADDR", "nowhere")])
            .contains("GRSE_HTTP_ADDR"));
        assert!(err(&[("DATABASE_URL", "x"), ("GRSE_JWT_SECRET", SECRET), ("GRSE_DB_POOL_SIZE", "0")])
            .contains("[1, 1000]"));
        assert!(err(&[("DATABASE_URL", "x"), ("GRSE_JWT_SECRET", SECRET), ("GRSE_REQUEST_TIMEOUT", "soon")])
            .contains("GRSE_REQUEST_TIMEOUT"));
    }

    #[test]
    fn addresses_and_weak_secrets() {
        assert_eq!(parse_addr("0.0.0.0:9000").unwrap().to_string(), "0.0.0.0:9000");
        assert_eq!(parse_addr(":9001").unwrap().to_string(), "0.0.0.0:9001");
        assert_eq!(parse_addr("9002").unwrap().to_string(), "127.0.0.1:9002");
        assert_eq!(parse_addr("localhost:9003").unwrap().port(), 9003);
        assert_eq!(parse_addr("[::1]:9004").unwrap().to_string(), "[::1]:9004");
        assert!(parse_addr("nowhere").is_err());
        let c = Config::from_lookup(lookup(&[("DATABASE_URL", "x"), ("GRSE_JWT_SECRET", "short")])).unwrap();
        assert!(c.secret_warning().unwrap().contains("5 bytes long"));
        let c = Config::from_lookup(lookup(&[("DATABASE_URL", "x"), ("GRSE_JWT_SECRET", SECRET)])).unwrap();
        assert!(c.secret_warning().is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("8h").unwrap(), Duration::from_secs(28_800));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        for bad in ["", "0", "-5", "h", "5w", "1.5h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
