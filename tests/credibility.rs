//! Credibility (RFC 2181 §5.4.1): what the resolver caches is ranked by its
//! source, and an answer without AA never replaces an authoritative one.

mod common;

use common::mock::{self, Action, Mock, authoritative, qname, script};
use common::*;
use hickory_proto::rr::RecordType;

#[tokio::test(flavor = "multi_thread")]
async fn a_non_authoritative_answer_does_not_replace_authoritative_data() {
    let root = root_zone(&[("cred.test.", "ns.cred.test.", Some("127.0.8.60"))]);
    let dir = zone_dir(&[("root.toml", &root)]);
    let lab = Lab::start_dir(dir.path());
    // The zone's server answers www with AA, and alias with a CNAME to www
    // and a different address for www, without AA (and without RA: so the
    // answer is taken, at the lower rank).
    let _server = Mock::start(
        "127.0.8.60",
        lab.port,
        script(|q| {
            let asked = qname(q);
            let reply = if asked == name("alias.cred.test.") {
                let mut reply = authoritative(
                    q,
                    vec![
                        mock::cname("alias.cred.test.", "www.cred.test."),
                        mock::a(&name("www.cred.test."), [198, 51, 100, 66]),
                    ],
                );
                reply.metadata.authoritative = false;
                reply
            } else {
                authoritative(q, vec![mock::a(&asked, [192, 0, 2, 60])])
            };
            vec![Action::Reply(reply)]
        }),
    )
    .await;
    let local = Local::start(&config_for(&lab));
    let first = local.ask("www.cred.test.", RecordType::A).await;
    assert_eq!(addresses(&first.answers), ["192.0.2.60"]);
    let alias = local.ask("alias.cred.test.", RecordType::A).await;
    assert!(
        !alias.answers.is_empty(),
        "the alias is answered: {alias:?}"
    );
    let again = local.ask("www.cred.test.", RecordType::A).await;
    assert_eq!(
        addresses(&again.answers),
        ["192.0.2.60"],
        "the authoritative RRset stays cached"
    );
}
