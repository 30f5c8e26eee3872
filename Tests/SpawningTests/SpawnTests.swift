import Foundation
import Glibc
import Spawning
import Testing

@Suite("Spawning: children inherit nothing, outputs and statuses are reported")
struct SpawnTests {
    /// A listening socket that is not close-on-exec (as SwiftNIO's are not), moved to a high number.
    func openInheritableSocket(at number: Int32) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(bound == 0 && listen(fd, 1) == 0)
        try #require(dup2(fd, number) == number)
        close(fd)
        return number
    }

    @Test("a descriptor the parent left open (not close-on-exec) is closed in the child")
    func nothingInherited() throws {
        let socket = try openInheritableSocket(at: 201)
        defer { close(socket) }
        let probe = "if [ -e /proc/$$/fd/201 ]; then echo inherited; else echo closed; fi"
        let result = try SpawnedProcess.run(["/bin/sh", "-c", probe])
        #expect(result.status == 0)
        #expect(result.output == "closed\n")
        // The parent's own copy is untouched.
        #expect(fcntl(socket, F_GETFD) >= 0)
    }

    @Test("standard output and error are captured together; the exit code is reported")
    func captureAndStatus() throws {
        let result = try SpawnedProcess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.output.contains("out\n") && result.output.contains("err\n"))
    }

    @Test("a command past its timeout is killed: status 128+SIGKILL, well before it would have ended")
    func timeoutKills() throws {
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let result = try SpawnedProcess.run(["/bin/sleep", "30"], timeout: 0.3)
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        #expect(result.status == 128 + SIGKILL)
        #expect(end.tv_sec - start.tv_sec < 20)
    }

    @Test("a program that does not exist is an error naming it, not a crash")
    func missingProgram() {
        #expect {
            _ = try SpawnedProcess(["/nonexistent/portico-test-program"])
        } throws: { error in
            guard let failure = error as? Spawn.Failure else { return false }
            return failure.errno == ENOENT && failure.description.contains("/nonexistent/portico-test-program")
        }
    }

    @Test("a long-running child: running, then signalled, reaped with 128+signal; files receive its output")
    func longRunning() throws {
        let path = "/tmp/portico-spawn-test-\(getpid()).log"
        defer { unlink(path) }
        let child = try SpawnedProcess(["/bin/sh", "-c", "echo started; exec sleep 30"], output: .file(path))
        #expect(child.isRunning)
        var started = false
        for _ in 0..<500 where !started {
            started = (try? String(contentsOfFile: path, encoding: .utf8)) == "started\n"
            if !started { usleep(10_000) }
        }
        #expect(started)
        child.signal(SIGTERM)
        #expect(child.wait(seconds: 10) == 128 + SIGTERM)
        #expect(!child.isRunning)
    }

    @Test("signals the parent ignores are back to their defaults in the child")
    func signalsReset() throws {
        let previous = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, previous) }
        let child = try SpawnedProcess(["/bin/sleep", "30"])
        child.signal(SIGTERM)
        #expect(child.wait(seconds: 10) == 128 + SIGTERM)
    }
}
