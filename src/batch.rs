//! Datagrams by the batch: `recvmmsg` and `sendmmsg` (Linux), so that a busy
//! server makes one system call for many queries, and one for many replies;
//! the resolver's upstream sockets read with it too, to learn whether a
//! reply was cut (`MSG_TRUNC`). Elsewhere, one datagram per call.
//!
//! This is the crate's only `unsafe` code: the two system calls, with the
//! buffers and address structures they fill.

use std::io;
use std::net::SocketAddr;

/// Datagrams received or sent in one call at most.
pub const BATCH: usize = 32;

/// The largest query read; a bigger datagram is truncated, and the
/// truncation reported, so that it is dropped (no query is that big).
const DATAGRAM: usize = 4096;

/// Buffers for one batch of received datagrams.
pub struct Received {
    buffers: Vec<Vec<u8>>,
    lengths: [usize; BATCH],
    sources: [Option<SocketAddr>; BATCH],
    truncated: [bool; BATCH],
    count: usize,
    /// The kernel's view of the buffers, made once (Linux).
    #[cfg(target_os = "linux")]
    headers: sys::Headers,
}

impl Default for Received {
    /// A full batch of buffers big enough for any query.
    fn default() -> Self {
        Received::new(BATCH, DATAGRAM)
    }
}

impl Received {
    /// Buffers for `slots` datagrams (at most [`BATCH`]) of `size` octets;
    /// a bigger datagram is flagged as truncated.
    pub fn new(slots: usize, size: usize) -> Self {
        #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
        let mut buffers = vec![vec![0u8; size]; slots.clamp(1, BATCH)];
        Received {
            #[cfg(target_os = "linux")]
            headers: sys::Headers::new(&mut buffers),
            buffers,
            lengths: [0; BATCH],
            sources: [None; BATCH],
            truncated: [false; BATCH],
            count: 0,
        }
    }

    /// How many datagrams one receive takes at most.
    pub fn slots(&self) -> usize {
        self.buffers.len()
    }

    /// The datagrams of the last batch: bytes and sender (truncated ones left out).
    pub fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr)> {
        self.all()
            .filter(|(_, _, truncated)| !truncated)
            .map(|(bytes, source, _)| (bytes, source))
    }

    /// Every datagram of the last batch, with whether it was cut to the buffer's size.
    pub fn all(&self) -> impl Iterator<Item = (&[u8], SocketAddr, bool)> {
        (0..self.count).filter_map(|i| {
            let source = self.sources[i]?;
            let length = self.lengths[i].min(self.buffers[i].len());
            Some((&self.buffers[i][..length], source, self.truncated[i]))
        })
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use super::*;
    use std::mem::{MaybeUninit, size_of, zeroed};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::RawFd;

    /// The message headers `recvmmsg` fills, each pointing at its buffer
    /// and address structure: made once per [`Received`], so that a call
    /// costs no clearing of kilobytes it does not use.
    pub(super) struct Headers {
        names: Box<[libc::sockaddr_storage]>,
        iovecs: Box<[libc::iovec]>,
        messages: Box<[libc::mmsghdr]>,
    }

    // SAFETY: the raw pointers in `iovecs` and `messages` point only into
    // heap memory owned by the same `Received` (its buffers and `names`),
    // which moves with it and is only touched through `&mut Received`.
    unsafe impl Send for Headers {}
    // SAFETY: as above; a shared reference never reads through the pointers.
    unsafe impl Sync for Headers {}

    impl Headers {
        pub(super) fn new(buffers: &mut [Vec<u8>]) -> Self {
            let slots = buffers.len();
            // SAFETY: all-zero bytes are valid for these plain C structures.
            let mut names: Box<[libc::sockaddr_storage]> =
                (0..slots).map(|_| unsafe { zeroed() }).collect();
            let mut iovecs: Box<[libc::iovec]> = buffers
                .iter_mut()
                .map(|buffer| libc::iovec {
                    iov_base: buffer.as_mut_ptr().cast(),
                    iov_len: buffer.len(),
                })
                .collect();
            let messages = (0..slots)
                .map(|i| {
                    // SAFETY: all-zero bytes are a valid mmsghdr; the fields used are set below.
                    let mut message: libc::mmsghdr = unsafe { zeroed() };
                    message.msg_hdr.msg_name =
                        (&mut names[i] as *mut libc::sockaddr_storage).cast();
                    message.msg_hdr.msg_iov = &mut iovecs[i];
                    message.msg_hdr.msg_iovlen = 1;
                    message
                })
                .collect();
            Headers {
                names,
                iovecs,
                messages,
            }
        }
    }

    /// Receives up to [`BATCH`] datagrams without blocking.
    pub fn receive(fd: RawFd, batch: &mut Received) -> io::Result<usize> {
        let headers = &mut batch.headers;
        let slots = headers.messages.len();
        for message in headers.messages.iter_mut() {
            // The kernel writes each address's length here: its room again.
            message.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        }
        debug_assert_eq!(headers.iovecs.len(), slots);
        // SAFETY: every header points at a live buffer and address structure
        // of the length it declares (made in `Headers::new` from the
        // buffers this batch owns), all of which outlive the call.
        let received = unsafe {
            libc::recvmmsg(
                fd,
                headers.messages.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if received < 0 {
            return Err(io::Error::last_os_error());
        }
        let count = received as usize;
        for i in 0..count {
            let header = &headers.messages[i];
            // MSG_TRUNC: the datagram was bigger than the buffer and cut to it.
            batch.truncated[i] = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            batch.lengths[i] = header.msg_len as usize;
            batch.sources[i] = from_storage(&headers.names[i]);
        }
        batch.count = count;
        Ok(count)
    }

    /// Sends the replies without blocking; returns how many went.
    pub fn send(fd: RawFd, replies: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
        let count = replies.len().min(BATCH);
        // Only the entries used are written: clearing whole batches of
        // these structures would cost more than the replies' own copying.
        let mut names = [const { MaybeUninit::<libc::sockaddr_storage>::uninit() }; BATCH];
        let mut iovecs = [const { MaybeUninit::<libc::iovec>::uninit() }; BATCH];
        let mut headers = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; BATCH];
        for (i, (destination, bytes)) in replies.iter().take(count).enumerate() {
            let length = to_storage(destination, names[i].as_mut_ptr());
            iovecs[i].write(libc::iovec {
                iov_base: bytes.as_ptr() as *mut libc::c_void,
                iov_len: bytes.len(),
            });
            // SAFETY: all-zero bytes are a valid mmsghdr; the fields used are set below.
            let mut header: libc::mmsghdr = unsafe { zeroed() };
            header.msg_hdr.msg_name = names[i].as_mut_ptr().cast();
            header.msg_hdr.msg_namelen = length;
            header.msg_hdr.msg_iov = iovecs[i].as_mut_ptr();
            header.msg_hdr.msg_iovlen = 1;
            headers[i].write(header);
        }
        // SAFETY: the first `count` headers are initialised, each pointing at
        // a live reply and an address of the length it declares; the kernel
        // only reads them.
        let sent = unsafe {
            libc::sendmmsg(
                fd,
                headers.as_mut_ptr().cast::<libc::mmsghdr>(),
                count as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(sent as usize)
    }

    fn from_storage(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
        match storage.ss_family as libc::c_int {
            libc::AF_INET => {
                // SAFETY: the family says this storage holds a sockaddr_in.
                let address: libc::sockaddr_in =
                    unsafe { *(storage as *const _ as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(u32::from_be(address.sin_addr.s_addr));
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(address.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says this storage holds a sockaddr_in6.
                let address: libc::sockaddr_in6 =
                    unsafe { *(storage as *const _ as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(address.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(address.sin6_port),
                    address.sin6_flowinfo,
                    address.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    /// Writes `address` as a C address structure at `storage` (room for a
    /// `sockaddr_storage`); returns its length.
    fn to_storage(address: &SocketAddr, storage: *mut libc::sockaddr_storage) -> libc::socklen_t {
        match address {
            SocketAddr::V4(v4) => {
                // SAFETY: all-zero bytes are a valid sockaddr_in; every field is then set.
                let mut raw: libc::sockaddr_in = unsafe { zeroed() };
                raw.sin_family = libc::AF_INET as libc::sa_family_t;
                raw.sin_port = v4.port().to_be();
                raw.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
                // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
                unsafe { storage.cast::<libc::sockaddr_in>().write(raw) };
                size_of::<libc::sockaddr_in>() as libc::socklen_t
            }
            SocketAddr::V6(v6) => {
                // SAFETY: all-zero bytes are a valid sockaddr_in6; every field is then set.
                let mut raw: libc::sockaddr_in6 = unsafe { zeroed() };
                raw.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                raw.sin6_port = v6.port().to_be();
                raw.sin6_addr.s6_addr = v6.ip().octets();
                raw.sin6_flowinfo = v6.flowinfo();
                raw.sin6_scope_id = v6.scope_id();
                // SAFETY: sockaddr_storage is larger than sockaddr_in6 and suitably aligned.
                unsafe { storage.cast::<libc::sockaddr_in6>().write(raw) };
                size_of::<libc::sockaddr_in6>() as libc::socklen_t
            }
        }
    }
}

#[cfg(target_os = "linux")]
pub use sys::{receive, send};

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_batch_goes_out_and_comes_back_whole() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let client = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = server.local_addr().expect("bound");
        let replies: Vec<(SocketAddr, Vec<u8>)> =
            (0..5u8).map(|i| (to, vec![i; 10 + i as usize])).collect();
        assert_eq!(send(client.as_raw_fd(), &replies).expect("sendmmsg"), 5);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut batch = Received::default();
        assert_eq!(
            receive(server.as_raw_fd(), &mut batch).expect("recvmmsg"),
            5
        );
        let got: Vec<(Vec<u8>, SocketAddr)> =
            batch.datagrams().map(|(b, s)| (b.to_vec(), s)).collect();
        assert_eq!(got.len(), 5);
        for (i, (bytes, source)) in got.iter().enumerate() {
            assert_eq!(bytes, &vec![i as u8; 10 + i]);
            assert_eq!(*source, client.local_addr().expect("bound"));
        }
    }

    #[test]
    fn a_datagram_bigger_than_the_buffer_is_flagged_cut_and_kept_from_the_server() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let client = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = server.local_addr().expect("bound");
        client.send_to(&[7u8; 100], to).expect("send");
        client.send_to(&[8u8; 3000], to).expect("send");
        let mut batch = Received::new(4, 1500);
        let (mut all, mut kept) = (Vec::new(), 0);
        // Loopback delivers at once; the bound is there only in case it does not.
        for _ in 0..200 {
            if receive(server.as_raw_fd(), &mut batch).is_ok() {
                all.extend(batch.all().map(|(b, _, cut)| (b.len(), cut)));
                kept += batch.datagrams().count();
            }
            if all.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            all,
            [(100, false), (1500, true)],
            "the big one is cut and says so"
        );
        assert_eq!(kept, 1, "the server's view leaves it out");
    }
}

/// Elsewhere: no batches; the caller falls back to one datagram per call.
#[cfg(not(target_os = "linux"))]
pub fn receive(_fd: std::os::fd::RawFd, _batch: &mut Received) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Elsewhere: no batches; the caller falls back to one datagram per call.
#[cfg(not(target_os = "linux"))]
pub fn send(_fd: std::os::fd::RawFd, _replies: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}
