import Testing
import VRRPCore

@Suite struct ScriptCheckStateTests {
    /// The seed's chk_haproxy: interval 2, fall 3, rise 2.
    @Test func seedScriptNeedsThreeFailuresAndTwoSuccesses() {
        var script = ScriptCheckState(rise: 2, fall: 3)
        #expect(script.isUp == nil)
        #expect(script.record(success: true) == true)  // one success is enough at start
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: false) == false)  // third failure in a row: 6 s at interval 2
        #expect(script.isUp == false)
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: true) == nil)
        #expect(script.record(success: true) == true)  // second success in a row
        #expect(script.isUp == true)
    }

    @Test func aSuccessInBetweenResetsTheFallCount() {
        var script = ScriptCheckState(rise: 2, fall: 3)
        _ = script.record(success: true)
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: true) == nil)
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: false) == false)
    }

    @Test func aFailureInBetweenResetsTheRiseCount() {
        var script = ScriptCheckState(rise: 3, fall: 1, initFail: true)
        #expect(script.isUp == false)
        #expect(script.record(success: true) == nil)
        #expect(script.record(success: true) == nil)
        #expect(script.record(success: false) == nil)
        #expect(script.record(success: true) == nil)
        #expect(script.record(success: true) == nil)
        #expect(script.record(success: true) == true)
    }

    @Test func firstFailureOfANewScriptReportsDownAtOnce() {
        var script = ScriptCheckState(rise: 2, fall: 3)
        #expect(script.record(success: false) == false)
        #expect(script.record(success: true) == nil)
        #expect(script.record(success: true) == true)
    }
}
