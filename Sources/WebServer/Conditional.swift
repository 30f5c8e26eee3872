import NIOHTTP1

/// Conditional requests (RFC 9110 §13.2.2), in the RFC's order of precedence.
enum Conditional {
    enum Outcome: Equatable {
        case proceed
        case notModified
        case preconditionFailed
    }

    static func evaluate(_ headers: HTTPHeaders, file: ServedFile) -> Outcome {
        evaluate(
            ifMatch: headers.first(name: "if-match"),
            ifUnmodifiedSince: headers.first(name: "if-unmodified-since"),
            ifNoneMatch: headers.first(name: "if-none-match"),
            ifModifiedSince: headers.first(name: "if-modified-since"),
            etag: file.etag,
            modified: file.modifiedSeconds
        )
    }

    static func evaluate(
        ifMatch: String?, ifUnmodifiedSince: String?, ifNoneMatch: String?, ifModifiedSince: String?,
        etag: String, modified: Int
    ) -> Outcome {
        if let ifMatch {
            if !EntityTag.matchHits(ifMatch, etag: etag) { return .preconditionFailed }
        } else if let ifUnmodifiedSince, let since = HTTPDate.parseIMFFixdate(ifUnmodifiedSince), modified > since {
            return .preconditionFailed
        }
        if let ifNoneMatch {
            return EntityTag.noneMatchHits(ifNoneMatch, etag: etag) ? .notModified : .proceed
        }
        // nginx's default `if_modified_since exact`: only the very date it sent proves the copy is current.
        if let ifModifiedSince, let since = HTTPDate.parseIMFFixdate(ifModifiedSince), since == modified {
            return .notModified
        }
        return .proceed
    }
}
