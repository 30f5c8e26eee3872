// Provisional: the keyword tables land in the next commit; the public API above is final.
struct ConfigParser {
    let source: ConfigSource
    let mainFile: String

    init(source: ConfigSource, mainFile: String) {
        self.source = source
        self.mainFile = mainFile
    }

    mutating func run(text: String?) -> ParseResult {
        ParseResult(
            config: VRRPConfig(file: mainFile),
            diagnostics: [.error(nil, "keepalived.conf parser not implemented yet")]
        )
    }
}
