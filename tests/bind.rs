//! Binding the listening sockets on a machine where other programs hold
//! ports: beside an mDNS responder (avahi-daemon holds `*:5353` with
//! SO_REUSEADDR), and a clear error when an address is truly taken.

mod common;

use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;

use common::*;
use hickory_proto::rr::RecordType;
use resolver::authority::{Authority, Catalog};
use resolver::server::{Limits, Listener, serve};
use socket2::{Domain, Protocol, Socket, Type};

/// A UDP socket on the wildcard address, bound the way avahi-daemon binds
/// `*:5353`: a plain bind, then SO_REUSEADDR so that others may share. The
/// port is one below the ephemeral range that nobody holds on any address,
/// for UDP or TCP (upstream sockets take ephemeral ports all the time).
fn hold_wildcard_like_avahi() -> (StdUdpSocket, u16) {
    on_free_port("the wildcard socket", |port| {
        std::net::TcpListener::bind(("127.0.0.1", port)).ok()?;
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("a socket");
        let wildcard = SocketAddr::new(ip("0.0.0.0"), port);
        socket.bind(&wildcard.into()).ok()?;
        socket.set_reuse_address(true).expect("SO_REUSEADDR");
        socket.set_nonblocking(true).expect("non-blocking");
        Some(socket.into())
    })
}

/// Serves the lab's umass.edu zone on a bound listener.
fn serve_umass(listener: Listener) -> Running {
    let zones = resolver::zone::ZoneSet::load_dir(&lab_zones_dir()).expect("lab zones");
    let umass = zones.get(&name("umass.edu.")).expect("umass.edu").clone();
    let running = Running::new();
    running.tasks.spawn(serve(
        listener,
        Arc::new(Authority::new(Catalog::new([umass]))),
        Limits::default(),
        None,
        running.shutdown.clone(),
    ));
    running
}

#[tokio::test]
async fn the_listener_binds_beside_an_mdns_responder_and_answers_on_its_address() {
    let (responder, port) = hold_wildcard_like_avahi();
    let address = SocketAddr::new(ip("127.0.0.1"), port);
    let listener = Listener::bind(address, 2).expect("binds beside the wildcard socket");
    let _running = serve_umass(listener);

    let over_udp = ask(address, "gaia.cs.umass.edu.", RecordType::A).await;
    assert_eq!(addresses(&over_udp.answers), ["128.119.245.12"]);
    let query = query_message(&name("www.umass.edu."), RecordType::A, &Ask::default());
    let over_tcp = tcp(address, &query).await;
    assert_eq!(addresses(&over_tcp.answers), ["128.119.8.148"]);

    let mut buffer = [0u8; 512];
    assert!(
        responder.recv_from(&mut buffer).is_err(),
        "a query sent to {address} reaches us, not the wildcard socket"
    );
}

#[tokio::test]
async fn an_address_truly_taken_is_an_error_naming_it_and_the_setting() {
    let holder = StdUdpSocket::bind("127.0.0.1:0").expect("bind");
    let address = holder.local_addr().expect("bound");
    let error = Listener::bind(address, 1).expect_err("the address is taken");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    let message = error.to_string();
    assert!(
        message.contains(&address.to_string()) && message.contains("[server] listen"),
        "{message}"
    );
}

#[tokio::test]
async fn a_socket_sharing_the_exact_address_is_not_shared_silently() {
    // Even a holder that allows sharing keeps its exact address: two servers
    // on one address would split or steal each other's queries.
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("a socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("valid");
    socket.bind(&any_port.into()).expect("bind");
    let address = socket
        .local_addr()
        .expect("bound")
        .as_socket()
        .expect("an IP address");
    let error = Listener::bind(address, 1).expect_err("the address is taken");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    assert!(error.to_string().contains(&address.to_string()), "{error}");
}
