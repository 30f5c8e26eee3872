import Testing

@testable import HAProxyConfig

@Suite struct MaxConnTests {
    @Test func seedMaxConnIsCappedUnderTwentyThousandDescriptors() {
        let location = SourceLocation(file: "haproxy.cfg", line: 3)
        let (value, warning) = effectiveMaxConn(configured: 10000, fileDescriptorLimit: 20000, location: location)
        #expect(value == 9950)
        #expect(
            warning?.description
                == "[WARNING] parsing [haproxy.cfg:3] : maxconn 10000 needs about 20100 file descriptors "
                + "(2 per connection + 100 reserved) but the hard limit (RLIMIT_NOFILE) is 20000; capping maxconn "
                + "to 9950. To honour maxconn 10000, raise the limit to at least 20100 (ulimit -n 20100, or "
                + "LimitNOFILE=20100 in the systemd unit) or lower maxconn to 9950.")
    }

    @Test func seedConfigurationUnderTwentyThousandDescriptors() throws {
        let config = BalancerConfig.parse(try SeedFixture.text(), fileName: "haproxy.cfg").config
        let (value, warning) = config.effectiveGlobalMaxConn(fileDescriptorLimit: 20000)
        #expect(value == 9950)
        #expect(warning?.severity == .warning)
        #expect(warning?.location == SourceLocation(file: "haproxy.cfg", line: 3))
        #expect(warning?.message.contains("maxconn 10000") == true)
        #expect(warning?.message.contains("20000") == true)
        #expect(config.effectiveGlobalMaxConn(fileDescriptorLimit: 1_048_576).0 == 10000)
    }

    @Test func largeConfigurationsReserveMoreDescriptors() {
        var text = "global\n    maxconn 10000\nfrontend f\n"
        for port in 10000..<10150 { text += "    bind :\(port)\n" }
        text += "    default_backend b\nbackend b\n"
        for index in 0..<50 { text += "    server s\(index) 10.0.0.\(index + 1):80 check\n" }
        let config = parse(text).config
        #expect(config.reservedDescriptors == 150 + 50 + 16)
        let (value, warning) = config.effectiveGlobalMaxConn(fileDescriptorLimit: 20000)
        #expect(value == (20000 - 216) / 2)
        #expect(warning?.message.contains("2 per connection + 216 reserved") == true)
    }

    @Test func maxConnThatFitsIsKept() {
        let (value, warning) = effectiveMaxConn(configured: 10000, fileDescriptorLimit: 1_048_576)
        #expect(value == 10000)
        #expect(warning == nil)
        let (exact, none) = effectiveMaxConn(configured: 9950, fileDescriptorLimit: 20000)
        #expect(exact == 9950)
        #expect(none == nil)
    }

    @Test func tinyAndUnlimitedLimits() {
        let (tiny, warning) = effectiveMaxConn(configured: 10, fileDescriptorLimit: 50)
        #expect(tiny == 1)
        #expect(warning?.severity == .warning)
        let (huge, noWarning) = effectiveMaxConn(configured: Int.max, fileDescriptorLimit: Int.max)
        #expect(huge == (Int.max - 100) / 2)
        #expect(noWarning != nil)
        let (derived, silent) = effectiveMaxConn(configured: nil, fileDescriptorLimit: 20000)
        #expect(derived == 9950)
        #expect(silent == nil)
    }
}
