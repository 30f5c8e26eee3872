/// `stats auth USER:PASS` checking for the stats page: HTTP Basic (RFC 7617).
///
/// Every configured credential is compared in full, with a compare whose time does not depend on where
/// the first differing byte is, so response time tells an attacker nothing about how close a guess was.
public struct StatsAuthorization: Sendable, Equatable {
    public struct Credential: Sendable, Equatable {
        public var user: String
        public var password: String

        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    public enum Verdict: Sendable, Equatable {
        /// No credential is configured, or the client gave a valid one.
        case allowed(user: String?)
        /// Answer 401 with `WWW-Authenticate: Basic realm="..."`.
        case challenge
    }

    public var credentials: [Credential]
    public var realm: String

    public init(credentials: [Credential], realm: String) {
        self.credentials = credentials
        self.realm = realm
    }

    /// The `WWW-Authenticate` value HAProxy sends: `Basic realm="HAProxy Statistics"`.
    public var challengeHeader: String {
        var escaped = ""
        for character in realm {
            if character == "\"" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "Basic realm=\"\(escaped)\""
    }

    /// - Parameter authorization: the request's `Authorization` header value, if any.
    public func check(authorization: String?) -> Verdict {
        guard !credentials.isEmpty else { return .allowed(user: nil) }
        guard let authorization else { return .challenge }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Base64.decode(parts[1].trimmingSpaces()),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return .challenge }
        let user = Array(decoded[..<colon])
        let password = Array(decoded[decoded.index(after: colon)...])
        var matched: String? = nil
        // No early exit: every credential costs the same whether or not an earlier one matched.
        for credential in credentials {
            let userMatches = Self.constantTimeEqual(user, Array(credential.user.utf8))
            let passwordMatches = Self.constantTimeEqual(password, Array(credential.password.utf8))
            if userMatches && passwordMatches && matched == nil { matched = credential.user }
        }
        return matched.map { .allowed(user: $0) } ?? .challenge
    }

    /// Equal length and bytes; the time depends only on the lengths, never on the contents.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        difference |= UInt8(lhs.count != rhs.count ? 1 : 0)
        let length = max(lhs.count, rhs.count)
        for index in 0..<length {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }
}

/// Standard base64 (RFC 4648 §4) decoding, padding optional; nil on any other character.
public enum Base64 {
    public static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard padding <= 2, bits < 6 else { return nil }
        return output
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value =
                (UInt32(chunk[0]) << 16) | (UInt32(chunk.count > 1 ? chunk[1] : 0) << 8)
                | UInt32(chunk.count > 2 ? chunk[2] : 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(chunk.count > 1 ? alphabet[Int(value >> 6 & 63)] : "=")
            out.append(chunk.count > 2 ? alphabet[Int(value & 63)] : "=")
            index += 3
        }
        return out
    }
}
