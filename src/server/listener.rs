//! The sockets of one served address: UDP and TCP on the same port, bound
//! so that an address in use is an error that says so, and so that an
//! mDNS responder on the wildcard address is no obstacle.

use std::io;
use std::net::SocketAddr;

use super::{tcp, udp};

/// Sockets bound to one address: UDP and TCP on the same port.
#[derive(Debug)]
pub struct Listener {
    /// Non-blocking, handed to the reactor by the loop that serves each.
    pub(super) udp: Vec<std::net::UdpSocket>,
    pub(super) tcp: tokio::net::TcpListener,
    address: SocketAddr,
}

impl Listener {
    /// Binds UDP and TCP at `address` (port 0 picks a free port, the same for both).
    ///
    /// A plain bind (no socket option) goes first, so that an address
    /// already in use is an error here instead of a silent SO_REUSEPORT
    /// share with another process. It also fails when another socket holds
    /// the *wildcard* address on the port, as an mDNS responder
    /// (avahi-daemon) holds `*:5353` with SO_REUSEADDR. Then, if the kernel's
    /// table shows no socket bound to exactly `address`, our UDP sockets take
    /// SO_REUSEADDR as well and bind beside it: Linux lets a UDP bind sit
    /// beside another on an overlapping address when both set SO_REUSEADDR
    /// (even on the same address: hence the table is read first). What is
    /// shared is the port number only: a unicast datagram goes to the socket
    /// whose bound address matches it most exactly, so queries sent to
    /// `address` reach us and nothing else, and multicast (mDNS on
    /// 224.0.0.251) still reaches the responder alone, as our socket's
    /// address is not the group's. A socket already on exactly `address`
    /// keeps it an error, as does a wildcard holder without SO_REUSEADDR.
    ///
    /// An address in use gives an error of kind `AddrInUse` whose message
    /// names the address, the protocol and the settings to change.
    pub fn bind(address: SocketAddr, udp_sockets: usize) -> io::Result<Self> {
        // With port 0, another socket may take the port picked between the
        // probe and the real binds: then pick again.
        let attempts = if address.port() == 0 { 8 } else { 1 };
        let mut outcome = Err(io::ErrorKind::AddrInUse.into());
        for _ in 0..attempts {
            outcome = Self::bind_once(address, udp_sockets);
            match &outcome {
                Err(error) if error.kind() == io::ErrorKind::AddrInUse => continue,
                _ => break,
            }
        }
        outcome
    }

    fn bind_once(address: SocketAddr, udp_sockets: usize) -> io::Result<Self> {
        let (probe, address, beside_wildcard) = match std::net::UdpSocket::bind(address) {
            Ok(probe) => {
                let bound = probe.local_addr()?;
                (Some(probe), bound, false)
            }
            Err(error)
                if error.kind() == io::ErrorKind::AddrInUse
                    && address.port() != 0
                    && udp::held_exactly(address) == Some(false) =>
            {
                (None, address, true)
            }
            Err(error) => return Err(bind_error(error, address, "UDP")),
        };
        let tcp = tcp::bind(address).map_err(|error| bind_error(error, address, "TCP"))?;
        drop(probe);
        let udp = (0..udp_sockets.max(1))
            .map(|_| udp::bind(address, beside_wildcard))
            .collect::<io::Result<Vec<_>>>()
            .map_err(|error| bind_error(error, address, "UDP"))?;
        if beside_wildcard {
            tracing::info!(
                "{address}: UDP port shared with a socket on the wildcard address \
                 (an mDNS responder?); queries sent to {address} come here"
            );
        }
        Ok(Listener { udp, tcp, address })
    }

    /// The address served, with the actual port.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }
}

/// Why a listener could not bind one of its sockets.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another socket holds the address and port.
    #[error(
        "{address} ({protocol}) is already in use by another program: stop it, or serve \
         another address or port ([server] listen in the configuration for `resolver serve`; \
         [lab] port, or `resolver auth --port`, for the lab)"
    )]
    InUse {
        /// The address and port.
        address: SocketAddr,
        /// UDP or TCP.
        protocol: &'static str,
    },
    /// Another failure (permission, no such address).
    #[error("cannot bind {address} ({protocol}): {source}")]
    Io {
        /// The address and port.
        address: SocketAddr,
        /// UDP or TCP.
        protocol: &'static str,
        /// Why.
        source: io::Error,
    },
}

/// An I/O error from binding, with the address and protocol in its message
/// and its kind kept, so that callers can still tell "in use" apart.
fn bind_error(error: io::Error, address: SocketAddr, protocol: &'static str) -> io::Error {
    let kind = error.kind();
    let described = if kind == io::ErrorKind::AddrInUse {
        BindError::InUse { address, protocol }
    } else {
        BindError::Io {
            address,
            protocol,
            source: error,
        }
    };
    io::Error::new(kind, described)
}
