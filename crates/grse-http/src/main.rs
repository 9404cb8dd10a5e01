//! grse-http: the seed's HTTP endpoints and dashboard pages over the grse extension.
//! Configuration by environment; `grse-http --help` lists it.

mod api;
mod app;
mod auth;
mod charts;
mod config;
mod db;
mod error;
mod ledger;
mod live;
mod log;
mod metrics;
mod pages;
mod request;
mod state;
mod views;

use config::{Config, HELP};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("grse-http {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("token") => token(&args[1..]),
        Some(other) => {
            eprintln!("grse-http: unknown argument \"{other}\" (see grse-http --help)");
            ExitCode::from(2)
        }
        None => serve(),
    }
}

/// `grse-http token --role ROLE [--agency-id UUID] [--ttl DURATION] [--sub NAME]`
fn token(args: &[String]) -> ExitCode {
    let mut role = None;
    let mut agency = None;
    let mut sub = None;
    let mut ttl = std::time::Duration::from_secs(8 * 3600);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else {
            eprintln!("grse-http token: {flag} needs a value");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--role" => role = Some(value.clone()),
            "--agency-id" => agency = Some(value.clone()),
            "--sub" => sub = Some(value.clone()),
            "--ttl" => match config::parse_duration(value) {
                Ok(d) => ttl = d,
                Err(e) => {
                    eprintln!("grse-http token: --ttl {e}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("grse-http token: unknown option \"{flag}\" (see grse-http --help)");
                return ExitCode::from(2);
            }
        }
    }
    let Some(role) = role else {
        eprintln!("grse-http token: --role is required (for example --role grse_reader)");
        return ExitCode::from(2);
    };
    let secret = match std::env::var("GRSE_JWT_SECRET") {
        Ok(s) if !s.is_empty() => s,
        _ => {
            eprintln!("grse-http token: GRSE_JWT_SECRET must be set");
            return ExitCode::from(2);
        }
    };
    let claims = auth::token_claims(&role, agency.as_deref(), sub.as_deref(), ttl);
    println!("{}", auth::mint(secret.as_bytes(), &claims));
    ExitCode::SUCCESS
}

fn serve() -> ExitCode {
    let config = match Config::from_lookup(|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("grse-http: {e} (see grse-http --help)");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("grse-http: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("grse-http: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
    if let Some(w) = config.secret_warning() {
        log::warn(&w);
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let state = state::App::new(&config, stop_rx.clone())?;
    match state.db.login_role().await {
        Ok((name, superuser, bypass)) => {
            log::info(&format!("database: logged in as {name}"));
            if superuser || bypass {
                log::warn(&format!(
                    "database: {name} is a superuser or bypasses row-level security: any role claim is taken and \
                     tenants are not isolated; log in as a role that may only switch to the grse roles"
                ));
            }
        }
        Err(e) => log::warn(&format!("database: not reachable yet ({e}); answering 503 until it is")),
    }
    state.live.spawn_listener(config.database_url.clone(), stop_rx);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    log::info(&format!("listening on http://{}", listener.local_addr().map_err(|e| e.to_string())?));
    let router = app::router(state, &config);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            log::info("shutting down");
            let _ = stop_tx.send(true);
        })
        .await
        .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
