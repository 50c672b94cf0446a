//! The transport: ZeroMQ sockets for the five channels, message framing and
//! HMAC-SHA256 signing. Nothing above this module touches a socket or a frame.

use std::collections::{HashSet, VecDeque};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use jupyter_protocol::{ConnectionInfo, Header, JupyterMessage, JupyterMessageContent};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::mpsc;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

const DELIMITER: &[u8] = b"<IDS|MSG>";
/// How many signatures we remember to reject replayed messages (as jupyter_client's Session does).
const SEEN_SIGNATURES: usize = 4096;

/// Signs outgoing and verifies incoming messages with the connection file's key.
pub struct Signer {
    key: Vec<u8>,
    seen: HashSet<Vec<u8>>,
    seen_order: VecDeque<Vec<u8>>,
}

impl Signer {
    pub fn new(key: &str) -> Self {
        Signer {
            key: key.as_bytes().to_vec(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> Option<Hmac<Sha256>> {
        if self.key.is_empty() {
            return None;
        }
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        Some(mac)
    }

    fn sign(&self, parts: &[&[u8]]) -> String {
        self.mac(parts)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Checks the signature against the exact bytes received, and rejects a signature seen before.
    fn verify(&mut self, signature: &[u8], parts: &[&[u8]]) -> Result<()> {
        let Some(mac) = self.mac(parts) else {
            return Ok(());
        };
        let expected = hex::decode(signature).context("signature is not hex")?;
        mac.verify_slice(&expected)
            .map_err(|_| anyhow::anyhow!("invalid signature"))?;
        if !self.seen.insert(expected.clone()) {
            bail!("duplicate signature (replayed message)");
        }
        self.seen_order.push_back(expected);
        if self.seen_order.len() > SEEN_SIGNATURES {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        Ok(())
    }
}

/// Parses the frames of one message: routing identities, delimiter, signature, four JSON parts.
pub fn decode(frames: Vec<Bytes>, signer: &mut Signer) -> Result<JupyterMessage> {
    let split = frames
        .iter()
        .position(|f| f.as_ref() == DELIMITER)
        .context("no <IDS|MSG> delimiter")?;
    let (identities, rest) = frames.split_at(split);
    if rest.len() < 6 {
        bail!(
            "expected signature and four message parts, got {} frames",
            rest.len() - 1
        );
    }
    let [signature, header, parent, metadata, content] =
        [&rest[1], &rest[2], &rest[3], &rest[4], &rest[5]];
    signer.verify(signature, &[header, parent, metadata, content])?;

    let header: Header = serde_json::from_slice(header).context("bad header")?;
    let parent: Value = serde_json::from_slice(parent).context("bad parent header")?;
    let parent_header = match parent {
        Value::Object(ref map) if map.is_empty() => None,
        other => Some(serde_json::from_value(other).context("bad parent header")?),
    };
    let metadata: Value = serde_json::from_slice(metadata).context("bad metadata")?;
    let mut content: Value = serde_json::from_slice(content).context("bad content")?;
    fill_spec_defaults(&header.msg_type, &mut content);
    // A request whose content does not parse still gets an (error) reply from the dispatcher.
    let content = JupyterMessageContent::from_type_and_content(&header.msg_type, content.clone()).unwrap_or_else(|error| {
        JupyterMessageContent::UnknownMessage(jupyter_protocol::UnknownMessage {
            msg_type: header.msg_type.clone(),
            content: serde_json::json!({ "ferrolab_parse_error": error.to_string(), "content": content }),
        })
    });
    Ok(JupyterMessage {
        zmq_identities: identities.to_vec(),
        header,
        parent_header,
        metadata,
        content,
        buffers: rest[6..].to_vec(),
        channel: None,
    })
}

/// Fields the messaging spec makes optional but jupyter-protocol's types require.
fn fill_spec_defaults(msg_type: &str, content: &mut Value) {
    let defaults: &[(&str, Value)] = match msg_type {
        "history_request" => &[
            ("output", Value::Bool(false)),
            ("raw", Value::Bool(true)),
            ("unique", Value::Bool(false)),
            ("n", Value::from(10)),
            ("start", Value::from(0)),
            ("stop", Value::from(0)),
            ("pattern", Value::from("*")),
        ],
        "execute_request" => &[
            ("silent", Value::Bool(false)),
            ("store_history", Value::Bool(true)),
        ],
        "inspect_request" => &[("detail_level", Value::from(0))],
        "shutdown_request" => &[("restart", Value::Bool(false))],
        _ => &[],
    };
    if let Value::Object(map) = content {
        for (key, value) in defaults {
            map.entry(key.to_string()).or_insert_with(|| value.clone());
        }
    }
}

/// Serializes a message into frames, signed.
pub fn encode(message: &JupyterMessage, signer: &Signer) -> Result<ZmqMessage> {
    let header = serde_json::to_vec(&message.header)?;
    let parent = match &message.parent_header {
        Some(parent) => serde_json::to_vec(parent)?,
        None => b"{}".to_vec(),
    };
    let metadata = match &message.metadata {
        Value::Null => b"{}".to_vec(),
        other => serde_json::to_vec(other)?,
    };
    let content = serde_json::to_vec(&content_json(&message.content)?)?;
    let signature = signer.sign(&[&header, &parent, &metadata, &content]);

    let mut frames: Vec<Bytes> = message.zmq_identities.clone();
    frames.push(Bytes::from_static(DELIMITER));
    frames.extend([signature.into_bytes(), header, parent, metadata, content].map(Bytes::from));
    frames.extend(message.buffers.iter().cloned());
    ZmqMessage::try_from(frames).map_err(|_| anyhow::anyhow!("empty message"))
}

/// jupyter-protocol serializes some optional dictionaries as `null`; the spec wants `{}`.
fn content_json(content: &JupyterMessageContent) -> Result<Value> {
    let mut value = serde_json::to_value(content)?;
    if let Value::Object(map) = &mut value {
        for key in ["user_expressions", "transient", "metadata"] {
            if map.get(key) == Some(&Value::Null) {
                map.insert(key.to_owned(), Value::Object(Default::default()));
            }
        }
    }
    Ok(value)
}

/// Which socket a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Shell,
    Control,
}

/// Messages on their way out, each to one socket.
pub enum Outbound {
    Shell(JupyterMessage),
    Control(JupyterMessage),
    IoPub(JupyterMessage),
}

/// Binds the sockets named in the connection file and runs them on background tasks.
/// Incoming requests arrive on the returned receiver; anything sent to `outgoing_rx`'s sender
/// (also before the sockets exist: a spare session's kernel is made before its connection
/// file is known) goes out signed on its socket.
pub async fn serve(
    info: &ConnectionInfo,
    mut outgoing_rx: mpsc::UnboundedReceiver<Outbound>,
) -> Result<mpsc::UnboundedReceiver<(Channel, JupyterMessage)>> {
    let endpoint = |port: u16| format!("{}://{}:{}", info.transport, info.ip, port);
    let mut shell = zeromq::RouterSocket::new();
    shell
        .bind(&endpoint(info.shell_port))
        .await
        .context("binding shell")?;
    let mut control = zeromq::RouterSocket::new();
    control
        .bind(&endpoint(info.control_port))
        .await
        .context("binding control")?;
    let mut stdin = zeromq::RouterSocket::new();
    stdin
        .bind(&endpoint(info.stdin_port))
        .await
        .context("binding stdin")?;
    let mut iopub = zeromq::XPubSocket::new();
    iopub
        .bind(&endpoint(info.iopub_port))
        .await
        .context("binding iopub")?;
    let mut heartbeat = zeromq::RepSocket::new();
    heartbeat
        .bind(&endpoint(info.hb_port))
        .await
        .context("binding heartbeat")?;

    let key = info.key.clone();
    let (incoming_tx, incoming_rx) = mpsc::unbounded_channel();

    tokio::spawn(async move {
        while let Ok(ping) = heartbeat.recv().await {
            if heartbeat.send(ping).await.is_err() {
                break;
            }
        }
    });

    let (mut shell_send, shell_recv) = shell.split();
    let (mut control_send, control_recv) = control.split();
    // One signer verifies both request channels, so a message replayed on the other is caught too.
    let verifier = std::sync::Arc::new(std::sync::Mutex::new(Signer::new(&key)));
    spawn_reader(
        Channel::Shell,
        shell_recv,
        verifier.clone(),
        incoming_tx.clone(),
    );
    spawn_reader(Channel::Control, control_recv, verifier, incoming_tx);
    // Nothing is read from stdin yet (no input_request), but the socket must exist for clients.
    tokio::spawn(async move { while stdin.recv().await.is_ok() {} });

    let signer = Signer::new(&key);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                subscription = iopub.recv() => match subscription {
                    // A new subscriber: tell it that iopub is live (JEP 65's iopub_welcome).
                    Ok(frames) => if let Some(topic) = subscription_topic(&frames) {
                        let welcome = JupyterMessage::new(
                            jupyter_protocol::IoPubWelcome::new(topic), None);
                        send_logged(&mut iopub, &welcome, &signer).await;
                    },
                    Err(error) => eprintln!("ferrolab: iopub receive failed: {error}"),
                },
                outgoing = outgoing_rx.recv() => match outgoing {
                    Some(Outbound::IoPub(mut message)) => {
                        // iopub's first frame is a topic that subscribers filter on, not a route.
                        let topic = format!("kernel.ferrolab.{}", message.header.msg_type);
                        message.zmq_identities = vec![Bytes::from(topic)];
                        send_logged(&mut iopub, &message, &signer).await
                    }
                    Some(Outbound::Shell(message)) => send_logged(&mut shell_send, &message, &signer).await,
                    Some(Outbound::Control(message)) => send_logged(&mut control_send, &message, &signer).await,
                    None => break,
                },
            }
        }
    });
    Ok(incoming_rx)
}

/// Reads one ROUTER socket, dropping (and logging) every message that fails to decode.
fn spawn_reader(
    channel: Channel,
    mut socket: zeromq::RouterRecvHalf,
    verifier: std::sync::Arc<std::sync::Mutex<Signer>>,
    incoming: mpsc::UnboundedSender<(Channel, JupyterMessage)>,
) {
    tokio::spawn(async move {
        loop {
            let frames = match socket.recv().await {
                Ok(frames) => frames.into_vec(),
                Err(error) => {
                    eprintln!("ferrolab: {channel:?} receive failed: {error}");
                    continue;
                }
            };
            let decoded = decode(
                frames,
                &mut verifier.lock().unwrap_or_else(|e| e.into_inner()),
            );
            match decoded {
                Ok(message) => {
                    if incoming.send((channel, message)).is_err() {
                        break;
                    }
                }
                Err(error) => eprintln!("ferrolab: dropped a message on {channel:?}: {error:#}"),
            }
        }
    });
}

async fn send_logged<S: SocketSend>(socket: &mut S, message: &JupyterMessage, signer: &Signer) {
    let result = match encode(message, signer) {
        Ok(frames) => socket.send(frames).await.map_err(anyhow::Error::from),
        Err(error) => Err(error),
    };
    if let Err(error) = result {
        eprintln!(
            "ferrolab: could not send {}: {error:#}",
            message.header.msg_type
        );
    }
}

/// An XPUB socket receives `\x01topic` when a peer subscribes.
fn subscription_topic(frames: &ZmqMessage) -> Option<String> {
    let frame = frames.get(0)?;
    match frame.first() {
        Some(1) => Some(String::from_utf8_lossy(&frame[1..]).into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_protocol::KernelInfoRequest;

    fn frames(message: &JupyterMessage, signer: &Signer) -> Vec<Bytes> {
        encode(message, signer).unwrap().into_vec()
    }

    #[test]
    fn round_trip_keeps_identities_and_content() {
        let mut signer = Signer::new("secret");
        let mut request = JupyterMessage::new(KernelInfoRequest {}, None);
        request.zmq_identities = vec![Bytes::from_static(b"client-1")];
        let decoded = decode(frames(&request, &signer), &mut signer).unwrap();
        assert_eq!(decoded.zmq_identities, request.zmq_identities);
        assert_eq!(decoded.header.msg_id, request.header.msg_id);
        assert_eq!(decoded.message_type(), "kernel_info_request");
    }

    #[test]
    fn rejects_bad_signature_replay_and_truncation() {
        let mut signer = Signer::new("secret");
        let request = JupyterMessage::new(KernelInfoRequest {}, None);
        let good = frames(&request, &signer);

        let mut forged = good.clone();
        forged[1] = Bytes::from("0".repeat(64));
        assert!(decode(forged, &mut signer).is_err());

        assert!(decode(good.clone(), &mut signer).is_ok());
        let replay = decode(good.clone(), &mut signer).unwrap_err();
        assert!(replay.to_string().contains("duplicate"), "{replay}");

        assert!(decode(good[..4].to_vec(), &mut signer).is_err());
        assert!(decode(vec![Bytes::from_static(b"garbage")], &mut signer).is_err());
    }

    #[test]
    fn unsigned_message_rejected_when_key_is_set() {
        let unsigned = frames(
            &JupyterMessage::new(KernelInfoRequest {}, None),
            &Signer::new(""),
        );
        assert!(decode(unsigned, &mut Signer::new("secret")).is_err());
    }

    #[test]
    fn optional_request_fields_get_the_specs_defaults() {
        let mut content = serde_json::json!({"hist_access_type": "search", "pattern": "a*"});
        fill_spec_defaults("history_request", &mut content);
        let parsed =
            JupyterMessageContent::from_type_and_content("history_request", content).unwrap();
        assert!(matches!(
            parsed,
            JupyterMessageContent::HistoryRequest(jupyter_protocol::HistoryRequest::Search {
                unique: false,
                ..
            })
        ));
    }

    #[test]
    fn optional_dicts_are_objects_not_null() {
        let reply = jupyter_protocol::ExecuteReply::default();
        let json = content_json(&reply.into()).unwrap();
        assert!(json["user_expressions"].is_object(), "{json}");
    }

    mod fuzz {
        //! The decoding path against arbitrary input: it may reject, it must never panic.
        use super::*;
        use proptest::prelude::*;

        fn signed(parts: [Vec<u8>; 4], signer: &Signer) -> Vec<Bytes> {
            let signature = signer.sign(&[&parts[0], &parts[1], &parts[2], &parts[3]]);
            let mut frames = vec![
                Bytes::from_static(b"id"),
                Bytes::from_static(DELIMITER),
                Bytes::from(signature),
            ];
            frames.extend(parts.map(Bytes::from));
            frames
        }

        fn json_object() -> impl Strategy<Value = Vec<u8>> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                ".{0,12}".prop_map(Value::String),
            ];
            let value = leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::hash_map("[a-z_]{1,12}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            });
            value.prop_map(|v| serde_json::to_vec(&v).unwrap())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_frames_never_panic(frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..9)) {
                let _ = decode(frames.into_iter().map(Bytes::from).collect(), &mut Signer::new("key"));
            }

            #[test]
            fn signed_arbitrary_json_never_panics(
                msg_type in prop_oneof![
                    prop::sample::select(vec!["execute_request", "history_request", "complete_request",
                        "inspect_request", "comm_open", "shutdown_request"]).prop_map(String::from),
                    "[a-z_]{1,20}",
                ],
                header_extra in json_object(), content in json_object(), metadata in json_object(),
            ) {
                let signer = Signer::new("key");
                let mut header: serde_json::Map<String, Value> =
                    serde_json::from_slice(&header_extra).ok().and_then(|v: Value| v.as_object().cloned()).unwrap_or_default();
                for (key, value) in [("msg_id", "m"), ("username", "u"), ("session", "s"), ("msg_type", msg_type.as_str()), ("version", "5.3")] {
                    header.insert(key.into(), value.into());
                }
                let header = serde_json::to_vec(&header).unwrap();
                let frames = signed([header, b"{}".to_vec(), metadata, content], &signer);
                let _ = decode(frames, &mut Signer::new("key"));
            }
        }
    }
}
