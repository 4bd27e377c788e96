import Testing

@testable import ModbusBridge

@Suite("Access rules")
struct AccessRulesTests {
    let meter = AccessRules(functions: [3, 4, 6, 16], writableCoils: [], writableRegisters: [0x1000..<0x1010])

    /// The data of a request: big-endian words.
    func words(_ values: Int...) -> ArraySlice<UInt8> {
        ArraySlice(values.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
    }

    @Test("a function the firmware does not implement is refused with exception 01, reads included")
    func unimplemented() {
        #expect(meter.refusal(function: 0x05, data: words(0, 0xFF00)) == .illegalFunction)
        #expect(meter.refusal(function: 0x01, data: words(0, 1)) == .illegalFunction)
        #expect(meter.refusal(function: 0x2B, data: []) == .illegalFunction)
    }

    @Test("reads are left to the bank")
    func reads() {
        #expect(meter.refusal(function: 0x03, data: words(0x48, 2)) == nil)
        #expect(meter.refusal(function: 0x04, data: words(0xFFFF, 125)) == nil)
    }

    @Test("a write outside the writable registers is refused with exception 02, one inside accepted")
    func writes() {
        #expect(meter.refusal(function: 0x06, data: words(0x0034, 0)) == .illegalDataAddress)
        #expect(meter.refusal(function: 0x06, data: words(0x1000, 7)) == nil)
        #expect(meter.refusal(function: 0x10, data: words(0x100E, 2) + [4] + words(1, 2)) == nil)
        // Straddling the end of the writable range.
        #expect(meter.refusal(function: 0x10, data: words(0x100F, 2) + [4] + words(1, 2)) == .illegalDataAddress)
    }

    @Test("the write half of function 23 is checked")
    func readWrite() {
        let rules = AccessRules(functions: [23], writableCoils: [], writableRegisters: [0x1000..<0x1010])
        #expect(
            rules.refusal(function: 0x17, data: words(0x0000, 4, 0x0034, 1) + [2] + words(9)) == .illegalDataAddress
        )
        #expect(rules.refusal(function: 0x17, data: words(0x0034, 4, 0x1000, 1) + [2] + words(9)) == nil)
    }

    @Test("a write whose quantity or data is out of range is left to libmodbus, which answers exception 03")
    func malformed() {
        #expect(WriteTarget(function: 0x10, data: words(0x0034, 0)) == nil)
        #expect(WriteTarget(function: 0x10, data: words(0x0034, 124)) == nil)
        #expect(WriteTarget(function: 0x0F, data: words(0, 0x7B1)) == nil)
        #expect(WriteTarget(function: 0x06, data: [0x00]) == nil)
        #expect(WriteTarget(function: 0x17, data: words(0, 1, 0)) == nil)
    }

    @Test("write targets are read from the request")
    func targets() throws {
        func target(_ function: UInt8, _ data: ArraySlice<UInt8>) throws -> (Bool, Int, Int) {
            let target = try #require(WriteTarget(function: function, data: data))
            return (target.coils, target.first, target.end)
        }
        #expect(try target(0x05, words(7, 0xFF00)) == (true, 7, 8))
        #expect(try target(0x0F, words(7, 10) + [2, 0, 0]) == (true, 7, 17))
        #expect(try target(0x16, words(9, 0, 0)) == (false, 9, 10))
        #expect(try target(0x10, words(0xFFFF, 1) + [2, 0, 0]) == (false, 0xFFFF, 0x10000))
    }

    @Test("an unrestricted bank refuses nothing; a read-only one every write")
    func presets() {
        #expect(AccessRules.unrestricted.refusal(function: 0x10, data: words(0xFFFF, 1) + [2, 0, 0]) == nil)
        let readOnly = AccessRules.readOnly(functions: nil)
        #expect(readOnly.refusal(function: 0x05, data: words(0, 0xFF00)) == .illegalDataAddress)
        #expect(readOnly.refusal(function: 0x03, data: words(0, 1)) == nil)
    }
}
