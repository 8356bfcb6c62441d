//! The proxy's own options (the registry's `Applies::Proxy` ones): how
//! their values and the flags become `waylay_proxy::live::Options`.

use anyhow::{Context as _, Result, bail};
use waylay_proxy::live::Options;

use crate::cli::Cli;

/// mitmproxy's size notation: `1024`, `10k`, `3m`, `1g` (binary units).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let (digits, unit) = match text.char_indices().last()? {
        (i, 'b') => (&text[..i], 1),
        (i, 'k') => (&text[..i], 1 << 10),
        (i, 'm') => (&text[..i], 1 << 20),
        (i, 'g') => (&text[..i], 1 << 30),
        _ => (&text[..], 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// A true/false option's value.
fn boolean(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => bail!("--set {name}={value}: expected true or false"),
    }
}

/// A thread count: 1 to 1024.
fn threads(name: &str, value: &str) -> Result<usize> {
    match value.trim().parse::<usize>() {
        Ok(n @ 1..=1024) => Ok(n),
        _ => bail!("--set {name}={value}: expected a number of threads from 1 to 1024"),
    }
}

/// The proxy's options from `--proxyauth` and the proxy's `--set` pairs
/// (names checked by the caller); malformed values are an error that
/// names them.
pub fn options(cli: &Cli, sets: &[(String, String)]) -> Result<Options> {
    let mut options = Options {
        proxyauth: cli.proxyauth.clone(),
        ..Options::default()
    };
    if let Some(auth) = &cli.proxyauth
        && !auth.contains(':')
    {
        bail!("--proxyauth {auth:?}: expected USER:PASS");
    }
    let seconds = |name: &str, value: &str| -> Result<std::time::Duration> {
        let secs: u64 = value
            .parse()
            .with_context(|| format!("--set {name}={value}: expected whole seconds"))?;
        Ok(std::time::Duration::from_secs(secs))
    };
    let size = |name: &str, value: &str| -> Result<u64> {
        parse_size(value).with_context(|| {
            format!("--set {name}={value}: expected a size such as 1048576, 512k or 10m")
        })
    };
    // A size held in memory: it must fit this machine's `usize`.
    let in_memory = |name: &str, value: &str| -> Result<usize> {
        usize::try_from(size(name, value)?)
            .with_context(|| format!("--set {name}={value}: too large for this machine"))
    };
    let regex = |flag: &str, pattern: &str| -> Result<regex_lite::Regex> {
        regex_lite::Regex::new(&format!("(?i){pattern}"))
            .with_context(|| format!("{flag} {pattern:?}: not a valid regex"))
    };
    for pattern in &cli.ignore_hosts {
        options.ignore_hosts.push(regex("--ignore-hosts", pattern)?);
    }
    for pattern in &cli.allow_hosts {
        options.allow_hosts.push(regex("--allow-hosts", pattern)?);
    }
    options.trust.insecure = cli.ssl_insecure;
    for (name, value) in sets {
        match name.as_str() {
            "ignore_hosts" => options
                .ignore_hosts
                .push(regex("--set ignore_hosts", value)?),
            "allow_hosts" => options.allow_hosts.push(regex("--set allow_hosts", value)?),
            "ssl_insecure" => options.trust.insecure = boolean(name, value)?,
            "keep_host_header" => options.keep_host_header = boolean(name, value)?,
            "tcp_hosts" => options.tcp_hosts.push(regex("--set tcp_hosts", value)?),
            "upstream_auth" => {
                if !value.contains(':') {
                    bail!("--set upstream_auth={value}: expected USER:PASS");
                }
                options.upstream_auth = Some(value.clone());
            }
            "ssl_verify_upstream_trusted_ca" => {
                options.trust.extra_ca = Some(value.into());
            }
            // Read by `confdir()` and the web view.
            "confdir" | "web_host" | "web_port" | "intercept" => {}
            "body_size_limit" => options.body_size_limit = Some(size(name, value)?),
            "stream_large_bodies" => options.stream_large_bodies = Some(size(name, value)?),
            "upstream_timeout" => {
                options.connect_timeout = seconds(name, value)?;
                options.response_timeout = options.connect_timeout;
            }
            "shutdown_grace" => options.shutdown_grace = seconds(name, value)?,
            "header_timeout" => options.header_timeout = seconds(name, value)?,
            "stream_messages_memory" => options.stream_messages_memory = in_memory(name, value)?,
            "io_threads" => options.io_threads = threads(name, value)?,
            "websocket_max_message" => options.websocket_max_message = in_memory(name, value)?,
            other => bail!("--set {other}: not a proxy option"),
        }
    }
    if !options.ignore_hosts.is_empty() && !options.allow_hosts.is_empty() {
        bail!("ignore_hosts and allow_hosts cannot both be set; pick one");
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        for (text, want) in [
            ("1024", Some(1024)),
            ("10k", Some(10240)),
            ("3m", Some(3 << 20)),
            ("1G", Some(1 << 30)),
            ("x", None),
            ("5q", None),
        ] {
            assert_eq!(parse_size(text), want, "{text}");
        }
    }
}
