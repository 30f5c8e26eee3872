/// The file-system path a request target names, after the decoding and merging nginx does
/// (`ngx_http_parse_complex_uri`): percent-decoding first (so `%2f` is a separator and `%2e%2e` is `..`),
/// then `.`/`..`/empty segments merged. Pure: no file system access.
struct RequestTarget: Equatable {
    /// Decoded segments below the root, none of them empty, `.` or `..`.
    var segments: [String]
    /// The target names a directory (ends with `/`, `/.` or `/..`): it is answered with its `index.html`.
    var isDirectory: Bool
    /// The raw query, without `?`, kept for redirects.
    var query: Substring?

    /// Why a target is refused; the status mirrors what nginx answers for the same target.
    enum Rejection: Error, Equatable {
        /// Not an origin-form or absolute-form target, bad `%` escape, decoded NUL, or `..` above the root: 400.
        case badRequest
        /// A name nginx would look up and not find on a POSIX file system (a backslash): 404.
        case notFound
    }

    /// Decoded path with a leading `/`, e.g. `/sub/index.html` or `/sub/`.
    var path: String {
        var text = "/" + segments.joined(separator: "/")
        if isDirectory && !segments.isEmpty { text += "/" }
        return text
    }

    static func parse(_ uri: String) throws(Rejection) -> RequestTarget {
        var bytes = Substring(uri).utf8[...]
        if !bytes.starts(with: "/".utf8) {
            bytes = try stripSchemeAndAuthority(bytes)
        }
        var query: Substring?
        if let mark = bytes.firstIndex(of: UInt8(ascii: "?")) {
            query = Substring(bytes[bytes.index(after: mark)...])
            bytes = bytes[..<mark]
        }
        let decoded = try percentDecoded(bytes)

        var segments: [String] = []
        var isDirectory = false
        for raw in decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
            isDirectory = raw.isEmpty
            if raw.isEmpty || raw.elementsEqual(".".utf8) {
                isDirectory = true
                continue
            }
            if raw.elementsEqual("..".utf8) {
                // nginx answers 400 when `..` climbs above the root rather than clamping to it.
                guard segments.popLast() != nil else { throw .badRequest }
                isDirectory = true
                continue
            }
            if raw.contains(UInt8(ascii: "\\")) { throw .notFound }
            guard let segment = String(validating: raw, as: UTF8.self) else { throw .notFound }
            segments.append(segment)
        }
        return RequestTarget(segments: segments, isDirectory: isDirectory, query: query)
    }

    /// Absolute-form targets (`http://host/path`, RFC 9112 §3.2.2) are served by their path.
    private static func stripSchemeAndAuthority(
        _ bytes: Substring.UTF8View.SubSequence
    ) throws(Rejection) -> Substring.UTF8View.SubSequence {
        let text = Substring(bytes).lowercased()
        let schemeLength: Int
        if text.hasPrefix("http://") {
            schemeLength = 7
        } else if text.hasPrefix("https://") {
            schemeLength = 8
        } else {
            throw .badRequest
        }
        let afterScheme = bytes.dropFirst(schemeLength)
        guard let slash = afterScheme.firstIndex(of: UInt8(ascii: "/")) else { return "/".utf8[...] }
        return afterScheme[slash...]
    }

    private static func percentDecoded(_ bytes: Substring.UTF8View.SubSequence) throws(Rejection) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            var byte = bytes[index]
            index = bytes.index(after: index)
            if byte == UInt8(ascii: "%") {
                guard index != bytes.endIndex, let high = hexValue(bytes[index]) else { throw .badRequest }
                index = bytes.index(after: index)
                guard index != bytes.endIndex, let low = hexValue(bytes[index]) else { throw .badRequest }
                index = bytes.index(after: index)
                byte = high << 4 | low
            }
            if byte == 0 { throw .badRequest }
            out.append(byte)
        }
        return out
    }

    /// Percent-encodes what may not appear raw in a URI path (RFC 3986 §3.3), for the `Location` header: a
    /// decoded name can hold spaces, CR or LF, which must never reach a response header as they are.
    /// `keepingPercent` leaves `%` alone for text that is still encoded (a raw query).
    static func percentEncoded(_ text: some StringProtocol, keepingPercent: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(byte)
            case _ where "-._~/!$&'()*+,;=:@?".utf8.contains(byte):
                out.append(byte)
            case UInt8(ascii: "%") where keepingPercent:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
