import Testing

@testable import HAProxyConfig

/// `global` followed by `lines`, one per config line (line 2 is the first of them).
private func globalSection(_ lines: [String]) -> String {
    (["global"] + lines.map { "    " + $0 }).joined(separator: "\n") + "\n"
}

@Suite("global cpu-map")
struct CPUMapTests {
    /// Valid forms, each checked against `haproxy -c` 2.6.12, and the threads -> CPUs they resolve to.
    static let valid: [(lines: [String], expected: [Int: Set<Int>])] = [
        (["nbthread 2", "cpu-map 1/all 0-1"], [1: [0, 1], 2: [0, 1]]),
        (["nbthread 2", "cpu-map auto:1/1-2 0-1"], [1: [0], 2: [1]]),
        (["nbthread 2", "cpu-map 1/1 0", "cpu-map 1/2 1"], [1: [0], 2: [1]]),
        // A lone group number is the whole group: "1" is "1/all".
        (["nbthread 2", "cpu-map all 1"], [1: [1], 2: [1]]),
        (["nbthread 2", "cpu-map 1 0-1"], [1: [0, 1], 2: [0, 1]]),
        // auto: hands out the CPUs from the lowest, whatever the order they are written in.
        (["nbthread 2", "cpu-map auto:1/1-2 1 0"], [1: [0], 2: [1]]),
        (["nbthread 4", "cpu-map auto:1/1-4 3 2 1 0"], [1: [0], 2: [1], 3: [2], 4: [3]]),
        (["nbthread 4", "cpu-map auto:1/even 0-31"], [2: [0], 4: [1]]),
        (["nbthread 3", "cpu-map 1/odd 1"], [1: [1], 3: [1]]),
        // A later line replaces an earlier one for the threads both name.
        (["nbthread 2", "cpu-map 1/all 0", "cpu-map 1/2 1"], [1: [0], 2: [1]]),
        // Several CPU words are one set; a range written backwards is swapped, as HAProxy does.
        (["cpu-map 1/1 0 2-3 1-0"], [1: [0, 1, 2, 3]]),
        (["cpu-map 01/01 00"], [1: [0]]),
        // auto: over a group range binds threads of group 1 only (the thread count matches the CPU count).
        (["nbthread 2", "cpu-map auto:1-2/1-2 0-1"], [1: [0], 2: [1]]),
        // Reversed thread range.
        (["cpu-map 1/2-1 1"], [1: [1], 2: [1]]),
        // CPU numbers HAProxy accepts even if this machine lacks them (the balancer logs it when pinning).
        (["cpu-map 1/1 1023"], [1: [1023]]),
    ]

    @Test("valid cpu-map lines resolve to a per-thread CPU set, without diagnostics", arguments: valid.indices)
    func validForms(_ index: Int) {
        let (lines, expected) = Self.valid[index]
        let result = BalancerConfig.parse(globalSection(lines), fileName: "t.cfg")
        #expect(result.diagnostics.map(\.description) == [], "\(lines)")
        #expect(result.config.global.cpuMap.threads == expected, "\(lines)")
    }

    @Test("open ranges: '1/1-' is threads 1-64, CPU '0-' is CPUs 0-63 (HAProxy's word size)")
    func openRanges() {
        let map = BalancerConfig.parse(globalSection(["cpu-map 1/1- 0-"]), fileName: "t.cfg").config.global.cpuMap
        #expect(map.threads.count == 64)
        #expect(map.threads[64] == Set(0...63))
        #expect(map.cpus(forLoop: 0) == Set(0...63))
    }

    @Test("loop i is thread i + 1; the line that set it is kept for logs")
    func loopsAndSources() {
        let map = BalancerConfig.parse(
            globalSection(["nbthread 2", "cpu-map 1/1 0", "cpu-map 1/2 1"]), fileName: "t.cfg"
        ).config.global.cpuMap
        #expect(map.cpus(forLoop: 0) == [0])
        #expect(map.cpus(forLoop: 1) == [1])
        #expect(map.cpus(forLoop: 2) == nil)
        #expect(map.sources[2] == SourceLocation(file: "t.cfg", line: 4))
    }

    /// Lines `haproxy -c` 2.6.12 refuses, with Portico's message (HAProxy's wording in Portico's format).
    static let invalid: [(line: String, message: String)] = [
        ("cpu-map", CPUMapParser.usage),
        ("cpu-map 1/1", CPUMapParser.usage),
        ("cpu-map 1/1 ''", CPUMapParser.usage),
        ("cpu-map x 0", "'cpu-map' : 'x' is not a valid number/range."),
        ("cpu-map 1/x 0", "'cpu-map' : 'x' is not a valid number/range."),
        ("cpu-map 1/1x 0", "'cpu-map' : '1x' is not a valid number/range."),
        ("cpu-map 1/+1 0", "'cpu-map' : '+1' is not a valid number/range."),
        ("cpu-map 1/1/1 0", "'cpu-map' : '1/1' is not a valid number/range."),
        ("cpu-map auto 0", "'cpu-map' : 'auto' is not a valid number/range."),
        ("cpu-map AUTO:1/1 0", "'cpu-map' : 'AUTO:1' is not a valid number/range."),
        ("cpu-map 1/65 0", "'cpu-map' : '65' is not a valid number/range. It supports numbers from 1 to 64."),
        ("cpu-map 0 0", "'cpu-map' : '0' is not a valid number/range. It supports numbers from 1 to 64."),
        ("cpu-map 1/0 0", "'cpu-map' : '0' is not a valid number/range. It supports numbers from 1 to 64."),
        ("cpu-map 1/1-0 0", "'cpu-map' : '1-0' is not a valid number/range. It supports numbers from 1 to 64."),
        ("cpu-map 1/-2 0", "'cpu-map' : '-2' is not a valid number/range. It supports numbers from 1 to 64."),
        ("cpu-map 1/ 0", "'cpu-map' : '' is not a valid number/range. It supports numbers from 1 to 64."),
        ("cpu-map 1/1 a", "'cpu-map' : 'a' is not a CPU range."),
        ("cpu-map 1/1 -1", "'cpu-map' : '-1' is not a CPU range."),
        ("cpu-map 1/1 0 junk", "'cpu-map' : 'junk' is not a CPU range."),
        ("cpu-map 1/1 1024", "'cpu-map' : supports CPU numbers from 0 to 1023 (got '1024')."),
        ("cpu-map 1/1 0-1024", "'cpu-map' : supports CPU numbers from 0 to 1023 (got '0-1024')."),
        (
            "cpu-map auto:1/1 0-3",
            "'cpu-map' : PROC/THREAD range and CPU sets must have the same size to be automatically bound "
                + "(1 thread, 4 CPUs)."
        ),
        (
            "cpu-map auto:1/all 0-1",
            "'cpu-map' : PROC/THREAD range and CPU sets must have the same size to be automatically bound "
                + "(64 threads, 2 CPUs)."
        ),
        (
            "cpu-map auto:1-2 0",
            "'cpu-map' : PROC/THREAD range and CPU sets must have the same size to be automatically bound "
                + "(64 threads, 1 CPU)."
        ),
    ]

    @Test("invalid cpu-map lines: one alert naming file and line, nothing resolved", arguments: invalid.indices)
    func invalidLines(_ index: Int) {
        let (line, message) = Self.invalid[index]
        let result = BalancerConfig.parse(globalSection(["nbthread 2", line]), fileName: "t.cfg")
        #expect(result.diagnostics.map(\.description) == ["[ALERT] parsing [t.cfg:3] : \(message)"], "\(line)")
        #expect(result.config.global.cpuMap.threads.isEmpty)
    }

    @Test("every bad cpu-map line of a file is reported in one run")
    func allErrorsAtOnce() {
        let text = globalSection(["cpu-map 1/65 0", "nbthread 2", "cpu-map 1/1 a", "cpu-map 1/1 0"])
        let lines = report(text, quiet: false)
        #expect(
            lines == [
                "[ALERT] parsing [t.cfg:2] : 'cpu-map' : '65' is not a valid number/range. It supports numbers from 1 "
                    + "to 64.",
                "[ALERT] parsing [t.cfg:4] : 'cpu-map' : 'a' is not a CPU range.",
            ])
    }

    /// Lines HAProxy 2.6 accepts silently but that do something an operator would not expect: accepted, with
    /// a warning that says what happens.
    static let surprising: [(lines: [String], warning: String, expected: [Int: Set<Int>])] = [
        (
            ["nbthread 2", "cpu-map 2 0-1"],
            "[WARNING] parsing [t.cfg:3] : 'cpu-map' : thread group 2 does not exist: Portico runs a single thread "
                + "group, like HAProxy 2.6 without 'thread-groups' (which ignores this line silently); this line pins "
                + "nothing.",
            [:]
        ),
        (
            ["nbthread 2", "cpu-map 1/3-4 0"],
            "[WARNING] parsing [t.cfg:3] : 'cpu-map' : threads 3-4 do not exist with 'nbthread 2'; this line pins "
                + "nothing (HAProxy ignores it silently).",
            [:]
        ),
        (
            ["cpu-map 1/3 0", "nbthread 2"],
            "[WARNING] parsing [t.cfg:2] : 'cpu-map' : thread 3 does not exist with 'nbthread 2'; this line pins "
                + "nothing (HAProxy ignores it silently).",
            [:]
        ),
        (
            ["nbthread 2", "cpu-map 1/1 0,1"],
            "[WARNING] parsing [t.cfg:3] : 'cpu-map' : '0,1' is read as CPU 0, as HAProxy does (it ignores what "
                + "follows a number); write several CPUs as separate words or as a range, e.g. '0 1' or '0-1'.",
            [1: [0]]
        ),
        (
            ["nbthread 2", "cpu-map 1/1 0-1-2"],
            "[WARNING] parsing [t.cfg:3] : 'cpu-map' : '0-1-2' is read as CPUs 0-1, as HAProxy does (it ignores what "
                + "follows a number); write several CPUs as separate words or as a range, e.g. '0 1' or '0-1'.",
            [1: [0, 1]]
        ),
        // HAProxy accepts these auto: lines because the thread group count (1) equals the CPU count.
        (
            ["nbthread 4", "cpu-map auto:1/1-4 0"],
            "[WARNING] parsing [t.cfg:3] : 'cpu-map' : 'auto:1/1-4' pairs 4 threads with 1 CPU: threads 2-4 stay "
                + "unpinned (HAProxy 2.6 accepts this because the thread group count matches the CPU count).",
            [1: [0]]
        ),
        (
            ["nbthread 2", "cpu-map auto:1/1-2 0 0"],
            "[WARNING] parsing [t.cfg:3] : 'cpu-map' : 'auto:1/1-2' pairs 2 threads with 1 CPU: thread 2 stays "
                + "unpinned (HAProxy 2.6 accepts this because the thread group count matches the CPU count).",
            [1: [0]]
        ),
        (
            ["nbthread 1", "cpu-map auto:1-2/1 0-1"],
            "[WARNING] parsing [t.cfg:3] : 'cpu-map' : 'auto:1-2/1' pairs 1 thread with 2 CPUs: CPU 1 is not used "
                + "(HAProxy 2.6 accepts this because the thread group count matches the CPU count).",
            [1: [0]]
        ),
    ]

    @Test("what HAProxy does silently is done and said", arguments: surprising.indices)
    func surprisingLines(_ index: Int) {
        let (lines, warning, expected) = Self.surprising[index]
        let result = BalancerConfig.parse(globalSection(lines), fileName: "t.cfg")
        #expect(result.diagnostics.map(\.description) == [warning], "\(lines)")
        #expect(!result.hasAlerts)
        #expect(result.config.global.cpuMap.threads == expected, "\(lines)")
    }

    @Test("an auto: line whose extra threads do not exist with nbthread needs no warning")
    func autoWithinThreadCount() {
        let result = BalancerConfig.parse(globalSection(["nbthread 1", "cpu-map auto:1/1-4 0"]), fileName: "t.cfg")
        #expect(result.diagnostics.isEmpty)
        #expect(result.config.global.cpuMap.threads == [1: [0]])
    }

    @Test("a later auto: line that runs out of CPUs clears an earlier mapping, as HAProxy does")
    func autoClears() {
        let result = BalancerConfig.parse(
            globalSection(["nbthread 1", "cpu-map 1/2 1", "cpu-map auto:1/1-2 0"]), fileName: "t.cfg")
        #expect(result.config.global.cpuMap.threads == [1: [0]])
    }

    @Test("CPU lists are printed as /proc's Cpus_allowed_list does")
    func describe() {
        #expect(CPUMap.describe([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8")
        #expect(CPUMap.describe([3]) == "3")
        #expect(CPUMap.describe([]) == "")
    }
}
