//! Mock nameservers that misbehave on purpose: each answers every UDP query
//! with whatever its script says, and counts the queries it saw.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

/// What a mock sends in reply to one query, in order.
pub enum Action {
    /// This message, from the mock's own socket.
    Reply(Message),
    /// These bytes, from the mock's own socket.
    Raw(Vec<u8>),
    /// This message from another address (a spoofer elsewhere).
    FromElsewhere(Message),
    /// Wait this long before the next action.
    Wait(Duration),
}

/// A mock's behaviour: the actions for each query it receives.
pub type Script = Arc<dyn Fn(&Message) -> Vec<Action> + Send + Sync>;

/// A running mock nameserver.
pub struct Mock {
    pub address: SocketAddr,
    queries: Arc<Mutex<Vec<Message>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The largest UDP reply a mock sends whole.
const UDP_LIMIT: usize = 1232;

async fn serve_udp(
    socket: UdpSocket,
    elsewhere: UdpSocket,
    script: Script,
    seen: Arc<Mutex<Vec<Message>>>,
) {
    let socket = Arc::new(socket);
    let elsewhere = Arc::new(elsewhere);
    let mut buffer = vec![0u8; 65_535];
    loop {
        let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
            return;
        };
        let Ok(query) = Message::from_vec(&buffer[..length]) else {
            continue;
        };
        seen.lock().expect("not poisoned").push(query.clone());
        let actions = script(&query);
        let (socket, elsewhere) = (socket.clone(), elsewhere.clone());
        let handle = tokio::spawn(async move {
            for action in actions {
                match action {
                    Action::Reply(message) => {
                        let _ = socket.send_to(&udp_bytes(&message), client).await;
                    }
                    Action::Raw(bytes) => {
                        let _ = socket.send_to(&bytes, client).await;
                    }
                    Action::FromElsewhere(message) => {
                        let _ = elsewhere.send_to(&udp_bytes(&message), client).await;
                    }
                    Action::Wait(pause) => tokio::time::sleep(pause).await,
                }
            }
        });
        drop(handle);
    }
}

/// A reply as sent over UDP: whole, or header and question with TC when too big.
fn udp_bytes(message: &Message) -> Vec<u8> {
    let bytes = message.to_vec().expect("encodes");
    if bytes.len() <= UDP_LIMIT {
        return bytes;
    }
    let mut truncated = message.clone();
    truncated.answers.clear();
    truncated.authorities.clear();
    truncated.additionals.clear();
    truncated.metadata.truncation = true;
    truncated.to_vec().expect("encodes")
}

async fn serve_tcp(
    listener: tokio::net::TcpListener,
    script: Script,
    seen: Arc<Mutex<Vec<Message>>>,
) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let script = script.clone();
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Ok(bytes) = super::read_tcp_message(&mut stream).await {
                let Ok(query) = Message::from_vec(&bytes) else {
                    return;
                };
                seen.lock().expect("not poisoned").push(query.clone());
                for action in script(&query) {
                    let bytes = match action {
                        Action::Reply(message) => message.to_vec().expect("encodes"),
                        Action::Raw(bytes) => bytes,
                        Action::FromElsewhere(_) => continue,
                        Action::Wait(pause) => {
                            tokio::time::sleep(pause).await;
                            continue;
                        }
                    };
                    if super::write_tcp_message(&mut stream, &bytes).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

impl Mock {
    /// Starts a mock at `ip`:`port` (port 0 for any), on UDP and TCP. Over
    /// UDP, a reply bigger than 1232 octets goes out truncated (TC), as a
    /// real server's would; over TCP it goes whole.
    pub async fn start(ip: &str, port: u16, script: Script) -> Mock {
        Self::start_split(ip, port, script.clone(), script).await
    }

    /// Starts a mock that follows `udp` for queries over UDP and `tcp` for
    /// queries over TCP (an empty script: the connection stays open, silent).
    pub async fn start_split(ip: &str, port: u16, udp: Script, tcp: Script) -> Mock {
        let script = udp;
        let ip: std::net::IpAddr = ip.parse().expect("an IP");
        let socket = UdpSocket::bind((ip, port)).await.expect("bind the mock");
        let address = socket.local_addr().expect("bound");
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .expect("bind the mock's TCP");
        // A second socket on another address, for replies from elsewhere.
        let elsewhere = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let queries = Arc::new(Mutex::new(Vec::new()));
        let udp = tokio::spawn(serve_udp(
            socket,
            elsewhere,
            script.clone(),
            queries.clone(),
        ));
        let tcp = tokio::spawn(serve_tcp(listener, tcp, queries.clone()));
        let task = tokio::spawn(async move {
            let _ = tokio::join!(udp, tcp);
        });
        Mock {
            address,
            queries,
            task,
        }
    }

    /// How many queries it has seen.
    pub fn count(&self) -> usize {
        self.queries.lock().expect("not poisoned").len()
    }

    /// The queries it has seen.
    pub fn queries(&self) -> Vec<Message> {
        self.queries.lock().expect("not poisoned").clone()
    }
}

/// A script from a closure.
pub fn script(f: impl Fn(&Message) -> Vec<Action> + Send + Sync + 'static) -> Script {
    Arc::new(f)
}

/// A mock that never answers.
pub fn silent() -> Script {
    script(|_| Vec::new())
}

/// The skeleton of a reply to `query`: its ID and question, QR set.
pub fn reply_to(query: &Message) -> Message {
    let mut reply = Message::response(query.id, query.op_code);
    reply.queries = query.queries.clone();
    reply
}

/// An authoritative reply to `query` with these answers.
pub fn authoritative(query: &Message, answers: Vec<Record>) -> Message {
    let mut reply = reply_to(query);
    reply.metadata.authoritative = true;
    reply.answers = answers;
    reply
}

/// A reply with this RCODE and nothing else.
pub fn rcode(query: &Message, code: ResponseCode) -> Message {
    let mut reply = reply_to(query);
    reply.metadata.response_code = code;
    reply
}

/// The question's name.
pub fn qname(query: &Message) -> Name {
    query.queries[0].name.clone()
}

/// An A record.
pub fn a(owner: &Name, address: [u8; 4]) -> Record {
    let [x, y, z, w] = address;
    Record::from_rdata(owner.clone(), 300, RData::A(A::new(x, y, z, w)))
}

/// An NS record.
pub fn ns(owner: &str, target: &str) -> Record {
    Record::from_rdata(super::name(owner), 3600, RData::NS(NS(super::name(target))))
}

/// A CNAME record.
pub fn cname(owner: &str, target: &str) -> Record {
    Record::from_rdata(
        super::name(owner),
        300,
        RData::CNAME(CNAME(super::name(target))),
    )
}

/// An SOA record for `zone`.
pub fn soa(zone: &str) -> Record {
    let data = SOA::new(
        super::name(&format!("ns.{zone}")),
        super::name(&format!("h.{zone}")),
        1,
        1,
        1,
        1,
        60,
    );
    Record::from_rdata(super::name(zone), 60, RData::SOA(data))
}

/// A record of class CH instead of IN.
pub fn chaos(mut record: Record) -> Record {
    record.dns_class = DNSClass::CH;
    record
}

/// A query message, as a stub would send it.
pub fn question(name: &str, record_type: RecordType) -> Message {
    let mut message = Message::query();
    message.add_query(Query::query(super::name(name), record_type));
    message.metadata.message_type = MessageType::Query;
    message
}
