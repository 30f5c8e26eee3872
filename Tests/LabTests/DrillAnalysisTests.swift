import Testing

@testable import Lab

/// Drill reports computed from made-up runs: the numbers an operator reads must follow from the records.
@Suite struct DrillAnalysisTests {
    static let origin = 1_000_000.0

    /// 10 requests/s for `seconds`, answered alternately by web01 and web02 unless `outcome` says otherwise.
    static func records(_ seconds: Double, outcome: (Double) -> FailureKind? = { _ in nil }) -> [ProbeRecord] {
        (0..<Int(seconds * 10)).map { index in
            let offset = Double(index) / 10
            let error = outcome(offset)
            return ProbeRecord(
                seq: index, sent: origin + offset, latency: 0.002, status: error == nil ? 200 : nil,
                backend: error == nil ? (index % 2 == 0 ? "web01" : "web02") : nil, error: error
            )
        }
    }

    static func samples(_ seconds: Double, _ state: (Double) -> ([String], [String: String])) -> [DrillSample] {
        (0..<Int(seconds * 10)).map { index in
            let offset = Double(index) / 10 + 0.05
            let (holders, states) = state(offset)
            return DrillSample(time: origin + offset, vipHolders: holders, states: states)
        }
    }

    static let allUp = ["lb01/web01": "UP", "lb01/web02": "UP", "lb02/web01": "UP", "lb02/web02": "UP"]

    static let phases = [
        DrillPhase(name: "steady", start: origin, end: origin + 2, action: "steady load"),
        DrillPhase(name: "fault", start: origin + 2, end: origin + 12, action: "SIGTERM haproxy on lb01"),
        DrillPhase(name: "recovery", start: origin + 12, end: origin + 20, action: "restart haproxy on lb01"),
    ]

    @Test func entryDrillReportsOutageVIPMoveAndReturn() {
        // lb01's balancer stops at 2 s: refused until the VIP reaches lb02 at 9.6 s; back to lb01 at 15 s.
        let run = DrillRun(
            drill: .entry, stack: "reference", start: Self.origin, end: Self.origin + 20, holder: "lb01",
            phases: Self.phases, events: [],
            samples: Self.samples(20) { offset in
                var states = Self.allUp
                if offset >= 2 && offset < 13 {
                    states = ["lb02/web01": "UP", "lb02/web02": "UP", "lb01": "unavailable"]
                }
                let holder = offset < 9.6 ? "lb01" : (offset < 15 ? "lb02" : "lb01")
                return ([holder], states)
            },
            records: Self.records(20) { offset in offset >= 2 && offset < 9.6 ? .refused : nil }
        )
        let report = DrillAnalysis.report(run)
        #expect(report.phases.map(\.name) == ["steady", "fault", "recovery"])
        #expect(report.phases.map(\.requests) == [20, 100, 80])
        let fault = report.phases[1]
        #expect(fault.failed == 76)
        #expect(fault.failures == ["refused": 76])
        #expect(fault.outage?.first == 2.0)
        #expect(abs((fault.outage?.seconds ?? 0) - 7.5) < 1e-9)
        #expect(fault.vipMove?.from == "lb01")
        #expect(fault.vipMove?.to == "lb02")
        #expect(abs((fault.vipMove?.seconds ?? 0) - 7.65) < 1e-6)
        let recovery = report.phases[2]
        #expect(recovery.failed == 0)
        #expect(recovery.outage == nil)
        #expect(recovery.vipMove?.to == "lb01")
        #expect(recovery.backends == ["web01": 40, "web02": 40])
        #expect(report.vipMoved == true)
        #expect(report.vipReturned == true)
        #expect(report.splitBrainSamples == 0)
        #expect(report.failed == 76)
        let subjects = fault.stateChanges.map(\.text)
        #expect(subjects == ["lb01 stats answering → unavailable", "VIP lb01 → lb02"])
    }

    @Test func vipThatNeverMovesIsReportedAsSuch() {
        let run = DrillRun(
            drill: .node, stack: "portico", start: Self.origin, end: Self.origin + 20, holder: "lb01",
            phases: Self.phases, events: [], samples: Self.samples(20) { _ in (["lb01"], Self.allUp) },
            records: Self.records(20) { offset in offset >= 2 && offset < 12 ? .timeout : nil }
        )
        let report = DrillAnalysis.report(run)
        #expect(report.vipMoved == false)
        #expect(report.vipReturned == true)
        #expect(report.phases[1].vipMove == nil)
        #expect(report.phases[1].failures == ["timeout": 100])
    }

    @Test func backendDrillCountsRequestsServedAfterDown() {
        // web01 stops at 2 s; lb01 marks it DOWN at 6 s; one late request still reaches it at 6.5 s (a bug).
        let run = DrillRun(
            drill: .backend, stack: "reference", start: Self.origin, end: Self.origin + 20, holder: "lb01",
            phases: Self.phases, events: [],
            samples: Self.samples(20) { offset in
                var states = Self.allUp
                if offset >= 6 && offset < 16 { states["lb01/web01"] = "DOWN" }
                return (["lb01"], states)
            },
            records: Self.records(20).map { record in
                var record = record
                let offset = record.sent - Self.origin
                if offset >= 2 && offset < 6 && record.backend == "web01" {
                    record.error = .http
                    record.status = 503
                    record.backend = nil
                }
                if offset >= 6 && offset < 12 && record.backend == "web01" && abs(offset - 6.6) > 0.01 {
                    record.backend = "web02"
                }
                return record
            }
        )
        let report = DrillAnalysis.report(run)
        #expect(report.backendTakenOut == true)
        #expect(report.backendBack == true)
        #expect(report.servedByDownBackend == 1)
        #expect(report.phases[1].failures == ["http 503": 20])
        #expect(report.phases[1].stateChanges.map(\.text) == ["lb01/web01 UP → DOWN"])
        #expect(report.phases[2].stateChanges.map(\.text) == ["lb01/web01 DOWN → UP"])
        #expect(report.vipMoved == nil)
    }

    @Test func twoHoldersAreCountedAsSplitBrain() {
        let run = DrillRun(
            drill: .node, stack: "reference", start: Self.origin, end: Self.origin + 20, holder: "lb01",
            phases: Self.phases, events: [],
            samples: Self.samples(20) { offset in (offset >= 5 && offset < 6 ? ["lb01", "lb02"] : ["lb01"], Self.allUp)
            },
            records: Self.records(20)
        )
        let report = DrillAnalysis.report(run)
        #expect(report.splitBrainSamples == 10)
        #expect(report.vipMoved == true)
        // The VIP moved to lb02 (while lb01 still held it: the overlap is the split brain counted above).
        #expect(report.phases[1].vipMove?.to == "lb02")
        #expect(ReportText.verdict(report).contains("SPLIT BRAIN in 10 samples"))
    }

    @Test func reportsRenderTheirNumbers() {
        let run = DrillRun(
            drill: .entry, stack: "reference", start: Self.origin, end: Self.origin + 20, holder: "lb01",
            phases: Self.phases, events: [DrillEvent(time: Self.origin + 2, label: "SIGTERM haproxy on lb01")],
            samples: Self.samples(20) { offset in ([offset < 9.6 || offset >= 15 ? "lb01" : "lb02"], Self.allUp) },
            records: Self.records(20) { offset in offset >= 2 && offset < 9.6 ? .refused : nil }
        )
        let report = DrillAnalysis.report(run)
        let text = ReportText.drill(report)
        #expect(text.contains("refused 76"))
        #expect(text.contains("lb01→lb02 after 7.65 s"))
        #expect(ReportText.summary([report]).contains("as the seed says"))
        let html = ReportHTML.page(runs: [run], reports: [report])
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg"))
        // One red mark per failed request, one green per answered one.
        #expect(html.components(separatedBy: "stroke=\"#d32f2f\"").count - 1 == 76)
        let green =
            html.components(separatedBy: "stroke=\"#2e9e4f\"").count
            + html.components(separatedBy: "stroke=\"#7ccf94\"").count - 2
        #expect(green == 200 - 76)
        #expect(!html.contains("http://") || !html.contains("src=\"http"))
    }

    @Test func steadyDrillCountsEveryVIPSwitch() {
        let whole = [DrillPhase(name: "steady", start: Self.origin, end: Self.origin + 20, action: "steady load")]
        let calm = DrillRun(
            drill: .steady, stack: "reference", start: Self.origin, end: Self.origin + 20, holder: "lb01",
            phases: whole, events: [], samples: Self.samples(20) { _ in (["lb01"], Self.allUp) },
            records: Self.records(20)
        )
        #expect(DrillAnalysis.report(calm).vipChanges == 0)
        #expect(DrillAnalysis.report(calm).asSeedSays)
        let flapping = DrillRun(
            drill: .steady, stack: "reference", start: Self.origin, end: Self.origin + 20, holder: "lb01",
            phases: whole, events: [],
            samples: Self.samples(20) { offset in (offset > 5 && offset < 6 ? ["lb02"] : ["lb01"], Self.allUp) },
            records: Self.records(20)
        )
        let report = DrillAnalysis.report(flapping)
        #expect(report.vipChanges == 2)
        #expect(!report.asSeedSays)
        #expect(ReportText.verdict(report).contains("VIP switches: 2"))
    }
}
