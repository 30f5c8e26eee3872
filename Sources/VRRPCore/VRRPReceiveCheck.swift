/// The outcome of the receive checks of RFC 5798 §7.1 (RFC 3768 §7.1 for VRRPv2).
public enum VRRPReceiveVerdict: Hashable, Sendable {
    /// Use the advert. `addressesMatch` is false when its address list differs from ours: the RFC says to
    /// log that, not to drop.
    case accept(addressesMatch: Bool)
    /// Discard the advert and count it under `reason`.
    case drop(VRRPDropReason)
}

extension VRRPInstanceConfig {
    /// Applies the receive checks to a decoded advert (decoding already verified length, version, type,
    /// checksum and count). In RFC order: TTL, version, VRID, authentication, interval (v2), addresses.
    public func check(_ advert: VRRPAdvert, header: ReceivedIPHeader) -> VRRPReceiveVerdict {
        // Unicast adverts may be routed, so like Keepalived only multicast ones must carry TTL 255.
        if header.destination.isMulticast, header.ttl != 255 { return .drop(.wrongTTL) }
        guard advert.version == version else { return .drop(.badVersion) }
        guard advert.virtualRouterID == virtualRouterID else { return .drop(.wrongVirtualRouterID) }
        if version == .v2 {
            guard advert.authentication.matchesOnWire(authentication) else { return .drop(.authMismatch) }
            // RFC 3768 §7.1: "MUST verify that the Adver Interval in the packet is the same as the locally
            // configured for this virtual router"; VRRPv3 instead learns the master's interval.
            guard advert.intervalCentiseconds == intervalCentiseconds else { return .drop(.intervalMismatch) }
        }
        if header.source == primaryAddress { return .drop(.ownAdvert) }
        let matches = Set(advert.addresses) == Set(virtualAddresses)
        return .accept(addressesMatch: matches)
    }
}
