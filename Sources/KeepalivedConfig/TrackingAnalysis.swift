/// Multi-node checks of tracking weights against priorities, for `portico check` and `portico vrrp -t`
/// (with one node). Instances are matched across nodes by `virtual_router_id` and interface.
///
/// Findings: a tracker whose failure cannot move the VIP (the master's priority minus |weight| still beats
/// the best backup), both nodes going to FAULT on the same tracked failure, equal priorities.
public func trackingAnalysis(nodes: [VRRPConfig]) -> [Diagnostic] {
    []  // Provisional: implemented in a following commit.
}
