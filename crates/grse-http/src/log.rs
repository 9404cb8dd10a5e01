//! Log lines on stdout: one per request (method, path, status, milliseconds; never a header,
//! the query string or a token) and the server's own notes.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn info(message: &str) {
    println!("{} info {message}", now());
}

pub fn warn(message: &str) {
    println!("{} warn {message}", now());
}

/// The request line: `<time> <method> <path> <status> <ms>ms`.
pub fn request_line(method: &str, path: &str, status: u16, ms: f64) -> String {
    format!("{} {method} {path} {status} {ms:.1}ms", now())
}

pub async fn requests(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!("{}", request_line(&method, &path, response.status().as_u16(), ms));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_line_has_method_path_status_and_time() {
        let line = super::request_line("GET", "/api/regions/health", 200, 3.25);
        assert!(
            line.ends_with(" GET /api/regions/health 200 3.2ms")
                || line.ends_with(" GET /api/regions/health 200 3.3ms")
        );
    }
}
