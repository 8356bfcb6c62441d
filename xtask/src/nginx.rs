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

/// nginx on 127.0.0.1:`port` as a reverse proxy to 127.0.0.1:`origin`
/// with `workers` worker processes (one: no master process, as the
/// hardening tests run it; more: a master in the foreground), kept-alive
/// HTTP/1.1 upstream connections, and no limit on requests per
/// connection either side. Stopped when dropped (SIGINT: a fast shutdown).
pub fn nginx(dir: &Path, port: u16, origin: u16, workers: usize) -> Result<Running> {
    let dir = dir.join(format!("nginx-{workers}"));
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
           upstream origin {{ server 127.0.0.1:{origin}; keepalive 32; keepalive_requests 100000000; }}\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; }}\n\
           }}\n\
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

/// nginx on 127.0.0.1:`port` as an origin answering every request with
/// the 1 KiB body the in-process origin sends (`bench live --origin
/// nginx`), keep-alive without a limit, `workers` worker processes.
pub fn nginx_origin(dir: &Path, port: u16, workers: usize) -> Result<Running> {
    let dir = dir.join(format!("nginx-origin-{workers}"));
    std::fs::create_dir_all(&dir)?;
    let d = dir.display();
    let master = if workers > 1 { "on" } else { "off" };
    let body = "x".repeat(1024);
    let conf = format!(
        "daemon off; master_process {master}; worker_processes {workers};\n\
         pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off; keepalive_requests 100000000; keepalive_timeout 300s;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             location / {{ default_type text/plain; return 200 \"{body}\"; }}\n\
           }}\n\
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
