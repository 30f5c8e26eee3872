import Foundation
import Testing

@testable import Lab

@Suite struct SubprocessTests {
    @Test func outputAndStatusAreCaptured() throws {
        let result = try Subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.output == "out\n")
        #expect(result.errorOutput == "err\n")
    }

    @Test func aCommandThatHangsIsKilledAtItsTimeout() {
        let started = Monotonic.now()
        #expect(throws: LabError.commandTimedOut(command: "sleep 5", seconds: 0.3)) {
            try Subprocess.run(["sleep", "5"], timeout: 0.3)
        }
        #expect(Monotonic.now() - started < 2)
    }

    @Test func aCommandThatClosesItsOutputAndLingersIsKilledToo() {
        let started = Monotonic.now()
        #expect(throws: LabError.self) {
            try Subprocess.run(["sh", "-c", "exec >&- 2>&-; sleep 5"], timeout: 0.3)
        }
        #expect(Monotonic.now() - started < 2)
    }

    @Test func detachedDaemonsReportTheirOwnPid() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("plab-detached-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let pid = try Subprocess.startDetached(["sleep", "3"], logPath: log)
        defer { kill(pid, SIGKILL) }
        #expect(ProcessTable.isAlive(pid))
        // `setsid` execs in place: the pid becomes the daemon's a moment later.
        let execDeadline = Monotonic.now() + 2
        while ProcessTable.commandLine(pid) != "sleep 3" && Monotonic.now() < execDeadline { Monotonic.sleep(0.01) }
        #expect(ProcessTable.commandLine(pid) == "sleep 3")
        kill(pid, SIGKILL)
        let deadline = Monotonic.now() + 2
        while ProcessTable.isAlive(pid) && Monotonic.now() < deadline { Monotonic.sleep(0.02) }
        #expect(!ProcessTable.isAlive(pid))
    }
}
