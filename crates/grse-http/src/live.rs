//! Live updates: one connection LISTENs on `grse_mode_changed` and `grse_alerts` and fans the
//! notifications out to the pages' server-sent event streams. Each subscriber gets only what its
//! own role may see: an event is passed on only after a visibility check run as the subscriber
//! (row-level security decides), so a tenant never hears of another agency's regions.

use crate::auth::{self, Caller};
use crate::db::{failed, pg_config, Db, Stmt};
use crate::log;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde_json::Value;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio_postgres::{AsyncMessage, NoTls};

pub const CHANNELS: [&str; 2] = ["grse_mode_changed", "grse_alerts"];

/// One notification, or a note that some may have been missed (`resync`).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// SSE event name: `mode`, `alert` or `resync`.
    pub kind: &'static str,
    /// The notification's JSON payload as sent by grse.
    pub data: String,
    /// What the subscriber must be able to see: a region id (mode) or an alert id (alert).
    pub subject: Option<String>,
}

impl LiveEvent {
    pub fn resync() -> LiveEvent {
        LiveEvent { kind: "resync", data: "{}".into(), subject: None }
    }

    /// The event of a notification on `channel` (None for a payload that is not grse's).
    pub fn from_notification(channel: &str, payload: &str) -> Option<LiveEvent> {
        let json: Value = serde_json::from_str(payload).ok()?;
        let (kind, key) = match channel {
            "grse_mode_changed" => ("mode", "region_id"),
            "grse_alerts" => ("alert", "id"),
            _ => return None,
        };
        let subject = match &json[key] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => return None,
        };
        Some(LiveEvent { kind, data: payload.to_string(), subject })
    }

    /// The check, run as the subscriber, that it may see this event's subject.
    fn visibility(&self) -> Option<Stmt> {
        let subject = self.subject.clone()?;
        let sql = match self.kind {
            "mode" => "SELECT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = $1::uuid)::text",
            _ => "SELECT EXISTS (SELECT 1 FROM grse.alerts a WHERE a.id = $1::bigint)::text",
        };
        Some(Stmt::new(sql, vec![Some(subject)]))
    }
}

/// The fan-out of live events.
#[derive(Clone)]
pub struct Live {
    tx: broadcast::Sender<LiveEvent>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    pub fn new() -> Live {
        Live { tx: broadcast::channel(1024).0 }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// Keeps a LISTEN connection open (reconnecting with a growing pause when it drops) and
    /// broadcasts what arrives; after every (re)connection subscribers get a `resync`.
    pub fn spawn_listener(&self, database_url: String, mut shutdown: watch::Receiver<bool>) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(250);
            loop {
                match listen_once(&database_url, &tx).await {
                    Ok(()) => log::warn("live: LISTEN connection closed; reconnecting"),
                    Err(e) => log::warn(&format!("live: LISTEN connection failed: {e}; retrying in {pause:?}")),
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => return,
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        });
    }
}

async fn listen_once(database_url: &str, tx: &broadcast::Sender<LiveEvent>) -> Result<(), String> {
    let config = pg_config(database_url)?;
    let (client, mut connection) = config.connect(NoTls).await.map_err(|e| failed(e).to_string())?;
    let (note_tx, mut note_rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = note_tx.send((n.channel().to_string(), n.payload().to_string()));
                }
                Ok(_) => {}
                Err(e) => return Err(failed(e).to_string()),
            }
        }
        Ok(())
    });
    let listen: String = CHANNELS.iter().map(|c| format!("LISTEN {c};")).collect();
    client.batch_execute(&listen).await.map_err(|e| failed(e).to_string())?;
    log::info(&format!("live: listening on {}", CHANNELS.join(", ")));
    let _ = tx.send(LiveEvent::resync());
    while let Some((channel, payload)) = note_rx.recv().await {
        if let Some(event) = LiveEvent::from_notification(&channel, &payload) {
            let _ = tx.send(event);
        }
    }
    drop(client);
    driver.await.map_err(|e| e.to_string())?
}

/// The SSE stream of one subscriber (`events` from `Live::subscribe`): the events it may see
/// (checked on `db`), until its token expires or the server shuts down.
pub fn stream(
    db: Db,
    events: broadcast::Receiver<LiveEvent>,
    shutdown: watch::Receiver<bool>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    struct S {
        db: Db,
        caller: Caller,
        rx: broadcast::Receiver<LiveEvent>,
        shutdown: watch::Receiver<bool>,
        expires: Option<tokio::time::Instant>,
        greeted: bool,
        done: bool,
    }
    let expires = caller.expires_at.map(|exp| {
        let left = exp.saturating_sub(auth::now_secs());
        tokio::time::Instant::now() + Duration::from_secs(left)
    });
    let state = S { db, caller, rx: events, shutdown, expires, greeted: false, done: false };
    let events = stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        if !s.greeted {
            s.greeted = true;
            return Some((Ok(Event::default().event("hello").data("{}")), s));
        }
        loop {
            let expires = s.expires;
            let expiry = async move {
                match expires {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let received = tokio::select! {
                r = s.rx.recv() => r,
                _ = expiry => {
                    // the page asks the user to sign in again
                    s.done = true;
                    return Some((Ok(Event::default().event("expired").data("{}")), s));
                }
                _ = s.shutdown.changed() => return None,
            };
            let event = match received {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(_)) => LiveEvent::resync(),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            if visible(&s.db, &s.caller, &event).await {
                return Some((Ok(Event::default().event(event.kind).data(event.data)), s));
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn visible(db: &Db, caller: &Caller, event: &LiveEvent) -> bool {
    let Some(check) = event.visibility() else { return true };
    match db.texts(caller, vec![check]).await {
        Ok(v) => v.first().and_then(|t| t.as_deref()) == Some("true"),
        Err(e) => {
            log::warn(&format!("live: visibility check failed: {e}"));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications() {
        let e =
            LiveEvent::from_notification("grse_mode_changed", r#"{"region_id":"r-1","from":"normal","to":"cautious"}"#)
                .unwrap();
        assert_eq!((e.kind, e.subject.as_deref()), ("mode", Some("r-1")));
        let e =
            LiveEvent::from_notification("grse_alerts", r#"{"id":42,"region_id":null,"severity":"critical"}"#).unwrap();
        assert_eq!((e.kind, e.subject.as_deref()), ("alert", Some("42")));
        assert!(e.visibility().unwrap().sql.contains("grse.alerts"));
        assert!(LiveEvent::from_notification("grse_alerts", "not json").is_none());
        assert!(LiveEvent::from_notification("other", r#"{"id":1}"#).is_none());
        assert!(LiveEvent::from_notification("grse_mode_changed", r#"{"to":"frozen"}"#).is_none());
        assert!(LiveEvent::resync().visibility().is_none());
    }
}
