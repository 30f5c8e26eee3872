import Foundation
import HAProxyConfig
import Testing

/// CPUs this test process may run on, from /proc/self/status (`Cpus_allowed_list: 0-1`).
private let allowedCPUs: [Int] = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))
    .flatMap { status in status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") } }
    .map { line in cpuList(String(line.dropFirst("Cpus_allowed_list:".count))) } ?? []

/// `0-2,5` -> [0, 1, 2, 5].
private func cpuList(_ text: String) -> [Int] {
    text.trimmingCharacters(in: .whitespaces).split(separator: ",").flatMap { part -> [Int] in
        let bounds = part.split(separator: "-").compactMap { Int($0) }
        guard let low = bounds.first else { return [] }
        return Array(low...(bounds.last ?? low))
    }
}

/// The event loop threads of `pid`'s newest group (`NIO-ELT-<group>-#<loop>`), in loop order, with their CPUs.
private func eventLoopThreads(pid: Int32) -> [(name: String, cpus: [Int])] {
    let taskDirectory = "/proc/\(pid)/task"
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: taskDirectory) else { return [] }
    var threads: [(group: Int, loop: Int, name: String, cpus: [Int])] = []
    for task in tasks {
        guard let comm = try? String(contentsOfFile: "\(taskDirectory)/\(task)/comm", encoding: .utf8),
            let status = try? String(contentsOfFile: "\(taskDirectory)/\(task)/status", encoding: .utf8)
        else { continue }
        let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.hasPrefix("NIO-ELT-") else { continue }
        let numbers = name.dropFirst("NIO-ELT-".count).split(separator: "-#").compactMap { Int($0) }
        guard numbers.count == 2,
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { continue }
        threads.append(
            (numbers[0], numbers[1], name, cpuList(String(line.dropFirst("Cpus_allowed_list:".count)))))
    }
    guard let newest = threads.map(\.group).max() else { return [] }
    return threads.filter { $0.group == newest }.sorted { $0.loop < $1.loop }.map { ($0.name, $0.cpus) }
}

private func config(port: Int, serverPort: Int, cpuMap: [String]) -> String {
    """
    global
        nbthread 2
    \(cpuMap.map { "    " + $0 }.joined(separator: "\n"))

    defaults
        mode tcp
        timeout connect 1s
        timeout client 5s
        timeout server 5s

    listen relay
        bind 127.0.0.1:\(port)
        server s1 127.0.0.1:\(serverPort)

    """
}

@Suite(
    "cpu-map pins the event loop threads of a running portico lb", .serialized,
    .enabled(if: PorticoBinary.path != nil, "needs the portico binary (not built in PORTICO_PURE runs)"),
    .enabled(
        if: allowedCPUs.count >= 2,
        Comment(
            rawValue: "needs at least 2 CPUs allowed to this test process to tell pinned threads from unpinned ones "
                + "(allowed: \(allowedCPUs))"))
)
struct CPUMapPinningTests {
    @Test("nbthread 2, one CPU per thread: each NIO-ELT thread is pinned as configured; SIGHUP applies a new map")
    func pinsAndRepinsOnReload() async throws {
        let first = allowedCPUs[0]
        let second = allowedCPUs[1]
        let port = freePort()
        let serverPort = freePort()
        // Thread 1 on the second CPU and thread 2 on the first, so the result cannot be a default order.
        let lb = try LBProcess(
            config: config(
                port: port, serverPort: serverPort, cpuMap: ["cpu-map 1/1 \(second)", "cpu-map 1/2 \(first)"]))
        defer { lb.cleanUp(socket: "") }
        let pid = lb.pid

        let pinned = await eventually(timeout: .seconds(10)) {
            eventLoopThreads(pid: pid).map(\.cpus) == [[second], [first]]
        }
        #expect(pinned, "threads: \(eventLoopThreads(pid: pid)); log: \(lb.log)")
        // The log is read from the process's stderr asynchronously: it may trail /proc a little.
        let summary = "cpu-map: event loop threads pinned (thread->CPUs): 1->\(second) 2->\(first)."
        #expect(await eventually(timeout: .seconds(5)) { lb.log.contains(summary) }, "\(lb.log)")

        // A reload builds a new event loop group: the new map applies to its threads.
        let autoMap = ["cpu-map auto:1/1-2 \(first) \(second)"]
        try lb.rewrite(config(port: port, serverPort: serverPort, cpuMap: autoMap))
        lb.signal(SIGHUP)
        #expect(await eventually(timeout: .seconds(10)) { lb.log.contains("Reload complete") }, "\(lb.log)")
        let repinned = await eventually(timeout: .seconds(10)) {
            eventLoopThreads(pid: pid).map(\.cpus) == [[first], [second]]
        }
        #expect(repinned, "threads: \(eventLoopThreads(pid: pid)); log: \(lb.log)")
    }

    @Test("a CPU outside the mask the process started with (taskset) is used, as HAProxy does, and logged")
    func outsideStartMask() async throws {
        let first = allowedCPUs[0]
        let second = allowedCPUs[1]
        let taskset = "/usr/bin/taskset"
        try #require(FileManager.default.isExecutableFile(atPath: taskset), "taskset (util-linux) is needed")
        let port = freePort()
        let lb = try LBProcess(
            config: config(
                port: port, serverPort: freePort(), cpuMap: ["cpu-map 1/1 \(first)", "cpu-map 1/2 \(second)"]),
            launcher: [taskset, "-c", "\(first)"])
        defer { lb.cleanUp(socket: "") }
        let pid = lb.pid

        let pinned = await eventually(timeout: .seconds(10)) {
            eventLoopThreads(pid: pid).map(\.cpus) == [[first], [second]]
        }
        #expect(pinned, "threads: \(eventLoopThreads(pid: pid)); log: \(lb.log)")
        let warning =
            "cpu-map (\(lb.configPath):4): thread 2 runs on CPU \(second), outside the CPUs the process was "
            + "started on (\(first), e.g. by taskset); cpu-map takes precedence, as in HAProxy."
        #expect(await eventually(timeout: .seconds(5)) { lb.log.contains(warning) }, "\(lb.log)")
    }

    @Test("a CPU this machine does not have: the thread keeps running, the error names the config line")
    func absentCPU() async throws {
        let port = freePort()
        let lb = try LBProcess(
            config: config(port: port, serverPort: freePort(), cpuMap: ["cpu-map 1/2 1023"]))
        defer { lb.cleanUp(socket: "") }
        let pid = lb.pid

        #expect(
            await eventually(timeout: .seconds(10)) {
                lb.log.contains(
                    "cpu-map (\(lb.configPath):3): thread 2 could not be pinned to CPU 1023 (none of them is "
                        + "available to this process: absent, offline or outside its cpuset); it keeps running on CPUs "
                        + "\(CPUMap.describe(allowedCPUs)).")
            }, "\(lb.log)")
        #expect(lb.log.contains("cpu-map: thread 1 has no cpu-map entry; it is not pinned."), "\(lb.log)")
        #expect(eventLoopThreads(pid: pid).map(\.cpus) == [allowedCPUs, allowedCPUs])
        #expect(lb.process.isRunning)
    }
}
