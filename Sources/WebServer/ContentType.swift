/// Content-Type by file extension, as nginx's `mime.types` with `default_type application/octet-stream`.
/// nginx matches extensions case-insensitively and adds no charset.
enum ContentType {
    static let fallback = "application/octet-stream"

    private static let byExtension: [String: String] = [
        "html": "text/html", "htm": "text/html", "shtml": "text/html",
        "css": "text/css",
        "js": "application/javascript", "mjs": "application/javascript",
        "json": "application/json",
        "txt": "text/plain",
        "xml": "text/xml",
        "png": "image/png",
        "jpg": "image/jpeg", "jpeg": "image/jpeg",
        "gif": "image/gif",
        "svg": "image/svg+xml", "svgz": "image/svg+xml",
        "ico": "image/x-icon",
        "webp": "image/webp",
        "woff": "font/woff", "woff2": "font/woff2",
        "pdf": "application/pdf",
        "wasm": "application/wasm",
        "mp4": "video/mp4",
    ]

    /// The type for a file name: the text after its last `.`, if that dot is not the name's first character.
    static func forFileName(_ name: some StringProtocol) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return fallback }
        let ext = name[name.index(after: dot)...].lowercased()
        return byExtension[ext] ?? fallback
    }
}
