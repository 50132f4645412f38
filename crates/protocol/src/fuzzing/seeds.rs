//! Seed inputs made from real traffic: IronRDP's own client (`ironrdp-connector`) logs in
//! to the acceptor over an in-memory pipe (TLS skipped, CredSSP/NTLM real, with the fuzz
//! store's password) and every byte it sends is recorded; input PDUs and IPC lines come
//! from the real encoders. `examples/fuzz_seeds.rs` writes them to `fuzz/seeds/`, and the
//! replay test checks that they still get deep into their targets.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use ironrdp_acceptor::BeginResult;
use ironrdp_connector::sspi::credssp::TsRequest;
use ironrdp_connector::{BitmapConfig, ClientConnector, Credentials, DesktopSize};
use ironrdp_core::encode_vec;
use ironrdp_pdu::gcc::KeyboardType;
use ironrdp_pdu::input::fast_path::{FastPathInput, FastPathInputEvent, KeyboardFlags, SynchronizeFlags};
use ironrdp_pdu::input::mouse::{MousePdu, PointerFlags};
use ironrdp_pdu::input::scan_code::{self, ScanCodePdu};
use ironrdp_pdu::input::unicode::{self, UnicodePdu};
use ironrdp_pdu::input::{InputEvent, InputEventPdu};
use ironrdp_pdu::mcs::{McsMessage, SendDataRequest};
use ironrdp_pdu::rdp::capability_sets::{BitmapCodecs, MajorPlatformType};
use ironrdp_pdu::rdp::client_info::{PerformanceFlags, TimezoneInfo};
use ironrdp_pdu::rdp::headers::{
    CompressionFlags, ShareControlHeader, ShareControlPdu, ShareDataHeader, ShareDataPdu, StreamPriority,
};
use ironrdp_pdu::x224::X224;
use ironrdp_tokio::TokioFramed;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use super::acceptor::{join_tokens, new_acceptor, server_credssp, FuzzStore, NoNetwork, PASSWORD, PUBLIC_KEY, USER};
use crate::ipc::{self, CloseFault, HexBytes, NtlmClaim, ToSupervisor, TypedCode};

/// One seed file: `fuzz/seeds/<target>/<name>`.
#[derive(Debug)]
pub struct Seed {
    pub target: &'static str,
    pub name: &'static str,
    pub data: Vec<u8>,
}

/// Every target's seeds, made fresh (the NTLM messages differ each time: they carry a
/// random client challenge).
pub fn seeds() -> Result<Vec<Seed>, String> {
    let session = record_login()?;
    let mut out = session.seeds()?;
    out.extend(input_seeds()?);
    out.extend(local_seeds()?);
    Ok(out)
}

/// The client half of a duplex pipe, copying every write into a shared log.
struct Recorder {
    inner: DuplexStream,
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl AsyncRead for Recorder {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            if let Ok(mut writes) = this.writes.lock() {
                writes.push(buf.get(..*n).unwrap_or_default().to_vec());
            }
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What the client sent, in write order.
struct Session {
    writes: Vec<Vec<u8>>,
}

fn client_config() -> ironrdp_connector::Config {
    ironrdp_connector::Config {
        desktop_size: DesktopSize {
            width: 1280,
            height: 800,
        },
        desktop_scale_factor: 0,
        enable_tls: false,
        enable_credssp: true,
        credentials: Credentials::UsernamePassword {
            username: USER.to_owned(),
            password: PASSWORD.to_owned(),
        },
        domain: None,
        client_build: 2600,
        client_name: "fuzz-seed".to_owned(),
        keyboard_type: KeyboardType::IbmEnhanced,
        keyboard_subtype: 0,
        keyboard_functional_keys_count: 12,
        keyboard_layout: 0x409,
        ime_file_name: String::new(),
        bitmap: Some(BitmapConfig {
            lossy_compression: true,
            color_depth: 32,
            codecs: BitmapCodecs(Vec::new()),
        }),
        dig_product_id: String::new(),
        client_dir: "C:\\Windows\\System32\\mstscax.dll".to_owned(),
        alternate_shell: String::new(),
        work_dir: String::new(),
        platform: MajorPlatformType::UNIX,
        hardware_id: None,
        request_data: None,
        autologon: false,
        enable_audio_playback: false,
        performance_flags: PerformanceFlags::default(),
        license_cache: None,
        timezone_info: TimezoneInfo::default(),
        compression_type: None,
        enable_server_pointer: true,
        pointer_software_rendering: true,
        multitransport_flags: None,
    }
}

/// IronRDP's client logs in to the acceptor; returns what the client wrote.
fn record_login() -> Result<Session, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let writes = Arc::new(Mutex::new(Vec::new()));
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let recorder = Recorder {
        inner: client_end,
        writes: Arc::clone(&writes),
    };
    runtime.block_on(async move {
        let client = async move {
            let mut framed = TokioFramed::new(recorder);
            let mut connector = ClientConnector::new(client_config(), "127.0.0.1:50000".parse().map_err(|_| "addr")?);
            let should_upgrade = ironrdp_tokio::connect_begin(&mut framed, &mut connector)
                .await
                .map_err(|e| format!("client begin: {e}"))?;
            let upgraded = ironrdp_tokio::mark_as_upgraded(should_upgrade, &mut connector);
            ironrdp_tokio::connect_finalize(
                upgraded,
                connector,
                &mut framed,
                &mut NoNetwork,
                "fuzz".to_owned().into(),
                PUBLIC_KEY.to_vec(),
                None,
            )
            .await
            .map_err(|e| format!("client finalize: {e}"))?;
            Ok::<(), String>(())
        };
        let server = async move {
            let mut acceptor = new_acceptor(Arc::new(FuzzStore::new()));
            let begun = ironrdp_acceptor::accept_begin(TokioFramed::new(server_end), &mut acceptor)
                .await
                .map_err(|e| format!("server begin: {e}"))?;
            let BeginResult::ShouldUpgrade(stream) = begun else {
                return Err("server: no security upgrade".to_owned());
            };
            acceptor.mark_security_upgrade_as_done();
            let mut framed = TokioFramed::new(stream);
            server_credssp(&mut framed, &mut acceptor)
                .await
            .map_err(|e| format!("server credssp: {e}"))?;
            ironrdp_acceptor::accept_finalize(framed, &mut acceptor)
                .await
                .map_err(|e| format!("server finalize: {e}"))?;
            Ok::<(), String>(())
        };
        let (c, s) = tokio::join!(client, server);
        c.and(s)
    })?;
    let writes = writes.lock().map(|w| w.clone()).map_err(|_| "recorder poisoned")?;
    Ok(Session { writes })
}

impl Session {
    fn seeds(&self) -> Result<Vec<Seed>, String> {
        let mut writes = self.writes.iter();
        let x224 = writes.next().ok_or("client sent nothing")?.clone();
        let mut credssp = Vec::new();
        let mut tokens = Vec::new();
        let mut mcs = Vec::new();
        for write in writes {
            // TsRequests are DER sequences (0x30); after CredSSP come TPKT frames (0x03).
            if mcs.is_empty() && write.first() == Some(&0x30) {
                credssp.extend_from_slice(write);
                if let Some(token) = TsRequest::from_buffer(write).ok().and_then(|r| r.nego_tokens) {
                    tokens.push(token);
                }
            } else {
                mcs.extend_from_slice(write);
            }
        }
        if credssp.is_empty() || tokens.len() < 2 || mcs.is_empty() {
            return Err(format!(
                "unexpected transcript: {} credssp bytes, {} tokens, {} mcs bytes",
                credssp.len(),
                tokens.len(),
                mcs.len()
            ));
        }
        let token_refs: Vec<&[u8]> = tokens.iter().map(Vec::as_slice).collect();
        let mut framing_mcs = vec![0u8];
        framing_mcs.extend_from_slice(&mcs);
        let mut framing_x224 = vec![1u8];
        framing_x224.extend_from_slice(&x224);
        let mut budget = vec![0x00, 0x02, 4];
        budget.extend_from_slice(&mcs);
        Ok(vec![
            Seed {
                target: "acceptor_x224",
                name: "ironrdp-client-request",
                data: x224,
            },
            Seed {
                target: "credssp",
                name: "ironrdp-client-login",
                data: credssp,
            },
            Seed {
                target: "ntlm",
                name: "ironrdp-client-negotiate-authenticate",
                data: join_tokens(&token_refs),
            },
            Seed {
                target: "acceptor_mcs",
                name: "ironrdp-client-connection-sequence",
                data: mcs,
            },
            Seed {
                target: "framing",
                name: "read-pdu-connection-sequence",
                data: framing_mcs,
            },
            Seed {
                target: "framing",
                name: "x224-hint-request",
                data: framing_x224,
            },
            Seed {
                target: "budget",
                name: "512-bytes-then-auth",
                data: budget,
            },
        ])
    }
}

fn encode<T: ironrdp_core::Encode>(what: &str, pdu: &T) -> Result<Vec<u8>, String> {
    encode_vec(pdu).map_err(|e| format!("encode {what}: {e}"))
}

fn input_seeds() -> Result<Vec<Seed>, String> {
    let typing: Vec<FastPathInputEvent> = [0x02u8, 0x03, 0x04, 0x1c]
        .into_iter()
        .flat_map(|code| {
            [
                FastPathInputEvent::KeyboardEvent(KeyboardFlags::empty(), code),
                FastPathInputEvent::KeyboardEvent(KeyboardFlags::RELEASE, code),
            ]
        })
        .collect();
    let mixed = vec![
        FastPathInputEvent::SyncEvent(SynchronizeFlags::NUM_LOCK),
        FastPathInputEvent::UnicodeKeyboardEvent(KeyboardFlags::empty(), u16::from(b'a')),
        FastPathInputEvent::MouseEvent(MousePdu {
            flags: PointerFlags::MOVE,
            number_of_wheel_rotation_units: 0,
            x_position: 100,
            y_position: 200,
        }),
        FastPathInputEvent::MouseEvent(MousePdu {
            flags: PointerFlags::VERTICAL_WHEEL,
            number_of_wheel_rotation_units: -240,
            x_position: 0,
            y_position: 0,
        }),
        FastPathInputEvent::KeyboardEvent(KeyboardFlags::EXTENDED, 0x48),
    ];
    let fast = |what, events| {
        let pdu = FastPathInput::new(events).map_err(|e| format!("fast-path {what}: {e}"))?;
        encode(what, &pdu)
    };
    let slow_events = InputEventPdu(vec![
        InputEvent::ScanCode(ScanCodePdu {
            flags: scan_code::KeyboardFlags::empty(),
            key_code: 0x1e,
        }),
        InputEvent::Unicode(UnicodePdu {
            flags: unicode::KeyboardFlags::empty(),
            unicode_code: u16::from(b'7'),
        }),
        InputEvent::Mouse(MousePdu {
            flags: PointerFlags::LEFT_BUTTON | PointerFlags::DOWN,
            number_of_wheel_rotation_units: 0,
            x_position: 10,
            y_position: 10,
        }),
    ]);
    let control = ShareControlHeader {
        share_control_pdu: ShareControlPdu::Data(ShareDataHeader {
            share_data_pdu: ShareDataPdu::Input(slow_events),
            stream_priority: StreamPriority::Medium,
            compression_flags: CompressionFlags::empty(),
            compression_type: ironrdp_pdu::rdp::client_info::CompressionType::K8,
        }),
        pdu_source: 1007,
        share_id: 0x1_03ea,
    };
    let user_data = encode("share control header", &control)?;
    let slow = X224(McsMessage::SendDataRequest(SendDataRequest {
        initiator_id: 1007,
        channel_id: 1003,
        user_data: user_data.into(),
    }));
    let fast_typing = fast("typing", typing)?;
    let mut framing_fast = vec![2u8];
    framing_fast.extend_from_slice(&fast_typing);
    Ok(vec![
        Seed {
            target: "fastpath_input",
            name: "typing-123-enter",
            data: fast_typing,
        },
        Seed {
            target: "fastpath_input",
            name: "sync-unicode-mouse-wheel",
            data: fast("mixed", mixed)?,
        },
        Seed {
            target: "slowpath_input",
            name: "scancode-unicode-click",
            data: encode("slow-path input", &slow)?,
        },
        Seed {
            target: "framing",
            name: "fast-path-hint-typing",
            data: framing_fast,
        },
    ])
}

fn local_seeds() -> Result<Vec<Seed>, String> {
    let messages = [
        ToSupervisor::SignHandshake {
            scheme: 0x0804,
            message: HexBytes(vec![0x20; 98]),
        },
        ToSupervisor::NtlmChallenge,
        ToSupervisor::NtlmVerify(NtlmClaim {
            user: USER.to_owned(),
            domain: "WORKGROUP".to_owned(),
            nt_response: HexBytes(vec![0x01; 64]),
            encrypted_session_key: Some(HexBytes(vec![0x02; 16])),
            flags: 0x6208_8215,
        }),
        ToSupervisor::VerifyCode {
            code: TypedCode("123456".to_owned()),
        },
        ToSupervisor::OpenSession {
            width: 1280,
            height: 800,
        },
        ToSupervisor::OpenDisplay,
        ToSupervisor::Closed {
            reason: "client disconnected".to_owned(),
            fault: CloseFault::None,
        },
    ];
    let mut lines = Vec::new();
    for msg in &messages {
        lines.extend(ipc::encode(msg).map_err(|e| format!("ipc encode: {e}"))?);
    }
    // 200x150 screen, user "alice", then "1", "2", "3" pressed and released, Enter.
    let mut keys = vec![200, 150];
    keys.extend_from_slice(USER.as_bytes());
    keys.push(0);
    for code in [0x02u8, 0x03, 0x04, 0x1c] {
        keys.extend_from_slice(&[0, code, 0, 1, code, 0]);
    }
    Ok(vec![
        Seed {
            target: "ipc_line",
            name: "every-worker-message",
            data: lines,
        },
        Seed {
            target: "prompt_keys",
            name: "alice-types-123-enter",
            data: keys,
        },
    ])
}
