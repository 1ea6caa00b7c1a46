//! Requests Debrief sends to addresses a company gave it (webhook endpoints, connector
//! instances): what they may reach. A company admin must not be able to make the server read
//! its own network — its `/metrics`, a cloud's metadata service, a database's HTTP port — and
//! show them the answer. So, unless the operator allows internal targets
//! (`allow_internal_targets`, for an on-premises ServiceNow or a test), these requests never
//! reach a loopback, private, link-local, shared, unspecified, multicast or broadcast address:
//! an address written in the URL is refused when it is saved, and a name is resolved by a
//! resolver that keeps only public addresses, so a name that points inside (or is changed to)
//! fails to connect. Redirects are never followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Which addresses outbound requests may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Public addresses only (the default).
    PublicOnly,
    /// Any address: the operator allowed internal targets.
    Any,
}

/// Whether `address` is on the public internet.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0))
            }
        },
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [first, second, ..] = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || first == 0
        || (first == 100 && (64..128).contains(&second)))
}

/// Why `url` may not be a target under `reach`, when it may not: an address written in it
/// that is not public, or `localhost`.
pub fn refusal(url: &reqwest::Url, reach: Reach) -> Option<String> {
    if reach == Reach::Any {
        return None;
    }
    let host = url.host_str()?;
    let internal = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(address) => !is_public(address),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    internal.then(|| {
        "must be a public address: this server does not send to loopback, private or link-local \
         addresses unless its operator sets allow_internal_targets"
            .to_string()
    })
}

/// Resolves names to their public addresses only.
struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client for outbound requests: no redirects, `timeout` per request, and under
/// [`Reach::PublicOnly`] names resolved to public addresses only.
pub fn client(timeout: Duration, reach: Reach) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    match reach {
        Reach::PublicOnly => builder.dns_resolver(Arc::new(PublicResolver)),
        Reach::Any => builder,
    }
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_and_public_ones_kept() {
        for internal in [
            "http://127.0.0.1:8080",
            "http://10.1.2.3",
            "http://172.16.0.1",
            "http://192.168.1.1",
            "http://169.254.169.254",
            "http://100.64.0.1",
            "http://0.0.0.0",
            "http://[::1]",
            "http://[fe80::1]",
            "http://[fd00::1]",
            "http://[::ffff:127.0.0.1]",
            "http://localhost:9000",
            "http://metrics.localhost",
        ] {
            let url = reqwest::Url::parse(internal).expect("url");
            assert!(refusal(&url, Reach::PublicOnly).is_some(), "{internal}");
            assert_eq!(refusal(&url, Reach::Any), None, "{internal}");
        }
        for public in [
            "https://acme.service-now.com",
            "https://93.184.216.34",
            "https://[2606:4700::1111]",
        ] {
            let url = reqwest::Url::parse(public).expect("url");
            assert_eq!(refusal(&url, Reach::PublicOnly), None, "{public}");
        }
    }

    #[tokio::test]
    async fn names_that_point_inside_do_not_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let client = client(Duration::from_secs(5), Reach::PublicOnly).expect("client");
        let answer = client.get(format!("http://localhost:{port}/")).send().await;
        assert!(answer.is_err(), "localhost resolved to no public address");
    }
}
