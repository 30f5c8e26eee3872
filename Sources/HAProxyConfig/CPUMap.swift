/// `cpu-map [auto:]<thread-group>[/<thread-set>] <cpu-set>...` lines of the `global` section, resolved to the CPUs
/// each thread may run on. HAProxy thread N is Portico's event loop N - 1.
///
/// Semantics follow HAProxy 2.6 (configuration manual, section 3.1, checked against `haproxy -c` 2.6.12):
/// a later line replaces an earlier one for the threads both name; thread group numbers other than 1 and threads
/// above `nbthread` are ignored; `auto:` hands out the CPUs one per thread from the lowest up.
public struct CPUMap: Sendable, Equatable {
    /// Thread number (1-based) -> the CPUs it may run on. A thread without an entry is not pinned.
    public private(set) var threads: [Int: Set<Int>] = [:]
    /// The line that last set each thread's CPUs, for logs.
    public private(set) var sources: [Int: SourceLocation] = [:]
    /// Accepted lines in file order, for the checks that need `nbthread` (which may come later in the section).
    private(set) var rules: [CPUMapRule] = []

    public init() {}

    public var isEmpty: Bool { rules.isEmpty }

    /// The CPUs event loop `loop` (0-based) is pinned to, or nil when no line applies to it.
    public func cpus(forLoop loop: Int) -> Set<Int>? { threads[loop + 1] }

    /// The highest thread / thread group number HAProxy accepts (its word size).
    static let maxThread = 64
    /// The highest CPU number HAProxy 2.6 accepts on Linux (a 1024-bit cpu_set_t).
    static let maxCPU = 1023
    /// What an open CPU range (`0-`) ends at: HAProxy's word size minus one.
    static let openCPURangeEnd = 63

    mutating func apply(_ rule: CPUMapRule) {
        rules.append(rule)
        guard rule.groups.contains(1) else { return }
        for (thread, cpus) in rule.assignment() {
            if cpus.isEmpty {
                // HAProxy clears the thread's mapping (an auto: line ran out of CPUs): it is not pinned.
                threads[thread] = nil
                sources[thread] = nil
            } else {
                threads[thread] = cpus
                sources[thread] = rule.location
            }
        }
    }

    /// Threads above `nbthread` do not exist: HAProxy ignores their mapping.
    mutating func dropThreads(above count: Int) {
        threads = threads.filter { $0.key <= count }
        sources = sources.filter { $0.key <= count }
    }

    /// `0-3,6`: the notation of /proc's Cpus_allowed_list and of taskset.
    public static func describe(_ numbers: some Sequence<Int>) -> String {
        var ranges: [ClosedRange<Int>] = []
        for number in Set(numbers).sorted() {
            if let last = ranges.last, last.upperBound + 1 == number {
                ranges[ranges.count - 1] = last.lowerBound...number
            } else {
                ranges.append(number...number)
            }
        }
        return ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }

    /// Warnings that need the final `nbthread` (nil: one thread per CPU, unknown until run time).
    func diagnostics(threadCount: Int?) -> [Diagnostic] {
        var items: [Diagnostic] = []
        for rule in rules where rule.groups.contains(1) {
            let exists = { (thread: Int) in threadCount.map { thread <= $0 } ?? true }
            if let count = threadCount, rule.threadsWritten, !rule.threads.contains(where: exists) {
                let noun = rule.threads.count == 1 ? "thread" : "threads"
                items.append(
                    .warning(
                        "'cpu-map' : \(noun) \(CPUMap.describe(rule.threads)) do\(rule.threads.count == 1 ? "es" : "")"
                            + " not exist with 'nbthread \(count)'; this line pins nothing (HAProxy ignores it "
                            + "silently).", at: rule.location))
                continue
            }
            guard rule.isAuto, rule.threads.count != rule.cpus.count else { continue }
            // HAProxy 2.6 accepts an auto: line whose thread count differs from its CPU count as long as the
            // thread group count matches; threads past the last CPU are then left unpinned. Say so.
            let assignment = rule.assignment().filter { exists($0.thread) }
            let unpinned = assignment.filter { $0.cpus.isEmpty }.map(\.thread)
            let used = Set(assignment.flatMap(\.cpus))
            let unused = rule.cpus.filter { !used.contains($0) }
            var parts: [String] = []
            if !unpinned.isEmpty {
                let verb = unpinned.count == 1 ? "stays" : "stay"
                parts.append("\(noun("thread", unpinned.count)) \(CPUMap.describe(unpinned)) \(verb) unpinned")
            }
            if !unused.isEmpty, threadCount != nil {
                let verb = unused.count == 1 ? "is" : "are"
                parts.append("\(noun("CPU", unused.count)) \(CPUMap.describe(unused)) \(verb) not used")
            }
            guard !parts.isEmpty else { continue }
            items.append(
                .warning(
                    "'cpu-map' : '\(rule.target)' pairs \(rule.threads.count) \(noun("thread", rule.threads.count))"
                        + " with \(rule.cpus.count) \(noun("CPU", rule.cpus.count)): "
                        + parts.joined(separator: " and ")
                        + " (HAProxy 2.6 accepts this because the thread group count matches the CPU count).",
                    at: rule.location))
        }
        return items
    }
}

/// One accepted `cpu-map` line.
struct CPUMapRule: Sendable, Equatable {
    var isAuto: Bool
    /// Thread group numbers (HAProxy 2.6; "process" in older versions). Only group 1 exists in Portico.
    var groups: Set<Int>
    /// Thread numbers in ascending order; all 64 when the line gives no `/<thread-set>`.
    var threads: [Int]
    /// Whether the thread set was written as numbers (not `all`, `odd`, `even`, an open range or left out).
    var threadsWritten: Bool
    /// CPU numbers in ascending order.
    var cpus: [Int]
    /// The first argument as written, e.g. `auto:1/1-4`.
    var target: String
    var location: SourceLocation

    /// Thread -> CPUs, in thread order; an empty set means HAProxy clears that thread's mapping.
    func assignment() -> [(thread: Int, cpus: Set<Int>)] {
        guard isAuto else { return threads.map { ($0, Set(cpus)) } }
        return threads.enumerated().map { index, thread in
            (thread, index < cpus.count ? [cpus[index]] : [])
        }
    }
}

/// Parses the arguments of one `cpu-map` line, with HAProxy 2.6's accept/reject decisions and messages.
enum CPUMapParser {
    static let usage =
        "'cpu-map' expects a thread group number ('all', 'odd', 'even', a number from 1 to \(CPUMap.maxThread) or "
        + "a range), optionally followed by '/' and a thread set of the same form, then a list of CPU ranges with "
        + "numbers from 0 to \(CPUMap.maxCPU)."

    static func parse(_ line: ConfigLine, _ sink: inout DiagnosticSink) -> CPUMapRule? {
        guard let target = line.word(1), line.words.count >= 3, !line.words[2].isEmpty else {
            sink.alert(usage, line)
            return nil
        }
        var rest = Substring(target)
        let isAuto = rest.hasPrefix("auto:")
        if isAuto { rest = rest.dropFirst("auto:".count) }
        let groupText: Substring
        let threadText: Substring?
        if let slash = rest.firstIndex(of: "/") {
            groupText = rest[..<slash]
            threadText = rest[rest.index(after: slash)...]
        } else {
            groupText = rest
            threadText = nil
        }
        let groups: [Int]
        switch numberSet(groupText) {
        case .success(let numbers): groups = numbers
        case .failure(let message):
            sink.alert("'cpu-map' : \(message)", line)
            return nil
        }
        var threads = Array(1...CPUMap.maxThread)
        var threadsWritten = false
        if let threadText {
            switch numberSet(threadText) {
            case .success(let numbers): threads = numbers
            case .failure(let message):
                sink.alert("'cpu-map' : \(message)", line)
                return nil
            }
            threadsWritten = !["all", "odd", "even"].contains(threadText) && !threadText.hasSuffix("-")
        }
        var cpus = Set<Int>()
        for word in line.words[2...] {
            switch cpuRange(word) {
            case .failure(let message):
                sink.alert("'cpu-map' : \(message)", line)
                return nil
            case .success(let range):
                cpus.formUnion(range.cpus)
                if range.ignoredSuffix {
                    sink.warning(
                        "'cpu-map' : '\(word)' is read as \(noun("CPU", range.cpus.count)) "
                            + "\(CPUMap.describe(range.cpus)), as HAProxy does (it ignores what follows a number); "
                            + "write several CPUs as separate words or as a range, e.g. '0 1' or '0-1'.", line)
                }
            }
        }
        if isAuto, groups.count != cpus.count, threads.count != cpus.count {
            sink.alert(
                "'cpu-map' : PROC/THREAD range and CPU sets must have the same size to be automatically bound "
                    + "(\(threads.count) \(noun("thread", threads.count)), \(cpus.count) \(noun("CPU", cpus.count))).",
                line)
            return nil
        }
        if !groups.contains(1) {
            sink.warning(
                "'cpu-map' : thread group \(CPUMap.describe(groups)) does not exist: Portico runs a single thread "
                    + "group, like HAProxy 2.6 without 'thread-groups' (which ignores this line silently); "
                    + "this line pins nothing.", line)
        }
        return CPUMapRule(
            isAuto: isAuto, groups: Set(groups), threads: threads, threadsWritten: threadsWritten,
            cpus: cpus.sorted(), target: target, location: line.location)
    }

    /// `all | odd | even | number[-[number]]`, numbers 1 to 64, as HAProxy's parse_process_number.
    static func numberSet(_ text: Substring) -> Result<[Int], Message> {
        let all = Array(1...CPUMap.maxThread)
        switch text {
        case "all": return .success(all)
        case "odd": return .success(all.filter { $0 % 2 == 1 })
        case "even": return .success(all.filter { $0 % 2 == 0 })
        default: break
        }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let isDigits = { (part: Substring) in part.allSatisfy { $0.isASCII && $0.isNumber } }
        guard parts.allSatisfy(isDigits) else { return .failure(Message("'\(text)' is not a valid number/range.")) }
        // An empty low bound reads as 0 (out of range); an empty high bound means up to the maximum.
        let low = parts.first.flatMap { Int($0) } ?? (parts.first?.isEmpty == false ? Int.max : 0)
        let high: Int
        if parts.count == 2 {
            high = parts[1].isEmpty ? CPUMap.maxThread : (Int(parts[1]) ?? Int.max)
        } else {
            high = low
        }
        guard (1...CPUMap.maxThread).contains(low), (1...CPUMap.maxThread).contains(high) else {
            return .failure(
                Message("'\(text)' is not a valid number/range. It supports numbers from 1 to \(CPUMap.maxThread)."))
        }
        return .success(Array(min(low, high)...max(low, high)))
    }

    struct CPURange: Equatable {
        var cpus: [Int]
        /// Characters after the number(s) that HAProxy silently ignores (`0,1` is CPU 0).
        var ignoredSuffix: Bool
    }

    /// `number[-[number]]`, CPUs 0 to 1023, read as HAProxy's parse_cpu_set does: leading digits, then what follows
    /// the first dash; a range written backwards is swapped.
    static func cpuRange(_ word: String) -> Result<CPURange, Message> {
        guard let first = word.first, first.isASCII, first.isNumber else {
            return .failure(Message("'\(word)' is not a CPU range."))
        }
        let lowDigits = word.prefix { $0.isASCII && $0.isNumber }
        var rest = word.dropFirst(lowDigits.count)
        let low = Int(lowDigits) ?? Int.max
        var high = low
        var ignoredSuffix = false
        if rest.first == "-" {
            let afterDash = rest.dropFirst()
            let highDigits = afterDash.prefix { $0.isASCII && $0.isNumber }
            if afterDash.isEmpty {
                high = CPUMap.openCPURangeEnd
            } else {
                high = highDigits.isEmpty ? 0 : (Int(highDigits) ?? Int.max)
            }
            rest = afterDash.dropFirst(highDigits.count)
            ignoredSuffix = !rest.isEmpty
        } else {
            ignoredSuffix = !rest.isEmpty
        }
        guard low <= CPUMap.maxCPU, high <= CPUMap.maxCPU else {
            return .failure(Message("supports CPU numbers from 0 to \(CPUMap.maxCPU) (got '\(word)')."))
        }
        return .success(CPURange(cpus: Array(min(low, high)...max(low, high)), ignoredSuffix: ignoredSuffix))
    }

    struct Message: Error, Equatable, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// `thread` or `threads`.
public func noun(_ word: String, _ count: Int) -> String { count == 1 ? word : word + "s" }
