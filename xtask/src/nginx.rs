//! nginx as `bench modes`' reverse-proxy peer and `bench live`'s origin: Debian's /usr/sbin/nginx
//! in the foreground with a configuration of our own under target/bench.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::procs::Running;

const NGINX: &str = "/usr/sbin/nginx";

/// `nginx version: nginx/1.22.1` as "nginx 1.22.1"; an error saying how
/// to install it when it is missing.
pub fn nginx_version() -> Result<String> {
    if !Path::new(NGINX).exists() {
        bail!("{NGINX} is missing: apt-get install nginx");
    }
    let out = Command::new(NGINX).arg("-v").output()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let version = text
        .trim()
        .rsplit_once('/')
        .map(|(_, v)| v.to_owned())
        .with_context(|| format!("`nginx -v` printed {text:?}"))?;
    Ok(format!("nginx {version}"))
}

/// nginx in the foreground under `dir/name` with `workers` worker
/// processes (one: no master process, as the hardening tests run it;
/// more: a master in the foreground), no access log, no limit on requests
/// per connection, and `http` holding the rest of the `http` block.
/// Stopped when dropped (SIGINT: a fast shutdown).
fn start(dir: &Path, name: &str, workers: usize, http: &str) -> Result<Running> {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir)?;
    let d = dir.display();
    let master = if workers > 1 { "on" } else { "off" };
    let conf = format!(
        "daemon off; master_process {master}; worker_processes {workers};\n\
         pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off; keepalive_requests 100000000;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
           {http}\n\
         }}\n"
    );
    let file = dir.join("nginx.conf");
    std::fs::write(&file, conf)?;
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&file)
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {NGINX} -c {}", file.display()))?;
    Ok(Running(child))
}

/// nginx on 127.0.0.1:`port` as a reverse proxy to 127.0.0.1:`origin`
/// with `workers` worker processes, kept-alive HTTP/1.1 upstream
/// connections, and no limit on requests per connection either side.
pub fn nginx(dir: &Path, port: u16, origin: u16, workers: usize) -> Result<Running> {
    let http = format!(
        "upstream origin {{ server 127.0.0.1:{origin}; keepalive 32; keepalive_requests 100000000; }}\n\
         server {{\n\
           listen 127.0.0.1:{port};\n\
           location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; }}\n\
         }}"
    );
    start(dir, &format!("nginx-{workers}"), workers, &http)
}

/// nginx on 127.0.0.1:`port` as an origin answering every request with
/// the 1 KiB body the in-process origin sends (`bench live --origin
/// nginx`), keep-alive without a time limit, `workers` worker processes.
pub fn nginx_origin(dir: &Path, port: u16, workers: usize) -> Result<Running> {
    let body = "x".repeat(1024);
    let http = format!(
        "keepalive_timeout 300s;\n\
         server {{\n\
           listen 127.0.0.1:{port};\n\
           location / {{ default_type text/plain; return 200 \"{body}\"; }}\n\
         }}"
    );
    start(dir, &format!("nginx-origin-{workers}"), workers, &http)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;
    use crate::procs::{free_port, wait_ready};

    fn get(port: u16) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// Both configurations start, and the proxy passes the origin's 1 KiB on.
    #[test]
    fn the_origin_and_the_reverse_proxy_serve() {
        if nginx_version().is_err() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{NGINX} is missing under CI; .ci/run installs it"
            );
            eprintln!("skipping: {NGINX} is missing (apt-get install nginx)");
            return;
        }
        let dir = crate::util::root().join("target/test-nginx");
        let origin_port = free_port().unwrap();
        let mut origin = nginx_origin(&dir, origin_port, 1).unwrap();
        wait_ready(&mut origin, origin_port).unwrap();
        let answer = get(origin_port);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&"x".repeat(1024)), "{answer}");
        let proxy_port = free_port().unwrap();
        let mut proxy = nginx(&dir, proxy_port, origin_port, 1).unwrap();
        wait_ready(&mut proxy, proxy_port).unwrap();
        let through = get(proxy_port);
        assert!(through.starts_with("HTTP/1.1 200"), "{through}");
        assert!(through.ends_with(&"x".repeat(1024)), "{through}");
    }
}
