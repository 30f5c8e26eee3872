import Foundation
import Testing

@testable import Preflight

@Suite struct ReportOutputTests {
    @Test func tableGroupsByCategoryWithSummary() throws {
        let table = Fixtures.check("seed").table()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "portico check: lb01 (portico lb), lb02 (portico lb)")
        let stats = try #require(lines.firstIndex(of: "Statistics page"))
        let scripts = try #require(lines.firstIndex(of: "Scripts"))
        #expect(stats < scripts)
        #expect(!lines.contains("VRRP consistency"))
        #expect(lines.contains { $0.hasPrefix("  SEVERITY  NODE  LOCATION") })
        #expect(lines.contains { $0.contains("error") && $0.contains("lb01") && $0.contains("check_haproxy.sh:4") })
        #expect(lines.dropLast().last == "2 errors, 4 warnings, 0 info: not ready to go live")
        #expect(Fixtures.check("clean").table().hasSuffix("0 errors, 0 warnings, 0 info: no error\n"))
    }

    @Test func findingsAreSortedErrorsFirstWithinACategory() {
        let report = Fixtures.check("seed")
        let categories = report.findings.map(\.category)
        #expect(
            categories
                == categories.sorted {
                    Finding.Category.allCases.firstIndex(of: $0)! < Finding.Category.allCases.firstIndex(of: $1)!
                })
    }

    @Test func jsonCarriesCountsAndFindings() throws {
        let json = try Fixtures.check("different-vrid").json()
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        #expect(object["errors"] as? Int == 1)
        #expect(object["warnings"] as? Int == 0)
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        #expect(findings.first?["node"] as? String == "lb02")
        #expect(findings.first?["severity"] as? String == "error")
        let location = try #require(findings.first?["location"] as? [String: Any])
        #expect(location["line"] as? Int == 12)
        #expect((location["file"] as? String)?.hasSuffix("different-vrid/lb02/keepalived.conf") == true)
    }

    @Test func nodeAddressParsing() {
        #expect(NodeAddress("192.168.10.11/24") == NodeAddress(address: .init(192, 168, 10, 11), prefixLength: 24))
        #expect(NodeAddress("192.168.10.11") == NodeAddress(address: .init(192, 168, 10, 11)))
        #expect(NodeAddress("192.168.10.11/33") == nil)
        #expect(NodeAddress("lb01") == nil)
    }

    @Test func balancerTextLocatesInheritedKeywordsAndMarkers() {
        let text = BalancerText(
            file: "h.cfg",
            text:
                "defaults\n    timeout server 30s\n\nbackend b\n    balance roundrobin\n"
                + "    server a 1.2.3.4:80 # portico: intended\n"
        )
        #expect(text.line(of: ["balance"], proxyHeader: 4) == FileLine(file: "h.cfg", line: 5))
        #expect(text.line(of: ["timeout", "server"], proxyHeader: 4) == FileLine(file: "h.cfg", line: 2))
        #expect(text.line(of: ["retries"], proxyHeader: 4) == FileLine(file: "h.cfg", line: 4))
        #expect(text.isMarkedIntended(FileLine(file: "h.cfg", line: 6)))
        #expect(!text.isMarkedIntended(FileLine(file: "h.cfg", line: 5)))
    }
}
