//! The database side of a request, as PostgREST does it: one transaction per request that first
//! switches to the token's role and publishes its claims (`set_config('role', ..., true)` is
//! `SET LOCAL ROLE` with a bound parameter), then runs the request's statements. The transaction
//! is pipelined: BEGIN, the switch, the statements and COMMIT go out in one round trip once the
//! statements are prepared on the connection. Every value is a bound parameter.

use crate::auth::Caller;
use crate::config::Config;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime};
use futures_util::future::{join3, join_all};
use serde_json::Value;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{NoTls, Row, Statement};

/// The switch to the caller's role and claims, with the request's statement timeout.
const AUTH_SQL: &str = "SELECT pg_catalog.set_config('role', $1, true), \
                        pg_catalog.set_config('request.jwt.claims', $2, true), \
                        pg_catalog.set_config('statement_timeout', $3, true)";

/// A database error as the server reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

#[derive(Debug)]
pub enum DbError {
    /// No connection (server down, restarting, refusing connections, pool exhausted).
    Unavailable(String),
    /// The login role may not switch to the token's role (or it does not exist).
    RoleRefused(PgError),
    /// A statement raised an error.
    Failed(PgError),
    /// Anything else (a bug): logged, answered as 500.
    Internal(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unavailable(m) | DbError::Internal(m) => f.write_str(m),
            DbError::RoleRefused(e) | DbError::Failed(e) => write!(f, "{} ({})", e.message, e.code),
        }
    }
}

/// One statement of a request: SQL with `$n` placeholders and their values, all sent as text
/// (the SQL casts them, so a malformed value is the database's error, with its message).
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<Option<String>>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, params: Vec<Option<String>>) -> Stmt {
        Stmt { sql: sql.into(), params }
    }
}

#[derive(Clone)]
pub struct Db {
    pool: Pool,
    statement_timeout_ms: String,
}

pub fn pg_config(url: &str) -> Result<tokio_postgres::Config, String> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(|e| format!("DATABASE_URL: {e}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    if config.get_application_name().is_none() {
        config.application_name("grse-http");
    }
    Ok(config)
}

impl Db {
    /// The pool (no connection is opened until the first request).
    pub fn new(config: &Config) -> Result<Db, String> {
        let manager = Manager::from_config(
            pg_config(&config.database_url)?,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.request_timeout))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("connection pool: {e}"))?;
        Ok(Db { pool, statement_timeout_ms: config.request_timeout.as_millis().to_string() })
    }

    /// Runs `stmts` in one transaction as `caller`; the rows of each statement, in order.
    /// Runs in its own task: a client that goes away does not cut the transaction short.
    pub async fn run(&self, caller: &Caller, stmts: Vec<Stmt>) -> Result<Vec<Vec<Row>>, DbError> {
        let db = self.clone();
        let caller = caller.clone();
        tokio::spawn(async move { db.run_here(&caller, &stmts).await })
            .await
            .map_err(|e| DbError::Internal(format!("request task failed: {e}")))?
    }

    /// The one text column of each statement's first row (NULL or no row: None).
    pub async fn texts(&self, caller: &Caller, stmts: Vec<Stmt>) -> Result<Vec<Option<String>>, DbError> {
        let rows = self.run(caller, stmts).await?;
        rows.iter().map(|r| first_text(r)).collect()
    }

    /// That text of each statement parsed as JSON (NULL, no row or not JSON: `null`).
    pub async fn json<const N: usize>(&self, caller: &Caller, stmts: [Stmt; N]) -> Result<[Value; N], DbError> {
        let texts = self.texts(caller, Vec::from(stmts)).await?;
        let values: Vec<Value> = texts
            .iter()
            .map(|t| t.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null))
            .collect();
        values.try_into().map_err(|_| DbError::Internal("not one answer per statement".into()))
    }

    async fn run_here(&self, caller: &Caller, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>, DbError> {
        let object = self.pool.get().await.map_err(pool_error)?;
        let client: &deadpool_postgres::ClientWrapper = &object;
        let auth = prepare_auth(client).await?;
        let auth_params = self.auth_params(caller);

        // Polled in this order, so sent in this order: BEGIN, the switch, then (statements
        // prepared inside the transaction, as the caller, if not yet cached) the statements and
        // COMMIT. With every statement cached, all of it goes out at once.
        let (begun, switched, rest) = join3(client.batch_execute("BEGIN"), client.query(&auth, &auth_params), async {
            let mut prepared = Vec::with_capacity(stmts.len());
            for s in stmts {
                prepared.push(client.prepare_typed_cached(&s.sql, &text_types(&s.params)).await?);
            }
            let runs = prepared.iter().zip(stmts).map(|(p, s)| {
                let params = text_params(&s.params);
                async move { client.query(p, &params).await }
            });
            let (results, committed) = futures_util::future::join(join_all(runs), client.batch_execute("COMMIT")).await;
            Ok::<_, tokio_postgres::Error>((results, committed))
        })
        .await;

        let closed = matches!(&rest, Ok((_, Ok(()))));
        let outcome = (|| {
            begun.map_err(failed)?;
            switched.map_err(role_error)?;
            let (results, committed) = rest.map_err(failed)?;
            let rows = results.into_iter().collect::<Result<Vec<_>, _>>().map_err(failed)?;
            committed.map_err(failed)?;
            Ok(rows)
        })();
        if !closed {
            // The transaction may still be open (a statement failed before COMMIT was sent):
            // close it, or keep the connection out of the pool.
            end_or_discard(object, "ROLLBACK").await;
        }
        outcome
    }

    /// `SELECT 1` without a role switch (for /healthz).
    pub async fn ping(&self) -> Result<(), DbError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        client.batch_execute("SELECT 1").await.map_err(failed)
    }

    /// Facts about the login role, for the start-up log: (name, superuser, bypasses RLS).
    pub async fn login_role(&self) -> Result<(String, bool, bool), DbError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let row = client
            .query_one(
                "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .map_err(failed)?;
        Ok((row.get(0), row.get(1), row.get(2)))
    }
}

/// A read-only REPEATABLE READ transaction as a caller, for statements that depend on each
/// other's answers (one snapshot for all of them). End it with `end`.
pub struct Session {
    client: Option<Object>,
}

impl Db {
    pub async fn session(&self, caller: &Caller) -> Result<Session, DbError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let auth = prepare_auth(&client).await?;
        let mut session = Session { client: Some(client) };
        let begun = async {
            let client = session.client.as_ref().expect("open session");
            client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(failed)?;
            client.query(&auth, &self.auth_params(caller)).await.map_err(role_error)?;
            Ok(())
        }
        .await;
        match begun {
            Ok(()) => Ok(session),
            Err(e) => {
                session.end(false).await;
                Err(e)
            }
        }
    }
}

impl Session {
    pub async fn query(&self, sql: &str, params: &[Option<String>]) -> Result<Vec<Row>, DbError> {
        let client = self.client.as_ref().expect("open session");
        let stmt = client.prepare_typed_cached(sql, &text_types(params)).await.map_err(failed)?;
        client.query(&stmt, &text_params(params)).await.map_err(failed)
    }

    /// Commits (`ok`) or rolls back; a connection that cannot do either leaves the pool.
    pub async fn end(&mut self, ok: bool) {
        if let Some(client) = self.client.take() {
            end_or_discard(client, if ok { "COMMIT" } else { "ROLLBACK" }).await;
        }
    }
}

impl Db {
    /// The parameters of `AUTH_SQL` for `caller`.
    fn auth_params<'a>(&'a self, caller: &'a Caller) -> [&'a (dyn ToSql + Sync); 3] {
        [&caller.role, &caller.claims, &self.statement_timeout_ms]
    }
}

/// `AUTH_SQL`, prepared (once per connection).
async fn prepare_auth(client: &deadpool_postgres::ClientWrapper) -> Result<Statement, DbError> {
    client.prepare_typed_cached(AUTH_SQL, &[Type::TEXT, Type::TEXT, Type::TEXT]).await.map_err(failed)
}

/// Every parameter is sent as text.
fn text_types(params: &[Option<String>]) -> Vec<Type> {
    vec![Type::TEXT; params.len()]
}

fn text_params(params: &[Option<String>]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Ends the transaction on `client` with `sql` (COMMIT or ROLLBACK); a connection that cannot
/// leaves the pool.
async fn end_or_discard(client: Object, sql: &str) {
    if client.batch_execute(sql).await.is_err() {
        drop(Object::take(client));
    }
}

/// The first column of the first row as text.
pub fn first_text(rows: &[Row]) -> Result<Option<String>, DbError> {
    match rows.first() {
        None => Ok(None),
        Some(row) => row.try_get::<_, Option<String>>(0).map_err(|e| DbError::Internal(format!("row decoding: {e}"))),
    }
}

fn pool_error(e: PoolError) -> DbError {
    DbError::Unavailable(format!("no database connection: {e}"))
}

/// A database error raised by the role switch: a role the login may not take (42501) or that
/// does not exist (22023) is refused; anything else is classified as usual.
fn role_error(e: tokio_postgres::Error) -> DbError {
    match failed(e) {
        DbError::Failed(pg) if pg.code == "42501" || pg.code == "22023" => DbError::RoleRefused(pg),
        other => other,
    }
}

/// Classifies a client error: a lost or refused connection is "unavailable".
pub fn failed(e: tokio_postgres::Error) -> DbError {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code().to_string();
            if code.starts_with("08") || code.starts_with("57P") || code == "53300" {
                return DbError::Unavailable(format!("{} ({code})", db.message()));
            }
            DbError::Failed(PgError {
                code,
                message: db.message().to_string(),
                detail: db.detail().map(str::to_string),
                hint: db.hint().map(str::to_string),
            })
        }
        None if e.is_closed() => DbError::Unavailable(format!("connection closed: {e}")),
        None => DbError::Unavailable(format!("database connection: {e}")),
    }
}
