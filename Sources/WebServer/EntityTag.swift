/// Validators in nginx's shape and the conditional-request rules of RFC 9110 §13.
enum EntityTag {
    /// nginx's strong ETag: `"<hex mtime>-<hex size>"`.
    static func make(modified: Int, size: Int) -> String {
        "\"\(String(modified, radix: 16))-\(String(size, radix: 16))\""
    }

    /// `If-None-Match` uses weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`; `*` matches any.
    static func noneMatchHits(_ header: some StringProtocol, etag: String) -> Bool {
        let wanted = opaque(etag)
        for candidate in header.split(separator: ",") {
            let tag = candidate.trimmingSpaces
            if tag == "*" || opaque(tag) == wanted { return true }
        }
        return false
    }

    /// `If-Match` uses strong comparison (RFC 9110 §13.1.1): weak tags never match.
    static func matchHits(_ header: some StringProtocol, etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            let tag = candidate.trimmingSpaces
            if tag == "*" || tag == etag { return true }
        }
        return false
    }

    private static func opaque(_ tag: some StringProtocol) -> Substring {
        let text = Substring(tag)
        return text.hasPrefix("W/") ? text.dropFirst(2) : text
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        let text = Substring(self)
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = text.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return text[first...last]
    }
}
