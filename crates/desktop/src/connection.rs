//! Opening an X11 connection for an [`X11Target`].

use std::os::unix::net::UnixStream;

use x11rb::rust_connection::{DefaultStream, RustConnection};

use crate::{DesktopError, X11Target, MIT_MAGIC_COOKIE};

/// Parses `:N` or `:N.S` into (display number, screen).
pub(crate) fn parse_local_display(name: &str) -> Option<(u32, usize)> {
    let rest = name.strip_prefix(':')?;
    let (num, screen) = match rest.split_once('.') {
        Some((n, s)) => (n, s.parse().ok()?),
        None => (rest, 0),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((num.parse().ok()?, screen))
}

/// Speaks X11 over `stream`, an already open connection to the target's server (as the
/// privileged supervisor hands one to a confined worker), with the target's cookie if it
/// has one.
pub(crate) fn connect_stream(stream: UnixStream, target: &X11Target) -> Result<(RustConnection, usize), DesktopError> {
    let connect_err = |reason: String| DesktopError::Connect {
        display: target.display.clone(),
        reason,
    };
    let (_, screen) = parse_local_display(&target.display)
        .ok_or_else(|| DesktopError::InvalidDisplay(target.display.clone()))?;
    let (stream, _peer) = DefaultStream::from_unix_stream(stream).map_err(|e| connect_err(e.to_string()))?;
    let (name, data) = match &target.cookie {
        Some(cookie) => (MIT_MAGIC_COOKIE.as_bytes().to_vec(), cookie.clone()),
        None => (Vec::new(), Vec::new()),
    };
    let conn = RustConnection::connect_to_stream_with_auth_info(stream, screen, name, data)
        .map_err(|e| connect_err(e.to_string()))?;
    Ok((conn, screen))
}

/// The path of a local display's Unix socket.
pub fn socket_path(display: &str) -> Option<String> {
    let (num, _) = parse_local_display(display)?;
    Some(format!("/tmp/.X11-unix/X{num}"))
}

/// Connects to the target. With a cookie, only local displays (`:N`) are
/// accepted and the cookie is sent as MIT-MAGIC-COOKIE-1; without one, x11rb's
/// usual lookup (`$XAUTHORITY`) applies.
pub(crate) fn connect(target: &X11Target) -> Result<(RustConnection, usize), DesktopError> {
    let connect_err = |reason: String| DesktopError::Connect {
        display: target.display.clone(),
        reason,
    };
    match &target.cookie {
        None => {
            RustConnection::connect(Some(&target.display)).map_err(|e| connect_err(e.to_string()))
        }
        Some(cookie) => {
            let (num, screen) = parse_local_display(&target.display)
                .ok_or_else(|| DesktopError::InvalidDisplay(target.display.clone()))?;
            let path = format!("/tmp/.X11-unix/X{num}");
            let stream =
                UnixStream::connect(&path).map_err(|e| connect_err(format!("{path}: {e}")))?;
            let (stream, _peer) =
                DefaultStream::from_unix_stream(stream).map_err(|e| connect_err(e.to_string()))?;
            let conn = RustConnection::connect_to_stream_with_auth_info(
                stream,
                screen,
                MIT_MAGIC_COOKIE.as_bytes().to_vec(),
                cookie.clone(),
            )
            .map_err(|e| connect_err(e.to_string()))?;
            Ok((conn, screen))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(parse_local_display(":5"), Some((5, 0)));
        assert_eq!(parse_local_display(":12.1"), Some((12, 1)));
        assert_eq!(parse_local_display("5"), None);
        assert_eq!(parse_local_display(":"), None);
        assert_eq!(parse_local_display(":x"), None);
        assert_eq!(parse_local_display(":+5"), None);
        assert_eq!(parse_local_display("host:5"), None);
        assert_eq!(parse_local_display(":5.x"), None);
    }
}
