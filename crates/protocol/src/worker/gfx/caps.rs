//! Whether the client can take AVC420 in the capability version the server confirmed.
//!
//! ironrdp-egfx 0.3 confirms the intersection of the client's and the server's flags, and
//! the server's defaults never carry `AVC_DISABLED`, so its own `supports_avc420()` says yes
//! to a client that said no (fixed upstream in egfx 0.4). Decide from what the client
//! advertised for that version instead (MS-RDPEGFX 2.2.3).

use ironrdp_egfx::pdu::{
    CapabilitiesV103Flags, CapabilitiesV104Flags, CapabilitiesV107Flags, CapabilitiesV10Flags, CapabilitiesV81Flags,
    CapabilitySet,
};

/// The client advertised `client`; the server confirmed `negotiated`.
pub(crate) fn avc420_usable(client: &[CapabilitySet], negotiated: &CapabilitySet) -> bool {
    let Some(advertised) = client.iter().find(|c| c.version() == negotiated.version()) else {
        return false;
    };
    match advertised {
        CapabilitySet::V8 { .. } => false,
        CapabilitySet::V8_1 { flags } => flags.contains(CapabilitiesV81Flags::AVC420_ENABLED),
        CapabilitySet::V10 { flags } | CapabilitySet::V10_2 { flags } => {
            !flags.contains(CapabilitiesV10Flags::AVC_DISABLED)
        }
        CapabilitySet::V10_1 => true,
        CapabilitySet::V10_3 { flags } => !flags.contains(CapabilitiesV103Flags::AVC_DISABLED),
        CapabilitySet::V10_4 { flags }
        | CapabilitySet::V10_5 { flags }
        | CapabilitySet::V10_6 { flags }
        | CapabilitySet::V10_6Err { flags } => !flags.contains(CapabilitiesV104Flags::AVC_DISABLED),
        CapabilitySet::V10_7 { flags } => !flags.contains(CapabilitiesV107Flags::AVC_DISABLED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_own_flags_decide() {
        let v10_off = CapabilitySet::V10 {
            flags: CapabilitiesV10Flags::AVC_DISABLED,
        };
        let v10_on = CapabilitySet::V10 {
            flags: CapabilitiesV10Flags::SMALL_CACHE,
        };
        // What egfx 0.3 confirms for either: the server's flags ANDed in, AVC_DISABLED gone.
        let confirmed = CapabilitySet::V10 {
            flags: CapabilitiesV10Flags::SMALL_CACHE,
        };
        assert!(!avc420_usable(&[v10_off], &confirmed));
        assert!(avc420_usable(&[v10_on], &confirmed));
    }

    #[test]
    fn v8_never_v81_only_with_avc420_enabled() {
        let v8 = CapabilitySet::V8 {
            flags: ironrdp_egfx::pdu::CapabilitiesV8Flags::empty(),
        };
        assert!(!avc420_usable(std::slice::from_ref(&v8), &v8));
        let v81_off = CapabilitySet::V8_1 {
            flags: CapabilitiesV81Flags::SMALL_CACHE,
        };
        let v81_on = CapabilitySet::V8_1 {
            flags: CapabilitiesV81Flags::AVC420_ENABLED,
        };
        assert!(!avc420_usable(std::slice::from_ref(&v81_off), &v81_off));
        assert!(avc420_usable(std::slice::from_ref(&v81_on), &v81_on));
    }

    #[test]
    fn a_version_the_client_did_not_advertise_is_not_usable() {
        let v104 = CapabilitySet::V10_4 {
            flags: CapabilitiesV104Flags::empty(),
        };
        let v107 = CapabilitySet::V10_7 {
            flags: CapabilitiesV107Flags::empty(),
        };
        assert!(!avc420_usable(&[v104], &v107));
        assert!(avc420_usable(std::slice::from_ref(&v107), &v107));
    }
}
