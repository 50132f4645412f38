//! Linux-PAM for the session leader: the account and session steps of one login, as sshd
//! runs them for a public-key login. Rampart authenticates users itself (NLA and TOTP), so
//! the auth stack is never called.
//!
//! The only module that calls libpam (`libpam0g`; building needs `libpam0g-dev`). Each
//! `unsafe` block says why it is sound. The conversation answers no prompt (there is no one
//! to ask) and keeps the informational and error texts modules send, for the log.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;
use std::ptr;

// Linux-PAM's <security/_pam_types.h>.
const PAM_SUCCESS: c_int = 0;
const PAM_BUF_ERR: c_int = 5;
const PAM_NEW_AUTHTOK_REQD: c_int = 12;
/// The account has expired (pam_unix's account step).
pub(crate) const PAM_ACCT_EXPIRED: c_int = 13;
const PAM_CONV_ERR: c_int = 19;
const PAM_ESTABLISH_CRED: c_int = 0x0002;
const PAM_DELETE_CRED: c_int = 0x0004;
const PAM_TTY: c_int = 3;
const PAM_RHOST: c_int = 4;
const PAM_ERROR_MSG: c_int = 3;
const PAM_TEXT_INFO: c_int = 4;
/// Linux-PAM never sends more messages than this in one call.
const PAM_MAX_NUM_MSG: usize = 32;

/// Texts kept from the conversation (bounded: a module cannot make the leader grow).
const MAX_MESSAGES: usize = 16;
const MAX_MESSAGE_LEN: usize = 512;

#[repr(C)]
struct PamHandle {
    _opaque: [u8; 0],
}

#[repr(C)]
struct PamMessage {
    msg_style: c_int,
    msg: *const c_char,
}

/// Only allocated (zeroed) and handed to PAM: its fields are PAM's to read.
#[repr(C)]
#[allow(dead_code)]
struct PamResponse {
    resp: *mut c_char,
    resp_retcode: c_int,
}

type ConvFn = extern "C" fn(c_int, *mut *const PamMessage, *mut *mut PamResponse, *mut c_void) -> c_int;

#[repr(C)]
struct PamConv {
    conv: Option<ConvFn>,
    appdata_ptr: *mut c_void,
}

#[link(name = "pam")]
extern "C" {
    fn pam_start(
        service_name: *const c_char,
        user: *const c_char,
        pam_conversation: *const PamConv,
        pamh: *mut *mut PamHandle,
    ) -> c_int;
    fn pam_end(pamh: *mut PamHandle, pam_status: c_int) -> c_int;
    fn pam_set_item(pamh: *mut PamHandle, item_type: c_int, item: *const c_void) -> c_int;
    fn pam_acct_mgmt(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_setcred(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_open_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_close_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_strerror(pamh: *mut PamHandle, errnum: c_int) -> *const c_char;
    fn pam_getenvlist(pamh: *mut PamHandle) -> *mut *mut c_char;
}

/// A PAM step that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PamError {
    pub step: &'static str,
    pub code: i32,
    /// pam_strerror's text.
    pub message: String,
}

impl fmt::Display for PamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (pam code {})", self.step, self.message, self.code)
    }
}

impl std::error::Error for PamError {}

/// What the account step said, when it let the login go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccountStatus {
    Ok,
    /// The Unix password must be changed (pam_unix's aging). Rampart does not use that
    /// password, and no prompt to change it exists here; the caller decides.
    PasswordChangeRequired,
}

/// Which string item to set.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Item {
    Tty,
    RemoteHost,
}

/// What the conversation function collects; owned through a raw pointer (see [`Pam`]).
#[derive(Default)]
struct Transcript {
    messages: Vec<String>,
}

/// One PAM transaction for one user of one service. Dropping it closes what was opened:
/// the session (`pam_close_session`), the credentials (`pam_setcred(PAM_DELETE_CRED)`),
/// then the handle (`pam_end`).
pub(crate) struct Pam {
    handle: *mut PamHandle,
    /// From `Box::into_raw`, freed in `Drop` after `pam_end`; PAM holds a copy of it as
    /// the conversation's `appdata_ptr`, so no reference to it is kept while PAM runs.
    transcript: *mut Transcript,
    /// The last status, for `pam_end`.
    status: c_int,
    credentials: bool,
    session: bool,
}

impl Pam {
    /// `pam_start(service, user)` with a conversation that answers no prompt.
    pub(crate) fn start(service: &str, user: &str) -> Result<Self, PamError> {
        let invalid = |what: &str| PamError {
            step: "pam_start",
            code: -1,
            message: format!("{what} contains a NUL byte"),
        };
        let service_c = CString::new(service).map_err(|_| invalid("service name"))?;
        let user_c = CString::new(user).map_err(|_| invalid("user name"))?;
        let transcript = Box::into_raw(Box::<Transcript>::default());
        let conv = PamConv {
            conv: Some(converse),
            appdata_ptr: transcript.cast(),
        };
        let mut handle: *mut PamHandle = ptr::null_mut();
        // SAFETY: every pointer is valid for the duration of the call; Linux-PAM copies the
        // service and user names and the `pam_conv` struct into the new handle, so none of
        // them needs to outlive this call. `appdata_ptr` stays valid until `Drop`, which
        // frees it only after `pam_end`.
        let rc = unsafe { pam_start(service_c.as_ptr(), user_c.as_ptr(), &conv, &mut handle) };
        if rc != PAM_SUCCESS || handle.is_null() {
            let message = strerror(ptr::null_mut(), rc);
            if !handle.is_null() {
                // SAFETY: a handle pam_start returned, ended once, not used again.
                unsafe { pam_end(handle, rc) };
            }
            // SAFETY: `transcript` came from Box::into_raw above and nothing else holds it
            // any more (the handle, if any, has ended).
            drop(unsafe { Box::from_raw(transcript) });
            return Err(PamError {
                step: "pam_start",
                code: rc,
                message,
            });
        }
        Ok(Self {
            handle,
            transcript,
            status: PAM_SUCCESS,
            credentials: false,
            session: false,
        })
    }

    fn check(&mut self, step: &'static str, rc: c_int) -> Result<(), PamError> {
        self.status = rc;
        if rc == PAM_SUCCESS {
            Ok(())
        } else {
            Err(PamError {
                step,
                code: rc,
                message: strerror(self.handle, rc),
            })
        }
    }

    /// Sets a string item (PAM copies it).
    pub(crate) fn set_item(&mut self, item: Item, value: &str) -> Result<(), PamError> {
        let value = CString::new(value).map_err(|_| PamError {
            step: "pam_set_item",
            code: -1,
            message: "value contains a NUL byte".into(),
        })?;
        let kind = match item {
            Item::Tty => PAM_TTY,
            Item::RemoteHost => PAM_RHOST,
        };
        // SAFETY: `self.handle` is a live handle; the value is a NUL-terminated string that
        // PAM copies (string items are duplicated by pam_set_item).
        let rc = unsafe { pam_set_item(self.handle, kind, value.as_ptr().cast()) };
        self.check("pam_set_item", rc)
    }

    /// `pam_acct_mgmt`: may this account log in now (expiry, nologin, access rules)?
    pub(crate) fn account(&mut self) -> Result<AccountStatus, PamError> {
        // SAFETY: `self.handle` is a live handle.
        let rc = unsafe { pam_acct_mgmt(self.handle, 0) };
        if rc == PAM_NEW_AUTHTOK_REQD {
            self.status = PAM_SUCCESS;
            return Ok(AccountStatus::PasswordChangeRequired);
        }
        self.check("pam_acct_mgmt", rc).map(|()| AccountStatus::Ok)
    }

    /// `pam_setcred(PAM_ESTABLISH_CRED)`; deleted again on drop.
    pub(crate) fn establish_credentials(&mut self) -> Result<(), PamError> {
        // SAFETY: `self.handle` is a live handle.
        let rc = unsafe { pam_setcred(self.handle, PAM_ESTABLISH_CRED) };
        self.check("pam_setcred", rc)?;
        self.credentials = true;
        Ok(())
    }

    /// `pam_open_session` (limits, loginuid, logind…); closed again on drop.
    pub(crate) fn open_session(&mut self) -> Result<(), PamError> {
        // SAFETY: `self.handle` is a live handle.
        let rc = unsafe { pam_open_session(self.handle, 0) };
        self.check("pam_open_session", rc)?;
        self.session = true;
        Ok(())
    }

    /// The environment the modules set (`NAME=value` pairs, e.g. from pam_env, pam_systemd).
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        // SAFETY: `self.handle` is a live handle. pam_getenvlist returns NULL or a
        // NULL-terminated array of malloc'd strings that the caller owns and frees.
        let list = unsafe { pam_getenvlist(self.handle) };
        if list.is_null() {
            return out;
        }
        let mut i = 0;
        loop {
            // SAFETY: `list` is NULL-terminated, and we stop at the terminator.
            let entry = unsafe { *list.add(i) };
            if entry.is_null() {
                break;
            }
            // SAFETY: each entry is a NUL-terminated string owned by us until freed below.
            let text = unsafe { CStr::from_ptr(entry) }.to_string_lossy().into_owned();
            // SAFETY: malloc'd by libpam, freed once, not used again.
            unsafe { libc::free(entry.cast()) };
            if let Some((name, value)) = text.split_once('=') {
                if !name.is_empty() {
                    out.push((name.to_owned(), value.to_owned()));
                }
            }
            i += 1;
        }
        // SAFETY: the array itself, malloc'd by libpam, freed once.
        unsafe { libc::free(list.cast()) };
        out
    }

    /// Texts the modules sent through the conversation so far.
    pub(crate) fn messages(&self) -> Vec<String> {
        // SAFETY: `self.transcript` is live until drop, and PAM is not running (we hold
        // `&self` outside any PAM call), so no other reference to it exists.
        unsafe { (*self.transcript).messages.clone() }
    }
}

impl Drop for Pam {
    fn drop(&mut self) {
        if self.session {
            // SAFETY: `self.handle` is live; the session was opened on it.
            let rc = unsafe { pam_close_session(self.handle, 0) };
            if rc != PAM_SUCCESS {
                tracing::warn!(error = %strerror(self.handle, rc), "pam_close_session failed");
            }
        }
        if self.credentials {
            // SAFETY: `self.handle` is live; credentials were established on it.
            let rc = unsafe { pam_setcred(self.handle, PAM_DELETE_CRED) };
            if rc != PAM_SUCCESS {
                tracing::warn!(error = %strerror(self.handle, rc), "pam_setcred(delete) failed");
            }
        }
        // SAFETY: ends the live handle once; it is not used afterwards.
        unsafe { pam_end(self.handle, self.status) };
        // SAFETY: from Box::into_raw in `start`; the handle that held a copy has ended.
        drop(unsafe { Box::from_raw(self.transcript) });
    }
}

fn strerror(handle: *mut PamHandle, code: c_int) -> String {
    // SAFETY: Linux-PAM's pam_strerror ignores the handle (NULL is fine) and returns a
    // pointer to a static NUL-terminated string, or NULL.
    let text = unsafe { pam_strerror(handle, code) };
    if text.is_null() {
        return format!("pam error {code}");
    }
    // SAFETY: non-NULL, static and NUL-terminated (see above).
    unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned()
}

/// The conversation: informational and error texts are kept; any prompt fails the call
/// (`PAM_CONV_ERR`), since no one can answer it.
extern "C" fn converse(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
) -> c_int {
    let Ok(count) = usize::try_from(num_msg) else {
        return PAM_CONV_ERR;
    };
    if count == 0 || count > PAM_MAX_NUM_MSG || msg.is_null() || resp.is_null() || appdata_ptr.is_null() {
        return PAM_CONV_ERR;
    }
    // SAFETY: `appdata_ptr` is the Transcript pointer given to pam_start, live until the
    // handle ends; PAM calls the conversation from within our own PAM calls on this
    // thread, while no Rust reference to the transcript exists.
    let transcript = unsafe { &mut *appdata_ptr.cast::<Transcript>() };
    for i in 0..count {
        // SAFETY: Linux-PAM passes an array of `count` message pointers.
        let message = unsafe { *msg.add(i) };
        if message.is_null() {
            return PAM_CONV_ERR;
        }
        // SAFETY: a non-NULL message from PAM, valid for this call.
        let (style, text) = unsafe { ((*message).msg_style, (*message).msg) };
        match style {
            PAM_ERROR_MSG | PAM_TEXT_INFO => {
                if !text.is_null() && transcript.messages.len() < MAX_MESSAGES {
                    // SAFETY: non-NULL, NUL-terminated, valid for this call.
                    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
                    transcript
                        .messages
                        .push(text.trim().chars().take(MAX_MESSAGE_LEN).collect());
                }
            }
            _ => return PAM_CONV_ERR,
        }
    }
    // SAFETY: calloc of `count` zeroed responses (each `resp` NULL, nothing to answer);
    // PAM takes ownership and frees the array with free().
    let answers = unsafe { libc::calloc(count, std::mem::size_of::<PamResponse>()) }.cast::<PamResponse>();
    if answers.is_null() {
        return PAM_BUF_ERR;
    }
    // SAFETY: `resp` is non-NULL and points to PAM's slot for the answers.
    unsafe { *resp = answers };
    PAM_SUCCESS
}
