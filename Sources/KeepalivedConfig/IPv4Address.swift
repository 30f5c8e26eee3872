import VRRPCore

/// The address type of the model is the VRRP protocol's own, so the daemon puts parsed VIPs, peers and
/// sources into adverts and netlink requests without converting them.
public typealias IPv4Address = VRRPCore.IPv4Address
